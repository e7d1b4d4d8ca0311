"""scripts/bench.py end to end at a tiny scale, in its own process (its own local Spark, its own process tree):
every stage reported, the floor (and dbldatagen, when installed) writing exactly synth-spark's tables, row
counts and column types, ratios and memory figures present."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "scripts" / "bench.py"
HAVE_DBLDATAGEN = importlib.util.find_spec("dbldatagen") is not None


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parquet_table(path: Path) -> tuple[int, list[tuple[str, str]]]:
    import pyarrow.dataset as ds

    d = ds.dataset(str(path), format="parquet")
    return d.count_rows(), [(f.name, str(f.type)) for f in d.schema]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out"
    skip = [] if HAVE_DBLDATAGEN else ["--skip", "dbldatagen"]
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--scale",
            "0.02",
            "--out",
            str(out),
            "--partitions",
            "2",
            "--profile",
            "--scenarios",
            "2",
            "--no-warmup",  # the warm-up is these stages once more at this very scale: CI time for nothing
            *skip,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, json.loads((out / "bench.json").read_text()), done.stdout


def test_every_stage_is_reported(bench_run):
    out, report, stdout = bench_run
    assert set(report["stages"]) == {"synth-spark", "floor", "dbldatagen"}
    assert report["stages"]["synth-spark"]["status"] == "ok"
    assert report["stages"]["floor"]["status"] == "ok"
    assert report["stages"]["dbldatagen"]["status"] == ("ok" if HAVE_DBLDATAGEN else "skipped")
    assert report["scale"] == 0.02 and report["partitions"] == 2
    assert report["machine"]["cores"] >= 1 and report["machine"]["ram_gib"] > 0
    assert report["versions"]["pyspark"] == report["versions"]["spark"]
    assert (out / "bench.md").read_text().startswith("# Benchmark, scale 0.02")
    assert "synth-spark / floor" in stdout


def test_the_profile_takes_a_generate_apart_step_by_step(bench_run):
    from synth_spark.job.generate import SIMULATED

    out, report, _ = bench_run
    steps = {s["step"]: s for s in report["profile"]}
    for table in SIMULATED:
        for how in ("to noop (unpickle, emit, Arrow to JVM rows)", "to Parquet", "to Parquet + checksum"):
            assert steps[f"spark: {table} {how}"]["cpu"] > 0, (table, how)
    for step in (
        "driver: simulate (posts, lifecycle)",
        "driver: emit engagement_events",
        "spark: simulating pass (states kept on disk)",
        "spark: patrons (parts, totals, identity, unique emails) + checksum",
        "spark: Delta from the staged Parquet",
        "spark: CSV from the staged Parquet",
        "a fresh Python importing the executor code (per Python worker)",
    ):
        assert steps[step]["cpu"] > 0, step
    assert "| spark: transactions to Parquet + checksum |" in (out / "bench.md").read_text()
    assert not (out / "profile").exists()  # its scratch tables are gone


def test_floor_and_dbldatagen_write_synth_sparks_tables_rows_and_types(bench_run):
    from synth_spark.vocabulary import OUTPUT_TABLES

    out, report, _ = bench_run
    synth = report["stages"]["synth-spark"]
    assert set(synth["tables"]) == set(OUTPUT_TABLES)
    others = ["floor"] + (["dbldatagen"] if HAVE_DBLDATAGEN else [])
    for table in OUTPUT_TABLES:
        rows, types = parquet_table(out / "synth-spark" / "parquet" / table)
        assert rows == synth["tables"][table]["rows"]
        for stage in others:
            assert parquet_table(out / stage / table) == (rows, types), (stage, table)
            entry = report["stages"][stage]["tables"][table]
            assert entry["rows"] == rows and entry["seconds"] > 0
    assert synth["rows"] == sum(t["rows"] for t in synth["tables"].values()) > 10_000


def test_ratios_time_and_memory(bench_run):
    _, report, _ = bench_run
    stages = report["stages"]
    synth, floor = stages["synth-spark"], stages["floor"]
    assert report["ratios"]["synth-spark/floor"] == pytest.approx(
        synth["seconds"] / floor["seconds"], rel=0.02
    )
    if HAVE_DBLDATAGEN:
        dbl = stages["dbldatagen"]
        assert report["ratios"]["synth-spark/dbldatagen"] == pytest.approx(
            synth["seconds"] / dbl["seconds"], rel=0.02
        )
    else:
        assert report["ratios"]["synth-spark/dbldatagen"] is None
    assert floor["seconds"] >= sum(t["seconds"] for t in floor["tables"].values()) - 0.05
    assert synth["rows_per_second"] > 0 and synth["steps"][0]["progress"].startswith("planning")
    assert report["ratios"]["cpu synth-spark/floor"] == pytest.approx(
        synth["cpu_seconds"] / floor["cpu_seconds"], rel=0.05
    )
    # a driver JVM is hundreds of MiB, and the Python process alone uses little CPU: the sampler must have
    # seen the descendants, not only the bench's own process
    for name, st in stages.items():
        if st["status"] == "ok":
            assert 200 < st["peak_rss_mib"] <= report["peak_rss_mib"], name
            assert st["cpu_seconds"] > 0.5, name
    assert report["memory_sampling"]["samples"] >= 3


def test_column_plan_covers_every_column_and_foreign_key(spark):  # schemas.py's DDL is parsed by Spark
    from synth_spark.vocabulary import OUTPUT_TABLES, columns

    bench = load_bench()
    rows = {t: 100 + i for i, t in enumerate(OUTPUT_TABLES)}
    for table in OUTPUT_TABLES:
        plan = bench.column_plan(table, rows)
        assert [name for name, _, _ in plan] == columns(table)
        assert plan[0][1] == "key"
    fk = {name: p["parent"] for name, kind, p in bench.column_plan("posts", rows) if kind == "int"}
    assert fk == {"creator_id": "creators", "minimum_tier_id": "tiers"}
    closed = {
        name: p["values"] for name, kind, p in bench.column_plan("transactions", rows) if kind == "string"
    }
    assert closed["transaction_status"] == ["succeeded", "failed"]


def test_missing_dbldatagen_is_reported_as_unavailable(monkeypatch):
    bench = load_bench()
    monkeypatch.setitem(sys.modules, "dbldatagen", None)  # makes `import dbldatagen` raise ImportError
    reason = bench.dbldatagen_unavailable()
    assert reason is not None and reason.startswith("ModuleNotFoundError") and ".[bench]" in reason


def test_placed_scenarios_are_timed_against_the_same_generate_without_them(bench_run):
    out, report, _ = bench_run
    placed = report["scenarios"]
    assert placed["instances"] == 2 and placed["seconds"] > 0 and placed["cpu_seconds"] > 0
    assert (out / "scenarios" / "_manifest.json").exists()
    assert "| 2 instances |" in (out / "bench.md").read_text()
