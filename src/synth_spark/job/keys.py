"""The staged dataset's own keys, checked before it is published: every table's primary key
unique and set, and the foreign keys whose parents are small enough to broadcast without orphans.

A generation's simulated tables were checked where their rows were made (job/chunk_keys.py) and its
plan's tables on the driver: for those, the staged rows must be exactly the rows made (``made``),
and only their references to the tables made afterwards are read here. Everything else (the
patrons; every table of a snapshot, or of a session without accumulators) is read back whole.

A dataset that breaks its own keys is a bug in synth-spark (an id formula that overflowed, a cut
that repeated a row): the run stops as an internal error naming the table, the key and the count,
and nothing is published. The one exception is asked for and labelled: a data incident of the
ground truth that loads rows twice (job/ingestion.py), whose rows were checked before the copy.

Uniqueness is exact without shuffling the rows: each partition of a staged table (its files) sorts
its keys in numpy and counts repeats, and summarises them as at most :data:`SPANS` spans of keys
(cut at its largest gaps). The files of a generation task hold that task's creators, whose ids are
ranges of their own, so the spans of different partitions rarely meet; a table whose spans do
meet (hash- or time-arranged files) is checked again with its keys hash-partitioned, which is
exact whatever the layout and costs one shuffle of one column.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.accumulators import AccumulatorParam
from pyspark.sql import DataFrame, Observation, SparkSession, Window
from pyspark.sql import functions as F

from synth_spark.job.chunk_keys import CHECKED_REFERENCES, BrokenKeys
from synth_spark.publish.storage import HadoopPath
from synth_spark.runtime.connect import is_connect
from synth_spark.vocabulary import PRIMARY_KEYS

#: the references checked as a run writes (vocabulary.REFERENCES lists them all; the copies of a
#: pledge's patron and creator on its transactions and events are checked by 'synth-spark check')
FOREIGN_KEYS: dict[str, dict[str, str]] = {
    "tiers": {"creator_id": "creators"},
    "pledges": {"patron_id": "patrons", "creator_id": "creators", "tier_id": "tiers"},
    "transactions": {"pledge_id": "pledges"},
    "posts": {"creator_id": "creators", "minimum_tier_id": "tiers"},
    "engagement_events": {"post_id": "posts"},
}
#: a parent up to this many rows is broadcast to check its children's references (a hash table of
#: about 40 MB on each executor); a larger one (the pledges beyond ~100x) is left to 'synth-spark check'
BROADCAST_PARENT_ROWS = 2_000_000
#: spans of keys a partition reports at most: its creators' id ranges, with room to spare
SPANS = 8192
#: keys per partition when a table is checked again hash-partitioned
KEYS_PER_PARTITION = 4_000_000
SUMMARY_DDL = "lo long, hi long, keys long, repeats long, nulls long"
SUMMARY_SCHEMA = pa.schema([(part.split()[0], pa.int64()) for part in SUMMARY_DDL.split(", ")])


class _Made(AccumulatorParam):
    """Rows made per (table, chunk): a chunk made again (a task retried, a lost partition
    recomputed) replaces its count instead of adding to it."""

    def zero(self, value: dict) -> dict:
        return {}

    def addInPlace(self, value1: dict, value2: dict) -> dict:
        value1.update(value2)
        return value1


def made_rows(spark: SparkSession):
    """An accumulator the chunks add the rows they made to (emitters.mapper), or None where the
    session has none (Spark Connect): the staged tables are then checked whole."""
    if is_connect(spark):
        return None
    return spark.sparkContext.accumulator({}, _Made())


def made_by_table(tally) -> dict[str, int]:
    """Rows each simulated table's chunks handed on: made with distinct keys, then through the run's
    data incidents (job/ingestion.py)."""
    out: dict[str, int] = {}
    for (table, _), rows in tally.value.items():
        out[table] = out.get(table, 0) + rows
    return out


def summarise(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """A ``mapInArrow`` function over a partition's keys: their spans (a row each) and, on the first
    row, how many keys repeat one before them and how many are null."""
    nulls, parts = 0, []
    for batch in batches:
        key = batch.column(0)
        nulls += key.null_count
        parts.append(key.drop_null().to_numpy() if key.null_count else key.to_numpy())
    keys = np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)
    repeats = int(np.count_nonzero(keys[1:] == keys[:-1]))
    lo = hi = n = np.empty(0, np.int64)
    if len(keys):
        # cut at the largest gaps: a span covers keys this partition holds and the smaller gaps between them
        cuts = min(SPANS, len(keys)) - 1
        at = np.sort(np.argpartition(np.diff(keys), -cuts)[-cuts:]) if cuts else np.empty(0, np.int64)
        first, last = np.r_[0, at + 1], np.r_[at, len(keys) - 1]
        lo, hi, n = keys[first], keys[last], last - first + 1
    rows = max(len(n), 1)
    once = np.zeros(rows, np.int64)
    yield pa.RecordBatch.from_pydict(
        {
            "lo": pa.array(lo, pa.int64()) if len(n) else pa.nulls(1, pa.int64()),
            "hi": pa.array(hi, pa.int64()) if len(n) else pa.nulls(1, pa.int64()),
            "keys": np.r_[n, once[len(n) :]].astype(np.int64),
            "repeats": np.r_[repeats, once[1:]],
            "nulls": np.r_[nulls, once[1:]],
        },
        schema=SUMMARY_SCHEMA,
    )


def _with_orphans(
    spark: SparkSession,
    table: str,
    staged: Mapping[str, Path | HadoopPath],
    rows: Mapping[str, int],
    skip: tuple[str, ...] = (),
) -> tuple[DataFrame, Observation | None, list[str]]:
    """The staged table joined to each parent small enough to broadcast, observed: the rows whose
    reference is set and names no key of its parent, per reference checked (in the same scan as the
    keys, in the JVM); the references in ``skip`` were checked where their rows were made."""
    df = spark.read.parquet(str(staged[table]))
    flags, checked = [], []
    for column, parent in FOREIGN_KEYS.get(table, {}).items():
        if column in skip or rows.get(parent, BROADCAST_PARENT_ROWS + 1) > BROADCAST_PARENT_ROWS:
            continue
        there = f"_{parent}"  # the same plan for every child of a parent: one broadcast, reused
        keys = spark.read.parquet(str(staged[parent])).select(F.col(PRIMARY_KEYS[parent]).alias(there))
        # a parent repeating a key repeats its children's rows here; the parent's own check names it first
        df = df.join(F.broadcast(keys), df[column] == keys[there], "left")
        flags.append(F.sum((F.col(column).isNotNull() & F.col(there).isNull()).cast("long")).alias(column))
        checked.append(column)
    if not flags:
        return df, None, checked
    seen = Observation(f"orphans_{table}_{uuid.uuid4().hex[:8]}")
    return df.observe(seen, *flags), seen, checked


def _summary(df: DataFrame, table: str, number: int, partitions: int | None = None) -> DataFrame:
    keys = df.select(F.col(PRIMARY_KEYS[table]).cast("long"))
    if partitions:
        keys = keys.repartition(partitions, keys.columns[0])
    return keys.mapInArrow(summarise, SUMMARY_DDL).withColumn("table", F.lit(number))


def _totals(summary: DataFrame) -> dict[int, dict]:
    """Per table: its keys, the repeats found within partitions, nulls, and how many spans meet a
    span of another partition (sorted by their first key, one starts before an earlier one ends)."""
    before = Window.partitionBy("table").orderBy("lo", "hi").rowsBetween(Window.unboundedPreceding, -1)
    met = F.when(F.col("lo").isNotNull() & (F.col("lo") <= F.max("hi").over(before)), 1).otherwise(0)
    sums = [F.sum(c).alias(c) for c in ("keys", "repeats", "nulls")]
    result = summary.withColumn("met", met).groupBy("table").agg(*sums, F.sum("met").alias("met")).collect()
    return {r["table"]: r.asDict() for r in result}


def _union(frames: list[DataFrame]) -> DataFrame:
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union


def check_keys(
    spark: SparkSession,
    staged: Mapping[str, Path | HadoopPath],
    rows: Mapping[str, int],
    made: Mapping[str, int] | None = None,
    repeated_on_purpose: frozenset[str] = frozenset(),
) -> None:
    """Raise :class:`BrokenKeys` (one line: the table, the key, the count) if a staged table repeats
    or leaves unset its primary key, or names a parent key its parent does not hold. ``rows``: each
    staged table's rows, which say which parents are small enough to broadcast. ``made``: the rows
    the chunks made of each simulated table, every key distinct and every reference within the
    chunk set (job/chunk_keys.py): such a table is not read again, its staged rows must only be
    exactly those. ``repeated_on_purpose``: the tables whose rows a data incident of the ground truth
    copies twice (job/ingestion.py), whose keys were checked before the copy: their repeats are
    the incident's, and are not counted here."""
    made = {t: n for t, n in (made or {}).items() if t in staged}
    problems = [
        _made_problem(t, PRIMARY_KEYS[t], rows.get(t, 0), n) for t, n in made.items() if rows.get(t, 0) != n
    ]
    tables = [t for t in PRIMARY_KEYS if t in staged]
    scans = [
        _with_orphans(spark, t, staged, rows, tuple(CHECKED_REFERENCES.get(t, {})) if t in made else ())
        for t in tables
    ]
    read = [(i, t, df) for i, (t, (df, _, _)) in enumerate(zip(tables, scans)) if t not in made]
    # the made tables' keys are known; their references to tables made later, counted in one scan
    observed = [
        scans[i][0].select(F.lit(1).alias("one")) for i, t in enumerate(tables) if t in made and scans[i][1]
    ]
    with ThreadPoolExecutor(2) as pool:  # two small jobs at once: each leaves a core idle at its ends
        references = (
            pool.submit(lambda: _union(observed).agg(F.count(F.lit(1))).collect()) if observed else None
        )
        if made:  # the few tables left (patrons): hash-partitioned at once, as their files are by hash
            totals = (
                _totals(_union([_summary(df, t, i, _partitions(rows.get(t, 0))) for i, t, df in read]))
                if read
                else {}
            )
        else:
            totals = _totals(_union([_summary(df, t, i) for i, t, df in read]))
        if references is not None:
            references.result()
    for i, t in enumerate(tables):
        if t in made:
            totals[i] = {"keys": rows.get(t, 0), "repeats": 0, "nulls": 0, "met": 0}
    # (hash-partitioned, equal keys met in one partition: the spans of partitions meet, and say nothing)
    spread = [] if made else [i for i, t in enumerate(tables) if totals.get(i, {}).get("met")]
    if spread:
        # spans of different partitions meet (files arranged by hash or by time): again with the keys
        # hash-partitioned, so that equal keys meet in one partition
        again = _union(
            [
                _summary(
                    spark.read.parquet(str(staged[tables[i]])),
                    tables[i],
                    i,
                    _partitions(rows.get(tables[i], 0)),
                )
                for i in spread
            ]
        )
        for i, total in _totals(again).items():
            totals[i]["repeats"] = total["repeats"]
    for i, table in enumerate(tables):
        total, key, (_, seen, checked) = totals.get(i), PRIMARY_KEYS[table], scans[i]
        if total is None:
            continue
        keys = total["keys"] + total["nulls"]
        if total["nulls"]:
            problems.append(f"{table}.{key}: {total['nulls']:,} of {keys:,} rows have no {key}")
        if total["repeats"] and table not in repeated_on_purpose:
            problems.append(
                f"{table}.{key}: {keys:,} rows but {total['keys'] - total['repeats']:,} distinct values"
            )
        orphans = seen.get if seen is not None else {}
        for column in checked:
            if orphans.get(column):
                problems.append(
                    f"{table}.{column}: {orphans[column]:,} of {keys:,} rows name a {column} "
                    f"that {FOREIGN_KEYS[table][column]} does not hold"
                )
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise BrokenKeys(f"the dataset breaks its own keys, so nothing was published: {problems[0]}{more}")


def _partitions(rows: int) -> int:
    return max(1, -(-rows // KEYS_PER_PARTITION))


def _made_problem(table: str, key: str, staged: int, made: int) -> str:
    if staged > made:  # the staged rows are the made ones, some twice
        return f"{table}.{key}: {staged:,} rows but {made:,} distinct values"
    return f"{table}: {staged:,} rows staged of the {made:,} its chunks made"
