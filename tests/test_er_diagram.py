"""The diagram of the tables in docs/data-dictionary.md is the one scripts/er_diagram.py draws from
vocabulary.py, and the references it draws are the ones the dbt rules check."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from synth_spark.vocabulary import REFERENCES

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("er_diagram", ROOT / "scripts" / "er_diagram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_data_dictionarys_diagram_is_drawn_from_the_vocabulary():
    er = _script()
    page = (ROOT / "docs" / "data-dictionary.md").read_text()
    assert er.on_the_page(page) == er.block(), (
        "docs/data-dictionary.md: run python scripts/er_diagram.py --write"
    )


def test_every_reference_drawn_is_a_rule_of_check_and_every_rule_is_drawn():
    models = "".join(
        p.read_text() for p in (ROOT / "src/synth_spark/checks/dbt_project/models").glob("*.yml")
    )
    checked = {
        (child, column, parent)
        for child, column, parent in re.findall(r"name: (\w+?)__(\w+?)__fk_(\w+)", models)
    }
    drawn = {(child, column, parent) for child, refs in REFERENCES.items() for column, parent in refs.items()}
    assert drawn == checked


def test_the_references_a_run_checks_as_it_writes_are_among_them():
    from synth_spark.job.keys import FOREIGN_KEYS

    assert all(REFERENCES[t][c] == p for t, refs in FOREIGN_KEYS.items() for c, p in refs.items())
