"""The seed's data-quality rules as the dbt project synth_spark/checks/dbt_project, run by ``synth-spark check``: every test
passes on a generated dataset (Parquet and CSV), each rule fails on a copy broken the way the rule
forbids, and the project's closed sets and CSV types cannot drift from synth_spark/schemas.py.
Real dbt, real DuckDB, real files."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from synth_spark import cli
from synth_spark.checks.dbt import PROJECT_DIR, dbt_vars, run_check
from synth_spark.runtime.tables import schema
from synth_spark.vocabulary import CLOSED_SETS, OUTPUT_TABLES

from .broken_copies import BrokenCopy, break_everything
from .conftest import parquet_only
from .helpers import CLI

SOURCES = PROJECT_DIR / "models" / "sources.yml"
SINGULAR = PROJECT_DIR / "tests"


def _tables() -> dict[str, dict]:
    (source,) = yaml.safe_load(SOURCES.read_text())["sources"]
    return {t["name"]: t for t in source["tables"]}


def _generic_tests(entry: dict) -> list[tuple[str, dict]]:
    """(test kind, its spec) of a table's or a column's data_tests."""
    return [next(iter(test.items())) for test in entry.get("data_tests", [])]


def _all_test_names() -> set[str]:
    names = set()
    for table in _tables().values():
        for entry in (table, *table.get("columns", [])):
            names |= {spec["name"] for _, spec in _generic_tests(entry)}
    return names | {p.stem for p in SINGULAR.glob("*.sql")}


# -- the project agrees with schemas.py ------------------------------------------------------------


def test_accepted_values_are_the_closed_sets():
    found = {}
    for name, table in _tables().items():
        for column in table.get("columns", []):
            for kind, spec in _generic_tests(column):
                if kind == "accepted_values":
                    found[(name, column["name"])] = tuple(spec["arguments"]["values"])
    assert found == CLOSED_SETS


def _duckdb_type(spark_type: str) -> str:
    simple = {
        "bigint": "BIGINT",
        "int": "INTEGER",
        "string": "VARCHAR",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMPTZ",
    }
    return simple.get(spark_type) or re.sub(r"^decimal(\(\d+,\d+\))$", r"DECIMAL\1", spark_type)


def test_csv_types_are_the_published_schemas(spark):
    tables = _tables()
    assert set(tables) == set(OUTPUT_TABLES)
    for name in OUTPUT_TABLES:
        expected = [(f.name, _duckdb_type(f.dataType.simpleString())) for f in schema(name).fields]
        assert list(tables[name]["config"]["meta"]["csv_types"].items()) == expected, name
        tested = {c["name"] for c in tables[name].get("columns", [])}
        assert tested <= set(schema(name).fieldNames()), name


def test_test_names_are_unique_and_name_their_table():
    names = []
    for name, table in _tables().items():
        for entry in (table, *table.get("columns", [])):
            for _, spec in _generic_tests(entry):
                assert spec["name"].startswith(f"{name}__"), spec["name"]
                names.append(spec["name"])
    names += [p.stem for p in SINGULAR.glob("*.sql")]
    assert len(names) == len(set(names))


# -- bad input: one line, exit 2, before dbt starts ----------------------------------------------


def _bad(argv: list[str], capsys) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("synth-spark: error: ") and "\n" not in err
    return err


def test_check_refuses_bad_input(tmp_path, small_manifest, capsys):
    assert "is not a folder" in _bad(["check", str(tmp_path / "missing")], capsys)
    assert "holds no _manifest.json" in _bad(["check", str(tmp_path)], capsys)
    assert "--format: 'orc' is not a format" in _bad(["check", str(tmp_path), "--format", "orc"], capsys)
    (tmp_path / "_manifest.json").write_text("{not json")
    assert "cannot read" in _bad(["check", str(tmp_path)], capsys)
    (tmp_path / "_manifest.json").write_text(json.dumps(parquet_only(small_manifest)))
    assert "has no csv output" in _bad(["check", str(tmp_path), "--format", "csv"], capsys)


def test_vars_come_from_the_manifest(tmp_path, small_manifest):
    assert dbt_vars_of(tmp_path, small_manifest)["window_end"] == "2025-01-01 00:00:00+00:00"
    config = json.loads(json.dumps(small_manifest["config"]))
    config["window"]["months"] = 30
    config["payments"].update(retry_days=[1, 3, 7], retry_success=[0.3, 0.3, 0.3])
    config["creators"]["plan_types"]["premium"]["share"] = 0.10
    config["creators"]["plan_types"]["studio"] = {"share": 0.05, "platform_fee": 0.15}
    v = dbt_vars_of(tmp_path, {**small_manifest, "config": config})
    assert v["window_end"] == "2025-07-01 00:00:00+00:00"
    assert v["plan_types"] == ["lite", "pro", "premium", "studio"]
    assert v["csv_paths"]["pledges"] == "csv/pledges.csv"


def dbt_vars_of(folder: Path, manifest: dict) -> dict:
    (folder / "_manifest.json").write_text(json.dumps(manifest))
    return dbt_vars(folder, "parquet")


# -- every test passes on generated data ------------------------------------------------------------


def test_all_checks_pass_on_generated_parquet(small_dataset, capsys):
    assert cli.main(["check", str(small_dataset)]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"Done\. PASS={len(_all_test_names())} WARN=0 ERROR=0", out)  # dbt's own summary
    assert f"synth-spark: {len(_all_test_names())} passed, 0 failed" in out
    # dbt's target and logs went to a temporary folder, not into the project
    assert not (PROJECT_DIR / "target").exists() and not (PROJECT_DIR / "logs").exists()


def test_all_checks_pass_on_generated_csv(small_dataset):
    result = run_check(small_dataset, "csv", out=io.StringIO())
    assert [r.name for r in result.failed] == []
    assert {r.name for r in result.results} == _all_test_names()
    assert result.passed


def test_delta_is_checked_as_of_its_latest_version(spark, small_dataset, tmp_path):
    """The Delta tables are read through their log, as a Delta reader would: rows a later commit
    changed are judged in their new state, and files the log removed are not read."""
    from delta.tables import DeltaTable

    assert run_check(small_dataset, "delta", out=io.StringIO()).passed
    copy = tmp_path / "edited"
    shutil.copytree(small_dataset / "delta", copy / "delta")
    shutil.copy(small_dataset / "_manifest.json", copy / "_manifest.json")
    pledges = DeltaTable.forPath(spark, str(copy / "delta" / "pledges"))
    first = (
        spark.read.format("delta").load(str(copy / "delta" / "pledges")).agg({"pledge_id": "min"}).first()[0]
    )
    pledges.update(
        f"pledge_id = {first}", {"pledge_status": "'frozen'"}
    )  # a new commit; the old file stays on disk
    result = run_check(copy, "delta", select="pledges__pledge_status__accepted_values", out=io.StringIO())
    assert {r.name: r.failures for r in result.failed} == {"pledges__pledge_status__accepted_values": 1}


# -- each rule bites ----------------------------------------------------------------------------------


def test_each_rule_fails_on_data_that_breaks_it(small_dataset, tmp_path):
    copy = BrokenCopy(small_dataset, tmp_path / "broken")
    expect = break_everything(copy)
    result = run_check(copy.write(), "parquet", out=io.StringIO())
    failed = {r.name: r.failures for r in result.failed}
    assert set(failed) == set(expect), {
        "missed": set(expect) - set(failed),
        "unexpected": set(failed) - set(expect),
    }
    assert all(result.status(name) == "fail" for name in expect)  # failed on rows, not with an error
    assert not result.passed and result.dbt_exit_code == 1


def test_check_exits_1_on_failures(small_dataset, tmp_path, capsys):
    copy = BrokenCopy(small_dataset, tmp_path / "broken")
    copy["pledges"].loc[0, "pledge_status"] = "frozen"
    dataset = copy.write()
    assert cli.main(["check", str(dataset), "--select", "pledges__pledge_status__accepted_values"]) == 1
    out = capsys.readouterr().out
    assert "FAIL 1 pledges__pledge_status__accepted_values" in out  # dbt's own result line
    assert "synth-spark: 0 passed, 1 failed" in out


def test_an_installed_wheel_runs_check_without_the_source_tree(small_dataset, tmp_path):
    """``pip install synth-spark`` (no checkout beside it) gives a working ``synth-spark check``: the
    dbt project ships inside the package. The wheel is built from this tree and installed, not
    editable, into a folder of its own; its dependencies are this environment's."""
    root = Path(__file__).resolve().parents[1]
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "cwd"
    elsewhere.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(root)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("synth_spark-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import synth_spark; print(synth_spark.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(target)), where
    done = subprocess.run(
        [*CLI, "check", str(small_dataset), "--select", "source:synth.tiers"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"PASS=\d+ WARN=0 ERROR=0", done.stdout), done.stdout[-2000:]
