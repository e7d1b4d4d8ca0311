"""The shape of the package: the simulation, publishing and the command line import without Spark;
each wing imports only the wings below it, and no module imports another that imports it back,
counting the imports made inside functions."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import synth_spark

PACKAGE = Path(synth_spark.__file__).parent
WITHOUT_SPARK = [
    "synth_spark.vocabulary",
    "synth_spark.config",
    "synth_spark.manifest",
    "synth_spark.failures",
    *(f"synth_spark.simulation.{p.stem}" for p in sorted((PACKAGE / "simulation").glob("*.py"))),
    *(f"synth_spark.publish.{p.stem}" for p in sorted((PACKAGE / "publish").glob("*.py"))),
    # the command line and the dbt checks run without pyspark (it is the "spark" extra)
    "synth_spark.cli",
    "synth_spark.commands",
    "synth_spark.grammar",
    "synth_spark.request",
    "synth_spark.benchmark_commands",
    "synth_spark.config_commands",
    "synth_spark.plan_command",
    "synth_spark.sizing",
    *(f"synth_spark.benchmark.{p.stem}" for p in sorted((PACKAGE / "benchmark").glob("*.py"))),
    "synth_spark.checking",
    "synth_spark.checks.dbt",
    "synth_spark.runtime.connect",
    "synth_spark.runtime.data_settings",
]


def test_the_simulation_imports_without_pyspark():
    code = (
        "import sys; sys.modules['pyspark'] = None\n"  # any import of pyspark now fails
        + "".join(f"import {m}\n" for m in WITHOUT_SPARK)
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _house():
    """scripts/house.py: the import graph, imports inside functions included."""
    spec = importlib.util.spec_from_file_location("house", Path(__file__).parents[1] / "scripts" / "house.py")
    house = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(house)
    return house


HOUSE = _house()
GRAPH = HOUSE.import_graph(PACKAGE)
#: the pieces every wing may use: names, settings, the manifest, errors, progress and results
BASE = {
    "vocabulary",
    "failures",
    "config",
    "manifest",
    "column_notes",
    "extras",
    "progress",
    "outcome",
    "continuation",
}
#: what each wing may import besides itself and BASE; the commands (cli, commands, grammar, api,
#: checking, options, request, changes_options, the settings' and the plan's commands with the
#: plan's sizing model, and the package's own __init__) sit on top and may import any wing
WINGS = {
    "simulation": set(),
    "runtime": set(),
    "publish": set(),
    "job": {"simulation", "runtime", "publish"},
    "validation": {"runtime", "publish"},
    "checks": {"runtime", "publish"},
    # the KPI cube reads the dataset's files with DuckDB, as the checks do
    "benchmark": {"checks", "publish"},
}
COMMANDS = {
    "cli",
    "commands",
    "grammar",
    "api",
    "checking",
    "options",
    "request",
    "changes_options",
    "grammar_parts",
    "reading_grammar",
    "benchmark_commands",
    "config_commands",
    "plan_command",
    "sizing",
    "synth_spark",
}


def _wing(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_import_cycles_counting_the_imports_inside_functions():
    assert HOUSE.cycles(GRAPH) == []


#: single modules a wing may read from a wing it otherwise may not: the checks hold each charge to
#: the exchange rates it was converted at, which are a pure function of the dataset's config drawn
#: by the simulation (the rules themselves are the checks' own SQL); importing it runs its package's
#: __init__ too
READS = {"checks": {"synth_spark.simulation", "synth_spark.simulation.fx"}}


def test_each_wing_imports_only_the_wings_below_it():
    wrong = sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if _wing(m) not in COMMANDS
        and _wing(t) != _wing(m)
        and _wing(t) not in BASE | WINGS.get(_wing(m), set())
        and t not in READS.get(_wing(m), set())
    )
    assert wrong == []


def test_the_base_pieces_import_no_wing():
    wrong = sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if _wing(m) in BASE and _wing(t) not in BASE
    )
    assert wrong == []


def test_no_module_is_a_warehouse():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert max(sizes.values()) <= 420, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
