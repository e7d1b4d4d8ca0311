"""``synth-spark plan`` says what a generate with the same options writes and costs, without running
it: its rows are the real run's within a few percent, its bytes within the model's 30%, it refuses
what generate refuses, and it writes nothing."""

from __future__ import annotations

import json

import pytest

from synth_spark.cli import main

from .conftest import SMALL_SCALE, SMALL_SEED
from .helpers import assert_refused, read_manifest, run_main

#: the tables the plan draws itself, whose rows it knows exactly
EXACT = ("creators", "tiers", "anomalies")


def _plan(capsys, *args: str) -> dict:
    assert main(["plan", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _on_disk(dataset, manifest) -> dict[str, int]:
    out: dict[str, int] = {}
    for entry in manifest["tables"].values():
        for fmt, rel in entry["paths"].items():
            path = dataset / rel
            files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
            out[fmt] = out.get(fmt, 0) + sum(f.stat().st_size for f in files)
    return out


def test_the_plan_gives_the_rows_and_bytes_a_generate_with_the_same_options_writes(capsys, small_dataset):
    every = ("viral_spike", "payment_outage", "holiday_churn", "creator_exodus", "category_collapse")
    on = [f"--set=anomalies.{name}.enabled=true" for name in every]  # as the small dataset was made
    plan = _plan(capsys, "--scale", str(SMALL_SCALE), "--seed", str(SMALL_SEED), *on)
    manifest = read_manifest(small_dataset)
    actual = {t: e["rows"] for t, e in manifest["tables"].items()}
    assert list(plan["rows"]) == list(actual)
    assert {t: plan["rows"][t] for t in EXACT} == {t: actual[t] for t in EXACT}
    for table, rows in actual.items():  # 50 creators: a table's own sampling is a few percent
        assert abs(plan["rows"][table] / rows - 1) <= 0.15, (table, plan["rows"][table], rows)
    assert abs(sum(plan["rows"].values()) / sum(actual.values()) - 1) <= 0.05
    for fmt, size in _on_disk(small_dataset, manifest).items():
        planned = sum(per[fmt] for per in plan["bytes"].values())
        assert abs(planned / size - 1) <= 0.30, (fmt, planned, size)


def test_the_plan_uses_the_tasks_generate_would_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "not-yet"
    plan = _plan(capsys, str(out), "--scale", "1", "--master", "local[3]")
    assert plan["cores"] == 3 and plan["tasks"] == 3 and plan["formats"] == ["parquet", "csv", "delta"]
    assert _plan(capsys, "--scale", "1", "--partitions", "5")["tasks"] == 5
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert main(["plan", str(out), "--scale", "1", "--format", "parquet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "synth-spark plan: generate at scale 1, seed 42, parquet; nothing is written"
    assert any(line.startswith("  time: about ") for line in lines)
    assert any(
        line.startswith("  DATASET's disk: ") and line.endswith(" free, room for them") for line in lines
    )


def test_more_creators_more_of_everything(capsys):
    small, large = (_plan(capsys, "--scale", s, "--format", "parquet") for s in ("1", "10"))
    for key in ("seconds", "memory_gib"):
        assert large[key] >= small[key]
    for table in small["rows"]:
        if table != "anomalies":
            assert 8 <= large["rows"][table] / small["rows"][table] <= 12, table


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--scale", "0"], ("--scale",)),
        (["--format", "orc"], ("--format", "'orc' is not a format")),
        (["--partitions", "0"], ("--partitions",)),
        (["--set", "anomalies.viral_spike.creator_id=999999"], ("viral_spike.creator_id",)),
    ],
)
def test_the_plan_refuses_what_generate_refuses(capsys, args, expected):
    assert_refused(*run_main(capsys, "plan", *args), *expected)
