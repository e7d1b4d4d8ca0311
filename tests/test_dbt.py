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
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from synth_spark import cli
from synth_spark.checks.dbt import PROJECT_DIR, dbt_vars, run_check
from synth_spark.runtime.tables import schema
from synth_spark.vocabulary import CLOSED_SETS, OUTPUT_TABLES

from .conftest import parquet_only

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
    simple = {"bigint": "BIGINT", "int": "INTEGER", "string": "VARCHAR", "boolean": "BOOLEAN", "timestamp": "TIMESTAMPTZ"}
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
    first = spark.read.format("delta").load(str(copy / "delta" / "pledges")).agg({"pledge_id": "min"}).first()[0]
    pledges.update(f"pledge_id = {first}", {"pledge_status": "'frozen'"})  # a new commit; the old file stays on disk
    result = run_check(copy, "delta", select="pledges__pledge_status__accepted_values", out=io.StringIO())
    assert {r.name: r.failures for r in result.failed} == {"pledges__pledge_status__accepted_values": 1}


# -- each rule bites ----------------------------------------------------------------------------------

class BrokenCopy:
    """A copy of a dataset's Parquet tables (links to the originals until a table is rewritten)."""

    def __init__(self, src: Path, dst: Path):
        self.src, self.dst = src, dst
        (dst / "parquet").mkdir(parents=True)
        shutil.copy(src / "_manifest.json", dst / "_manifest.json")
        for table in OUTPUT_TABLES:
            (dst / "parquet" / table).symlink_to(src / "parquet" / table, target_is_directory=True)
        self.frames: dict[str, pd.DataFrame] = {}
        self.schemas: dict[str, pa.Schema] = {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self.frames:
            arrow = pq.read_table(self.src / "parquet" / table)
            self.schemas[table] = arrow.schema
            self.frames[table] = arrow.to_pandas().sort_values(arrow.schema.names[0], ignore_index=True)
        return self.frames[table]

    def write(self) -> Path:
        for table, df in self.frames.items():
            folder = self.dst / "parquet" / table
            folder.unlink()
            folder.mkdir()
            pq.write_table(pa.Table.from_pandas(df, schema=self.schemas[table], preserve_index=False),
                           folder / "part-00000.parquet")
        return self.dst


def _pick(rows: pd.DataFrame, taken: set) -> int:
    """Index of the first row not already corrupted."""
    free = rows.index.difference(list(taken))
    assert len(free), "no row fits this corruption"
    taken.add(free[0])
    return free[0]


def _break_everything(copy: BrokenCopy) -> dict[str, str]:
    """Corrupt one row per rule, each where no other rule sees it; return the dbt tests that must
    fail, with what was broken."""
    hour, day = pd.Timedelta(hours=1), pd.Timedelta(days=1)
    window_end = pd.Timestamp("2025-01-01", tz="UTC")
    pl, tr, ev = copy["pledges"], copy["transactions"], copy["engagement_events"]
    po, pa_, cr = copy["posts"], copy["patrons"], copy["creators"]
    used_tr, used_pl, used_po = set(), set(), set()
    expect = {}

    # orphan foreign key: a transaction of a pledge that does not exist
    i = _pick(tr, used_tr)
    tr.loc[i, "pledge_id"] = 999_999_999_999
    expect["transactions__pledge_id__fk_pledges"] = "transaction of a missing pledge"
    expect["transactions__pledge_patron_creator__match_pledge"] = "(same row: no pledge to match)"

    # a date past the window's end: a charge of a running pledge on the day after the window
    running = pl.loc[pl.ended_at.isna() & pl.pause_started_at.isna(), "pledge_id"]
    i = _pick(tr[tr.pledge_id.isin(running)], used_tr)
    tr.loc[i, "transaction_at"] = window_end + day
    expect["transactions__transaction_at__before_window_end"] = "transaction after the window's end"

    # a negative amount, on a declined attempt (no fees, not in anyone's spend)
    i = _pick(tr[tr.transaction_status == "failed"], used_tr)
    tr.loc[i, "gross_amount_usd"] = -tr.loc[i, "gross_amount_usd"]
    expect["transactions__gross_amount_usd__positive"] = "negative gross amount"
    expect["transactions__gross_amount_usd__is_a_tier_price"] = "(same row: no tier costs a negative price)"

    # fees and net inconsistent with gross
    i = _pick(tr[tr.transaction_status == "succeeded"], used_tr)
    tr.loc[i, "net_amount_usd"] += Decimal("0.01")
    expect["transactions__net_amount_usd__gross_minus_fees"] = "net != gross - fees"

    # a retry an hour after its pledge ended: billing ends with the pledge
    ended = pl.loc[pl.ended_at < window_end - 30 * day, ["pledge_id", "ended_at"]]
    i = _pick(tr[tr.pledge_id.isin(ended.pledge_id) & (tr.transaction_type == "retry")], used_tr)
    tr.loc[i, "transaction_at"] = ended.set_index("pledge_id").ended_at[tr.loc[i, "pledge_id"]] + hour
    expect["transactions__transaction_at__within_pledge_life"] = "retry an hour after its pledge ended"

    # an unknown status, on an active pledge of a patron with another active pledge
    active = pl[pl.pledge_status == "active"]
    i = _pick(active[active.patron_id.duplicated(keep=False)], used_pl)
    pl.loc[i, "pledge_status"] = "frozen"
    expect["pledges__pledge_status__accepted_values"] = "pledge_status 'frozen'"

    # out of order: a pledge that ends before it starts (one without engagement, charged in its first days only)
    last_charge = tr.groupby("pledge_id").transaction_at.max()
    quiet = pl[pl.ended_at.notna() & pl.pause_started_at.isna() & ~pl.pledge_id.isin(_pledge_ids_of(ev, pl))
               & (pl.pledge_id.map(last_charge) < pl.started_at + 10 * day)]
    i = _pick(quiet, used_pl)
    pl.loc[i, "ended_at"] = pl.loc[i, "started_at"] - hour
    expect["pledges__started_at__not_after_ended_at"] = "pledge ended an hour before it started"

    # a comeback that starts an hour before the patron's earlier pledge to that creator ended
    pair = pl[pl.duplicated(["patron_id", "creator_id"], keep=False) & ~pl.index.isin(list(used_pl))]
    pair = pair.sort_values("started_at")
    later = pair[pair.duplicated(["patron_id", "creator_id"], keep="first")].iloc[0]
    earlier = pair[(pair.patron_id == later.patron_id) & (pair.creator_id == later.creator_id)].iloc[0]
    i = later.name
    used_pl.update({i, earlier.name})
    pl.loc[i, "started_at"] = earlier.ended_at - hour
    expect["pledges__patron_id_creator_id__one_at_a_time"] = "a comeback while the earlier pledge still ran"

    # engagement after the patron's pledge to that creator ended
    churned = pl.loc[(pl.ended_at < window_end - day) & ~pl.index.isin(list(used_pl)), ["patron_id", "creator_id", "ended_at"]]
    on_churned = ev.reset_index().merge(churned, on=["patron_id", "creator_id"]).set_index("index")
    i = on_churned.index[0]
    ev.loc[i, "event_at"] = on_churned.loc[i, "ended_at"] + hour
    expect["engagement_events__event_at__while_pledge_active"] = "event an hour after the pledge ended"

    # a duplicate primary key
    i = _pick(po, used_po)
    copy.frames["posts"] = po = pd.concat([po, po.loc[[i]]], ignore_index=True)
    expect["posts__post_id__unique"] = "post row twice"

    # an orphan nullable foreign key: a tier-locked post whose minimum tier does not exist
    i = _pick(po[po.access_level == "tier_locked"], used_po)
    po.loc[i, "minimum_tier_id"] = 999_999_999
    expect["posts__minimum_tier_id__fk_tiers"] = "post's minimum tier missing"
    expect["posts__minimum_tier_id__tier_of_same_creator"] = "(same row: no such tier of its creator)"

    # a post before its creator existed (the creator's first post of several, so last_post_at holds)
    firsts = po[po.creator_id.duplicated(keep=False)].sort_values("published_at").drop_duplicates("creator_id")
    i = _pick(firsts[~firsts.creator_id.isin(po.loc[list(used_po), "creator_id"])], used_po)
    created = cr.set_index("creator_id").created_at[po.loc[i, "creator_id"]]
    po.loc[i, "published_at"] = created - day
    expect["posts__published_at__after_creator_created"] = "post published the day before its creator was created"

    # rule 3: a patron's first_pledge_at an hour after the patron's earliest pledge
    pa_.loc[0, "first_pledge_at"] += hour
    expect["patrons__first_pledge_at__is_earliest_pledge"] = "first_pledge_at later than the earliest pledge"

    # lifetime spend that forgets a month paid before the window (a patron whose pledge began before it)
    window_start = pd.Timestamp("2023-01-01", tz="UTC")
    early = pl.loc[pl.started_at < window_start - 40 * day, ["patron_id", "pledge_amount_usd"]].drop_duplicates("patron_id")
    i = pa_.index[pa_.patron_id.isin(early.patron_id) & (pa_.index != 0)][0]
    pa_.loc[i, "lifetime_spend_usd"] -= early.set_index("patron_id").pledge_amount_usd[pa_.loc[i, "patron_id"]]
    expect["patrons__lifetime_spend_usd__matches_transactions"] = "a month paid before the window left out"

    # a tier taken off sale without saying when
    ti = copy["tiers"]
    i = ti.index[ti.is_active][0]
    ti.loc[i, "is_active"] = False
    expect["tiers__is_active__unless_archived"] = "inactive tier with no archived_at"

    # rule 4: a creator's first_pledge_received_at an hour after the earliest pledge
    i = cr.index[cr.first_pledge_received_at.notna()][0]
    cr.loc[i, "first_pledge_received_at"] += hour
    expect["creators__first_pledge_received_at__is_earliest_pledge"] = "first_pledge_received_at later than the earliest pledge"
    return expect


def _pledge_ids_of(events: pd.DataFrame, pledges: pd.DataFrame) -> pd.Series:
    """Pledges whose patron engaged with their creator (any of the pair's pledges, one at a time)."""
    return events[["patron_id", "creator_id"]].drop_duplicates().merge(pledges, on=["patron_id", "creator_id"]).pledge_id


def test_each_rule_fails_on_data_that_breaks_it(small_dataset, tmp_path):
    copy = BrokenCopy(small_dataset, tmp_path / "broken")
    expect = _break_everything(copy)
    result = run_check(copy.write(), "parquet", out=io.StringIO())
    failed = {r.name: r.failures for r in result.failed}
    assert set(failed) == set(expect), {"missed": set(expect) - set(failed), "unexpected": set(failed) - set(expect)}
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
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(root)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("synth_spark-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import synth_spark; print(synth_spark.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(target)), where
    done = subprocess.run([sys.executable, "-m", "synth_spark.cli", "check", str(small_dataset), "--select",
                           "source:synth.tiers"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"PASS=\d+ WARN=0 ERROR=0", done.stdout), done.stdout[-2000:]
