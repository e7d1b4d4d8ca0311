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
def test_generate_publishes_no_dataset_repeating_a_primary_key(
    spark, tmp_path, monkeypatch, capsys, table, key
):
    out = tmp_path / "out"
    assert main(["generate", str(out), *TINY]) == 0
    before = (out / MANIFEST).read_bytes()
    capsys.readouterr()
    monkeypatch.setattr(Staging, "write_parquet", staging_one_row_twice(table))
    assert main(["generate", str(out), "--seed", "7", "--overwrite", *TINY]) == 4
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert (
        "synth-spark: internal error: BrokenKeys: the dataset breaks its own keys, so nothing was published: "
        in err
    )
    assert f"{table}.{key}: " in err and " rows but " in err and " distinct values" in err
    assert (out / MANIFEST).read_bytes() == before  # the old dataset stays
    assert not [p.name for p in out.iterdir() if p.name.startswith(".synth-spark-staging-")]


def test_a_repeat_within_one_file_is_found(spark, small_dataset, tmp_path):
    staged, rows = staged_copy(
        spark,
        small_dataset,
        tmp_path / "staged",
        {"tiers": lambda df: df.unionByName(df.limit(1)).coalesce(1)},
    )
    with pytest.raises(
        BrokenKeys,
        match=rf"tiers\.tier_id: {rows['tiers']:,} rows but {rows['tiers'] - 1:,} "
        r"distinct values$",
    ):
        check_keys(spark, staged, rows)


def test_a_pledge_of_a_patron_the_patrons_do_not_hold_is_found(spark, small_dataset, tmp_path):
    from pyspark.sql import functions as F

    def stranger(df):
        one = (
            df.limit(1)
            .withColumn("pledge_id", F.lit(-1).cast("long"))
            .withColumn("patron_id", F.lit(-7).cast("long"))
        )
        return df.unionByName(one)

    staged, rows = staged_copy(spark, small_dataset, tmp_path / "staged", {"pledges": stranger})
    with pytest.raises(
        BrokenKeys,
        match=rf"pledges\.patron_id: 1 of {rows['pledges']:,} rows name a patron_id "
        r"that patrons does not hold$",
    ):
        check_keys(spark, staged, rows)


def test_the_generated_datasets_keep_their_keys(spark, small_dataset, snapshots, tmp_path):
    """The folder's layout (by task) and the snapshots' (hash-partitioned: spans of files meet) alike."""
    for dataset in (small_dataset, *snapshots.values()):
        staged = {t: dataset / "parquet" / t for t in OUTPUT_TABLES}
        check_keys(spark, staged, {t: spark.read.parquet(str(p)).count() for t, p in staged.items()})


# The simulated tables are checked where their rows are made (job/chunk_keys.py): each chunk's keys
# distinct and its references to the parents it made set, before Spark sees a row.


def chunk_states(table: str):
    """The simulation's state rows of a tiny plan (one task), with the parts ``table`` is made from."""
    from synth_spark.config import load_config
    from synth_spark.job.chunk_state import NEEDS
    from synth_spark.job.emitters import CreatorsByTask, simulating_mapper
    from synth_spark.simulation.plan import Plan

    plan = Plan.make(load_config(scale=0.02, seed=3))
    states = list(simulating_mapper(plan.constants)(CreatorsByTask.of(plan, 1).task_rows(1).to_batches()))
    return plan.constants, [b.select(list(NEEDS[table])) for b in states]


def made_wrong(emit, table: str, change):
    """``emit`` with ``change`` applied to the batch of the chunk's first piece (a bug in a kernel)."""
    changed = []

    def wrong(job, piece):
        out = emit(job, piece)
        if not changed:
            changed.append(True)
            return change(out)
        return out

    return wrong


def test_a_chunk_making_one_event_id_twice_fails_its_task_with_one_line():
    import pyarrow as pa

    from synth_spark.job.chunk_keys import MARK
    from synth_spark.job.emitters import events_batch, mapper

    job, states = chunk_states("engagement_events")
    twice = made_wrong(events_batch, "engagement_events", lambda b: pa.concat_batches([b, b.slice(0, 1)]))
    with pytest.raises(
        BrokenKeys,
        match=rf"^{MARK}the dataset breaks its own keys, so nothing was published: "
        r"engagement_events\.event_id: [\d,]+ rows of a chunk but [\d,]+ distinct values$",
    ):
        list(mapper(job, twice, "engagement_events")(iter(states)))


def test_a_chunk_making_a_payment_of_a_pledge_it_did_not_make_fails_its_task():
    import pyarrow as pa
    import pyarrow.compute as pc

    from synth_spark.job.emitters import mapper, transactions_batch

    def stranger(batch):
        i = batch.schema.get_field_index("pledge_id")
        ids = pc.if_else(
            pa.array([n == 0 for n in range(batch.num_rows)]), pa.scalar(-1, pa.int64()), batch.column(i)
        )
        return batch.set_column(i, "pledge_id", ids)

    job, states = chunk_states("transactions")
    with pytest.raises(
        BrokenKeys,
        match=r"transactions\.pledge_id: 1 of [\d,]+ rows of a chunk name a pledge_id "
        r"that pledges does not hold$",
    ):
        list(
            mapper(job, made_wrong(transactions_batch, "transactions", stranger), "transactions")(
                iter(states)
            )
        )


def test_the_chunks_count_what_they_made_once_however_often_a_chunk_is_made_again():
    from synth_spark.job.emitters import mapper, posts_batch
    from synth_spark.job.keys import _Made

    job, states = chunk_states("posts")

    class Tally:
        value: dict = {}

        def add(self, update):
            self.value = _Made().addInPlace(self.value, update)

    tally = Tally()
    made = (
        sum(b.num_rows for _ in range(2) for b in mapper(job, posts_batch, "posts", tally)(iter(states))) // 2
    )
    assert sum(tally.value.values()) == made and len(tally.value) == sum(b.num_rows for b in states)


def test_a_chunks_failure_reaches_the_driver_as_its_one_line(spark):
    """Spark wraps a task's Python exception in its own; the line is found inside."""
    import pyarrow as pa

    from synth_spark.job.chunk_keys import MARK, one_line

    def broken(batches):
        for _ in batches:
            raise BrokenKeys(
                MARK + "the dataset breaks its own keys, so nothing was published: posts.post_id: 3 rows "
                "of a chunk but 2 distinct values"
            )
        yield pa.RecordBatch.from_pydict({"id": pa.array([], pa.int64())})

    with pytest.raises(Exception) as failed:
        spark.range(1).mapInArrow(broken, "id long").collect()
    assert one_line(failed.value) == (
        "the dataset breaks its own keys, so nothing was published: posts.post_id: "
        "3 rows of a chunk but 2 distinct values"
    )
    assert one_line(RuntimeError("another failure")) is None


def test_the_plans_own_tables_and_the_chunks_creators_are_checked_on_the_driver():
    import numpy as np

    from synth_spark.job.chunk_keys import check_chunks, planned_rows

    ids = np.arange(1, 6)
    assert planned_rows(ids, np.array([11, 12, 21]), np.array([1, 1, 2]), [0, 1]) == {
        "creators": 5,
        "tiers": 3,
        "anomalies": 2,
    }
    with pytest.raises(BrokenKeys, match=r"tiers\.tier_id: 3 rows but 2 distinct values$"):
        planned_rows(ids, np.array([11, 11, 21]), np.array([1, 1, 2]), [])
    with pytest.raises(
        BrokenKeys, match=r"tiers\.creator_id: 1 of 2 rows name a creator_id that creators does not hold$"
    ):
        planned_rows(ids, np.array([11, 91]), np.array([1, 9]), [])
    check_chunks([ids[:2], ids[2:]], 5)
    with pytest.raises(BrokenKeys, match=r"the chunks hold 6 creators \(5 distinct\) of the plan's 5$"):
        check_chunks([ids[:3], ids[2:]], 5)


def test_a_pledge_of_a_patron_the_patrons_do_not_hold_is_found_when_the_chunks_checked_the_rest(
    spark, small_dataset, tmp_path
):
    """The references to the tables made after the simulation are still read from the staged files."""
    from pyspark.sql import functions as F

    def stranger(df):
        return df.withColumn(
            "patron_id",
            F.when(F.col("pledge_id") == F.lit(df.first()["pledge_id"]), F.lit(-7)).otherwise(
                F.col("patron_id")
            ),
        )

    staged, rows = staged_copy(spark, small_dataset, tmp_path / "staged", {"pledges": stranger})
    made = {
        t: rows[t]
        for t in ("creators", "tiers", "anomalies", "pledges", "posts", "transactions", "engagement_events")
    }
    with pytest.raises(
        BrokenKeys,
        match=rf"pledges\.patron_id: 1 of {rows['pledges']:,} rows name a patron_id "
        r"that patrons does not hold$",
    ):
        check_keys(spark, staged, rows, made=made)
    check_keys(spark, {t: small_dataset / "parquet" / t for t in OUTPUT_TABLES}, rows, made=made)


def test_a_chunk_making_a_post_for_a_tier_its_creator_does_not_have_fails_its_task():
    import pyarrow as pa

    from synth_spark.job.emitters import mapper, posts_batch

    def beyond(batch):  # rank 9: every creator has 2 to 4 tiers
        i = batch.schema.get_field_index("minimum_tier_id")
        creators = batch.column(batch.schema.get_field_index("creator_id")).to_numpy()
        ids = pa.array([creators[0] * 10 + 9] + batch.column(i).to_pylist()[1:], pa.int64())
        return batch.set_column(i, "minimum_tier_id", ids)

    job, states = chunk_states("posts")
    with pytest.raises(
        BrokenKeys,
        match=r"posts\.minimum_tier_id: 1 of [\d,]+ rows of a chunk name a minimum_tier_id "
        r"that tiers does not hold$",
    ):
        list(mapper(job, made_wrong(posts_batch, "posts", beyond), "posts")(iter(states)))
