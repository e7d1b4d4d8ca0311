"""Snapshots and change feeds, on real Spark: the dataset as of a day, and daily change batches that
replay onto it. The law: the snapshot of day D with the batches of D+1..E applied in order is the
snapshot of day E, checksum for checksum, and the snapshot of the window's last day is the full
dataset."""

from __future__ import annotations

import datetime as dt
import json
from functools import reduce

import pytest
from pyspark.sql import functions as F

from synth_spark.cli import main
from synth_spark.config import ConfigError
from synth_spark.continuation import check_continues, config_digest
from synth_spark.job.as_of import KEYS
from synth_spark.job.changes import BATCH_DATE, CHANGE_TYPE, COMMIT_TIMESTAMP, change_schema, replay
from synth_spark.runtime.tables import checksum
from synth_spark.vocabulary import OUTPUT_TABLES, TABLE_ORDER

from .conftest import LAST_DAY, SMALL_SCALE, SMALL_SEED, SNAPSHOT_DAY
from .helpers import read_manifest

SNAPSHOT_DAY, LAST_DAY = dt.date.fromisoformat(SNAPSHOT_DAY), dt.date.fromisoformat(LAST_DAY)


def _manifest(folder) -> dict:
    return read_manifest(folder)


def _batches(spark, feed, table):
    return spark.read.schema(change_schema(table)).parquet(str(feed / "parquet" / table))


def test_the_snapshot_of_the_last_day_is_the_full_dataset(snapshots, small_manifest):
    last = _manifest(snapshots[dt.date(2024, 12, 31)])
    assert last["as_of"] == "2024-12-31"
    for table in OUTPUT_TABLES:
        assert last["tables"][table]["checksum"] == small_manifest["tables"][table]["checksum"], table


def test_a_snapshot_holds_only_what_existed_by_the_end_of_its_day(spark, snapshots):
    folder = snapshots[SNAPSHOT_DAY]
    end = dt.datetime(2024, 1, 28, tzinfo=dt.timezone.utc)
    for table, column in (
        ("transactions", "transaction_at"),
        ("posts", "published_at"),
        ("pledges", "started_at"),
        ("engagement_events", "event_at"),
        ("creators", "created_at"),
        ("tiers", "created_at"),
    ):
        df = spark.read.parquet(str(folder / "parquet" / table))
        assert df.where(F.col(column) >= F.lit(end)).count() == 0, table
    pledges = spark.read.parquet(str(folder / "parquet" / "pledges"))
    # a pledge that ends later shows no end yet, and runs
    assert pledges.where(F.col("ended_at") >= F.lit(end)).count() == 0
    assert pledges.where((F.col("pledge_status") == "churned") != F.col("ended_at").isNotNull()).count() == 0


def test_snapshot_plus_daily_batches_is_the_later_snapshot(spark, snapshots, feed):
    start, target = _manifest(snapshots[SNAPSHOT_DAY]), _manifest(snapshots[LAST_DAY])
    for table in TABLE_ORDER:
        before = spark.read.parquet(str(snapshots[SNAPSHOT_DAY] / "parquet" / table))
        after = replay(before, _batches(spark, feed, table), table)
        assert checksum(after) == (target["tables"][table]["rows"], target["tables"][table]["checksum"]), (
            table
        )
        # and the batches did something: the snapshots differ
        assert start["tables"][table]["checksum"] != target["tables"][table]["checksum"] or table == "tiers"


def test_one_row_per_key_and_day_each_a_real_change(spark, snapshots, feed):
    for table in TABLE_ORDER:
        b = _batches(spark, feed, table)
        assert b.groupBy(KEYS[table], BATCH_DATE).count().where(F.col("count") > 1).count() == 0, table
        assert b.where(~F.col(CHANGE_TYPE).isin("insert", "update_postimage")).count() == 0
        # a change happens on its batch's day
        day = F.date_format(F.col(COMMIT_TIMESTAMP), "yyyy-MM-dd")
        assert b.where(day != F.col(BATCH_DATE)).count() == 0, table
    # append-only tables only ever insert
    for table in ("transactions", "posts", "engagement_events"):
        assert _batches(spark, feed, table).where(F.col(CHANGE_TYPE) != "insert").count() == 0
    # a pledge updated on a day existed the day before; one inserted did not
    pledges = _batches(spark, feed, "pledges")
    assert pledges.where(F.col(CHANGE_TYPE) == "update_postimage").count() > 0
    first = spark.read.parquet(str(snapshots[SNAPSHOT_DAY] / "parquet" / "pledges")).select("pledge_id")
    inserted = pledges.where(F.col(CHANGE_TYPE) == "insert")
    assert inserted.join(first, "pledge_id").count() == 0


def test_every_day_has_a_batch_and_the_manifest_counts_them(spark, feed):
    m = _manifest(feed)
    assert m["kind"] == "changes" and m["from"] == "2024-01-28" and m["to"] == "2024-02-16"
    for table in TABLE_ORDER:
        days = m["tables"][table]["days"]
        assert len(days) == 20
        for day, stats in days.items():
            assert (feed / "parquet" / table / f"{BATCH_DATE}={day}").is_dir()
            assert stats["rows"] == stats["insert"] + stats["update_postimage"] + stats["delete"]
        counted = _batches(spark, feed, table).groupBy(BATCH_DATE).count().collect()
        assert {r[BATCH_DATE]: r["count"] for r in counted} == {
            d: s["rows"] for d, s in days.items() if s["rows"]
        }


def test_a_days_batch_is_the_same_alone_or_in_a_range_on_other_partitions(
    small_config, feed, tmp_path, capsys
):
    """Also the older form of the command (the settings given, not read from a snapshot): still run,
    with one note, its batches naming the day and settings they continue."""
    day = "2024-02-01"
    assert (
        main(
            [
                "changes",
                "--out",
                str(tmp_path),
                "--from",
                day,
                "--to",
                day,
                "--scale",
                str(SMALL_SCALE),
                "--seed",
                str(SMALL_SEED),
                "--partitions",
                "3",
                "--format",
                "parquet",
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().err.count("with --seed/--scale/--config is the older form") == 1
    alone, ranged = _manifest(tmp_path / "changes"), _manifest(feed)
    for table in TABLE_ORDER:
        assert alone["tables"][table]["days"][day] == ranged["tables"][table]["days"][day]
    assert alone["continues"] == {
        "as_of": "2024-01-31",
        "seed": SMALL_SEED,
        "scale": SMALL_SCALE,
        "config_sha256": config_digest(small_config),
    }


def test_changes_continue_their_snapshot_and_name_it(snapshots, feed, tmp_path, capsys):
    """changes SNAPSHOT takes the snapshot's seed, scale, config and day from its manifest: no option
    repeats them. Its batches are those of the same days cut from the same settings, and its manifest
    names the snapshot, so that the batches are refused beside any other dataset."""
    snapshot, last = snapshots[SNAPSHOT_DAY], SNAPSHOT_DAY + dt.timedelta(days=3)
    assert (
        main(
            [
                "changes",
                str(snapshot),
                "--to",
                last.isoformat(),
                "--out",
                str(tmp_path),
                "--format",
                "parquet",
                "--partitions",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert "older form" not in capsys.readouterr().err
    ours, ranged, snapped = _manifest(tmp_path / "changes"), _manifest(feed), _manifest(snapshot)
    assert (ours["from"], ours["to"]) == ("2024-01-28", "2024-01-30")
    assert (ours["seed"], ours["scale"]) == (SMALL_SEED, SMALL_SCALE)
    for table in TABLE_ORDER:
        days = ours["tables"][table]["days"]
        assert days == {d: ranged["tables"][table]["days"][d] for d in days}
    assert ours["continues"]["as_of"] == "2024-01-27" and ours["continues"]["run_id"] == snapped["run_id"]
    assert ours["continues"]["checksums"] == {t: e["checksum"] for t, e in snapped["tables"].items()}
    check_continues(snapshot, tmp_path / "changes")
    check_continues(snapshot, feed)  # the older form's batches: the same day and settings
    with pytest.raises(ConfigError, match="continue the snapshot of 2024-01-27, and .* is as of 2024-02-16"):
        check_continues(snapshots[LAST_DAY], tmp_path / "changes")
    for change, refusal in [
        (("tables", "pledges", "checksum"), "its pledges had checksum"),
        (("config", "seed"), "continue another dataset .seed 11"),
    ]:
        other = json.loads(json.dumps(snapped))
        *where, key = change
        reduce(dict.__getitem__, where, other)[key] = 12 if key == "seed" else "0" * 16
        (tmp_path / "other").mkdir(exist_ok=True)
        (tmp_path / "other" / "_manifest.json").write_text(json.dumps(other))
        with pytest.raises(ConfigError, match=refusal):
            check_continues(tmp_path / "other", tmp_path / "changes")


def test_the_library_writes_the_same_batches_and_leaves_the_session_as_it_was(
    spark, snapshots, feed, tmp_path
):
    """synth_spark.changes is the command's request and run: the same days, counted the same, and
    the caller's session settings unchanged after."""
    import synth_spark

    before = dict(spark.conf.getAll)
    done = synth_spark.changes(
        spark, snapshots[SNAPSHOT_DAY], "2024-01-29", out=tmp_path, formats="parquet", partitions=2
    )
    assert dict(spark.conf.getAll) == before
    ours, ranged = _manifest(tmp_path / "changes"), _manifest(feed)
    assert done.code == 0 and done.document["feed"] == str(tmp_path / "changes")
    assert (done.document["first"], done.document["last"]) == ("2024-01-28", "2024-01-29")
    for table in TABLE_ORDER:
        days = ours["tables"][table]["days"]
        assert (
            days
            == {d: ranged["tables"][table]["days"][d] for d in days}
            == done.document["tables"][table]["days"]
        )
    with pytest.raises(ConfigError, match=r"^to: 2024-01-20 is not after the snapshot's day 2024-01-27"):
        synth_spark.changes(spark, snapshots[SNAPSHOT_DAY], dt.date(2024, 1, 20), out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2022-12-31", "--to", "2023-01-05"], "--from: 2022-12-31 is outside the window"),
        (["--from", "2024-02-10", "--to", "2024-02-01"], "--from: 2024-02-10 is after --to 2024-02-01"),
        (["--from", "2024-02-30", "--to", "2024-03-01"], "--from: '2024-02-30' is not a day"),
        (["--from", "2024-02-01"], "--to"),
        (
            ["--from", "2024-02-01", "--to", "2024-02-02", "--set", "scenarios.data_incidents=true"],
            "a change feed is the platform's own database",
        ),
    ],
)
def test_changes_refuses_bad_days_in_one_line(tmp_path, capsys, args, message):
    assert main(["changes", "--out", str(tmp_path / "feed"), "--scale", "0.05", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "feed").exists()


def test_generate_refuses_an_as_of_outside_the_window(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "out"), "--scale", "0.05", "--as-of", "2025-01-01"]) == 2
    assert (
        "--as-of: 2025-01-01 is outside the window; give a day from 2023-01-01 to 2024-12-31"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_validate_refuses_a_snapshot_and_verify_refuses_a_change_feed(snapshots, feed, capsys):
    assert main(["validate", str(snapshots[SNAPSHOT_DAY])]) == 2
    assert "is a snapshot as of 2024-01-27; validate judges the whole window" in capsys.readouterr().err
    assert main(["verify", str(feed)]) == 2
    assert "holds daily change batches (synth-spark changes), not a dataset" in capsys.readouterr().err
