"""A dataset that breaks its own keys is never published: generate stops with exit 4 and one line
naming the table, the key and the count, and the folder keeps what it held."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from synth_spark.cli import main
from synth_spark.job.keys import BrokenKeys, check_keys
from synth_spark.job.writers import Staging
from synth_spark.manifest import MANIFEST
from synth_spark.vocabulary import OUTPUT_TABLES

TINY = ["--scale", "0.02", "--format", "parquet", "--partitions", "2", "--quiet"]


def staging_one_row_twice(table: str):
    """Staging.write_parquet as it is, except that ``table`` gets one of its rows twice (in a
    partition of its own, as a bug repeating a row across tasks would put it)."""
    write = Staging.write_parquet

    def repeating(self, df, name, fmt="parquet"):
        return write(self, df.unionByName(df.limit(1)) if name == table else df, name, fmt)

    return repeating


def staged_copy(spark, dataset: Path, target: Path, changed: dict) -> tuple[dict, dict]:
    """The Parquet tables of ``dataset`` copied to ``target``, each of ``changed`` (table: a function
    of its DataFrame) rewritten: the staged paths and rows :func:`check_keys` takes."""
    staged, rows = {}, {}
    for table in OUTPUT_TABLES:
        staged[table] = target / table
        if table in changed:
            df = changed[table](spark.read.parquet(str(dataset / "parquet" / table)))
            df.write.parquet(str(staged[table]))
        else:
            shutil.copytree(dataset / "parquet" / table, staged[table])
        rows[table] = spark.read.parquet(str(staged[table])).count()
    return staged, rows


@pytest.mark.parametrize("table, key", [("engagement_events", "event_id"), ("patrons", "patron_id")])
def test_generate_publishes_no_dataset_repeating_a_primary_key(spark, tmp_path, monkeypatch, capsys, table, key):
    out = tmp_path / "out"
    assert main(["generate", str(out), *TINY]) == 0
    before = (out / MANIFEST).read_bytes()
    capsys.readouterr()
    monkeypatch.setattr(Staging, "write_parquet", staging_one_row_twice(table))
    assert main(["generate", str(out), "--seed", "7", "--overwrite", *TINY]) == 4
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "synth-spark: internal error: BrokenKeys: the dataset breaks its own keys, so nothing was published: " in err
    assert f"{table}.{key}: " in err and " rows but " in err and " distinct values" in err
    assert (out / MANIFEST).read_bytes() == before  # the old dataset stays
    assert not [p.name for p in out.iterdir() if p.name.startswith(".synth-spark-staging-")]


def test_a_repeat_within_one_file_is_found(spark, small_dataset, tmp_path):
    staged, rows = staged_copy(spark, small_dataset, tmp_path / "staged",
                               {"tiers": lambda df: df.unionByName(df.limit(1)).coalesce(1)})
    with pytest.raises(BrokenKeys, match=rf"tiers\.tier_id: {rows['tiers']:,} rows but {rows['tiers'] - 1:,} "
                                         r"distinct values$"):
        check_keys(spark, staged, rows)


def test_a_pledge_of_a_patron_the_patrons_do_not_hold_is_found(spark, small_dataset, tmp_path):
    from pyspark.sql import functions as F

    def stranger(df):
        one = df.limit(1).withColumn("pledge_id", F.lit(-1).cast("long")).withColumn("patron_id", F.lit(-7).cast("long"))
        return df.unionByName(one)

    staged, rows = staged_copy(spark, small_dataset, tmp_path / "staged", {"pledges": stranger})
    with pytest.raises(BrokenKeys, match=rf"pledges\.patron_id: 1 of {rows['pledges']:,} rows name a patron_id "
                                         r"that patrons does not hold$"):
        check_keys(spark, staged, rows)


def test_the_generated_datasets_keep_their_keys(spark, small_dataset, snapshots, tmp_path):
    """The folder's layout (by task) and the snapshots' (hash-partitioned: spans of files meet) alike."""
    for dataset in (small_dataset, *snapshots.values()):
        staged = {t: dataset / "parquet" / t for t in OUTPUT_TABLES}
        check_keys(spark, staged, {t: spark.read.parquet(str(p)).count() for t, p in staged.items()})
