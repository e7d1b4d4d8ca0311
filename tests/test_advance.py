"""``advance`` on real Delta: a snapshot's tables moved forward one MERGE per table and day, with the
change data feed on. Time travel to a day's version is that day's snapshot; the change feed between
two days' versions holds that day's batch; a killed advance is undone before anything reads on."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from pyspark.sql import functions as F

from synth_spark.cli import main
from synth_spark.job.advance import advance, restore_interrupted
from synth_spark.job.changes import BATCH_DATE, CHANGE_TYPE, change_schema, replay
from synth_spark.job.generate import generate
from synth_spark.progress import Progress
from synth_spark.publish.dataset_folder import ADVANCING
from synth_spark.runtime.tables import checksum
from synth_spark.vocabulary import TABLE_ORDER, columns

from .helpers import read_manifest

#: the snapshot's day and the days merged onto it (the payment outage)
DAY, TO = dt.date(2024, 2, 13), dt.date(2024, 2, 16)
QUIET = Progress(quiet=True)


@pytest.fixture(scope="module")
def advanced(spark, small_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("advance") / "snapshot"
    generate(spark, small_config, out, ["delta"], partitions=2, progress=QUIET, as_of=DAY)
    before = read_manifest(out)
    after = advance(spark, out, TO, None, QUIET)
    return out, before, after


def _delta(spark, out, table, version=None):
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(str(out / "delta" / table))


def test_advanced_tables_are_the_snapshot_of_the_last_day(spark, advanced, snapshots):
    out, _, after = advanced
    assert after["as_of"] == TO.isoformat() and list(after["delta_versions"]) == [
        "2024-02-13",
        "2024-02-14",
        "2024-02-15",
        "2024-02-16",
    ]
    expected = read_manifest(snapshots[TO])["tables"]
    for table in TABLE_ORDER:
        assert checksum(_delta(spark, out, table)) == (
            expected[table]["rows"],
            expected[table]["checksum"],
        ), table
        assert after["tables"][table]["checksum"] == expected[table]["checksum"]


def test_time_travel_to_a_day_and_the_change_feed_of_a_day(spark, advanced, feed):
    out, before, after = advanced
    versions = after["delta_versions"]
    for table in ("pledges", "patrons", "transactions"):
        # the snapshot's own day is its first version
        first = _delta(spark, out, table, versions["2024-02-13"][table])
        assert checksum(first) == (before["tables"][table]["rows"], before["tables"][table]["checksum"])
        batches = spark.read.schema(change_schema(table)).parquet(str(feed / "parquet" / table))
        day = "2024-02-14"
        on_day = replay(first, batches.where(F.col(BATCH_DATE).between("2024-02-14", day)), table)
        assert checksum(_delta(spark, out, table, versions[day][table])) == checksum(on_day), table
        # readChangeFeed between the two days' versions: that day's batch, row for row
        cdf = (
            spark.read.format("delta")
            .option("readChangeFeed", "true")
            .option("startingVersion", versions["2024-02-13"][table] + 1)
            .option("endingVersion", versions[day][table])
            .load(str(out / "delta" / table))
            .where(F.col("_change_type").isin("insert", "update_postimage"))
        )
        batch = batches.where(F.col(BATCH_DATE) == day)
        assert checksum(cdf.select(*columns(table), "_change_type")) == checksum(
            batch.select(*columns(table), CHANGE_TYPE)
        )


def test_a_killed_advance_is_undone_before_anything_reads_on(spark, advanced):
    out, _, after = advanced
    path = out / "delta" / "posts"
    version = int(spark.sql(f"DESCRIBE HISTORY delta.`{path.resolve()}` LIMIT 1").first()["version"])
    (out / ADVANCING).write_text(
        json.dumps(
            {"run": after["run_id"], "from": "2024-02-16", "to": "2024-02-20", "versions": {"posts": version}}
        )
    )
    # what a killed run might have merged already
    _delta(spark, out, "posts").limit(1).write.format("delta").mode("append").save(str(path))
    restore_interrupted(spark, out, progress=lambda _: None)
    assert not (out / ADVANCING).exists()
    assert checksum(_delta(spark, out, "posts")) == (
        after["tables"]["posts"]["rows"],
        after["tables"]["posts"]["checksum"],
    )


@pytest.mark.parametrize(
    "fmt, as_of, to, message",
    [
        ("parquet", "2024-02-13", "2024-02-14", "has no Delta tables"),
        ("delta", None, "2024-02-14", "is not a snapshot (no as_of)"),
        ("delta", "2024-02-13", "2024-02-13", "--to: 2024-02-13 is not after the snapshot's day 2024-02-13"),
    ],
)
def test_advance_refuses_what_it_cannot_advance(tmp_path, capsys, fmt, as_of, to, message):
    folder = tmp_path / "ds"
    folder.mkdir()
    manifest = {
        "generator": "synth-spark",
        "formats": [fmt],
        "window": {"start": "2023-01-01", "end": "2024-12-31"},
        **({"as_of": as_of} if as_of else {}),
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest))
    assert main(["advance", str(folder), "--to", to]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


class Killed(Exception):
    """Where a real run would have been killed."""


def _killed_after_a_day(message: str) -> None:
    if message.startswith("merged "):
        raise Killed(message)


@pytest.mark.slow  # 2-3 min of CI: undoing a killed advance is the test above's; overwriting, publish's
def test_an_advance_killed_then_overwritten_leaves_nothing_behind(spark, small_config, advanced, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(advanced[0], lake)
    with pytest.raises(Killed):  # its note written, a day merged, the manifest still the old one's
        advance(spark, lake, TO + dt.timedelta(days=2), None, _killed_after_a_day)
    assert (lake / ADVANCING).exists()
    generate(spark, small_config, lake, ["delta"], partitions=2, progress=QUIET, as_of=DAY, overwrite=True)
    # the note was the replaced dataset's: its table versions mean nothing to the new tables
    after = advance(spark, lake, DAY + dt.timedelta(days=1), None, QUIET)
    assert after["as_of"] == "2024-02-14" and not (lake / ADVANCING).exists()
    for table in TABLE_ORDER:
        entry = after["tables"][table]
        assert checksum(_delta(spark, lake, table)) == (entry["rows"], entry["checksum"])
