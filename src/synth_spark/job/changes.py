"""Daily change batches: for each day of a range and each table, the rows that changed that day,
each as it stood at the day's end, marked ``insert`` or ``update_postimage`` (Delta's names).

A row can only change when something happens to it: a pledge starts, ends, pauses, resumes or
moves tier; a patron pledges, pays or sees a pledge change; a creator is created, posts, gets a
pledge or one of its pledges changes, or goes quiet for ``ACTIVE_POSTING_DAYS`` after a post; a tier
opens or is archived. Those moments, on the range's days, are the candidates; each candidate row is
cut at the day's start and at its end with the functions of :mod:`as_of` that cut snapshots, and
kept if it is new or differs. Nothing is ever deleted: rows are never removed from the platform's
tables (a churned pledge or an inactive creator stays, with its status).
"""

from __future__ import annotations

import datetime as dt
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType, TimestampType

from synth_spark.job.as_of import APPEND_ONLY, KEYS, T, day_number, states_at
from synth_spark.job.derived import ACTIVE_POSTING_DAYS
from synth_spark.runtime.tables import schema
from synth_spark.vocabulary import DAY, columns

CHANGE_TYPE, COMMIT_TIMESTAMP, BATCH_DATE = "_change_type", "_commit_timestamp", "batch_date"
INSERT, UPDATE = "insert", "update_postimage"
_DAY, _TDAY, _COMMIT = "_day", "_tday", "_commit"


def _events(df: DataFrame, key: str, *times: str | Column) -> DataFrame:
    """(key, moment) for every non-null moment among ``times`` of each row."""
    parts = [df.select(F.col(key), (F.col(t) if isinstance(t, str) else t).alias("_e")) for t in times]
    return reduce(DataFrame.unionByName, parts).where(F.col("_e").isNotNull())


def _pledge_events(full: dict[str, DataFrame]) -> DataFrame:
    """Each moment a pledge changes, with its patron and creator."""
    pl = full["pledges"]
    own = _events(pl, "pledge_id", "started_at", "ended_at")
    h = full["history"]
    past = _events(h, "pledge_id", "at", "until")
    return own.unionByName(past).join(pl.select("pledge_id", "patron_id", "creator_id"), "pledge_id")


def candidate_events(table: str, full: dict[str, DataFrame]) -> DataFrame:
    """(key, moment) pairs: every moment at which a row of ``table`` may change."""
    key = KEYS[table]
    if table == "tiers":
        return _events(full["tiers"], key, "created_at", "archived_at")
    pledge = _pledge_events(full)
    if table == "pledges":
        return pledge.select(key, "_e")
    if table == "creators":
        posts = full["posts"]
        quiet = F.timestamp_seconds(F.unix_timestamp("published_at") + ACTIVE_POSTING_DAYS * DAY)
        return reduce(
            DataFrame.unionByName,
            [
                _events(full["creators"], key, "created_at"),
                _events(posts, key, "published_at", quiet),
                pledge.select(key, "_e"),
            ],
        )
    if table == "patrons":
        paid = full["transactions"].where(F.col("transaction_status") == "succeeded")
        return reduce(
            DataFrame.unionByName,
            [
                _events(full["patrons"], key, "first_pledge_at"),
                _events(paid, key, "transaction_at"),
                pledge.select(key, "_e"),
            ],
        )
    raise ValueError(f"no candidate events for table {table!r}")


def change_batches(table: str, full: dict[str, DataFrame], first: dt.date, last: dt.date) -> DataFrame:
    """``table``'s changes on each day from ``first`` to ``last``: its published columns plus
    ``_change_type``, ``_commit_timestamp`` (the moment of the row's last change that day) and
    ``batch_date``. One row per key and day."""
    lo, hi = (first - dt.date(1970, 1, 1)).days, (last - dt.date(1970, 1, 1)).days
    key = KEYS[table]
    if table in APPEND_ONLY:
        at = APPEND_ONLY[table]
        out = (
            full[table]
            .withColumn(_DAY, day_number(at))
            .where(F.col(_DAY).between(lo, hi))
            .withColumn(CHANGE_TYPE, F.lit(INSERT))
            .withColumn(COMMIT_TIMESTAMP, F.col(at))
        )
        return _finish(out, table)
    cand = (
        candidate_events(table, full)
        .withColumn(_DAY, day_number("_e"))
        .where(F.col(_DAY).between(lo, hi))
        .groupBy(key, _DAY)
        .agg(F.max("_e").alias(_COMMIT))
    )
    # each candidate as it stood when its day began and when it ended (the end of one day is the
    # start of the next: one moment, cut once)
    moments = (
        cand.select(key, (F.col(_DAY) + 1).alias(_TDAY))
        .unionByName(cand.select(key, F.col(_DAY).alias(_TDAY)))
        .distinct()
    )
    points = full[table].join(moments, key).withColumn(T, F.timestamp_seconds(F.col(_TDAY) * DAY)).drop(_TDAY)
    published = columns(table)
    states = (
        states_at(table, points, full)
        .withColumn(_TDAY, (F.unix_timestamp(T) / DAY).cast("int"))
        .withColumn("_h", F.xxhash64(*published))
    )
    # the state at a day's start is the key's previous moment when that moment is the day before's
    # end (a window over each key's moments: the states are cut once, where a self-join cut them twice)
    by_key = Window.partitionBy(key).orderBy(_TDAY)
    before_it = F.when(F.lag(_TDAY).over(by_key) == F.col(_TDAY) - 1, F.lag("_h").over(by_key))
    after = states.withColumn("_h0", before_it).withColumn(_DAY, F.col(_TDAY) - 1).join(cand, [key, _DAY])
    changed = after.where(F.col("_h0").isNull() | (F.col("_h0") != F.col("_h")))
    out = changed.withColumn(CHANGE_TYPE, F.when(F.col("_h0").isNull(), INSERT).otherwise(UPDATE)).withColumn(
        COMMIT_TIMESTAMP, F.col(_COMMIT)
    )
    return _finish(out, table)


def change_schema(table: str) -> StructType:
    """A change batch's columns: the table's, the two change columns, and the day (the partition)."""
    return StructType(
        [
            *schema(table).fields,
            StructField(CHANGE_TYPE, StringType()),
            StructField(COMMIT_TIMESTAMP, TimestampType()),
            StructField(BATCH_DATE, StringType()),
        ]
    )


def _finish(df: DataFrame, table: str) -> DataFrame:
    return df.select(
        *columns(table),
        CHANGE_TYPE,
        COMMIT_TIMESTAMP,
        F.date_from_unix_date(F.col(_DAY)).cast("string").alias(BATCH_DATE),
    )


def replay(snapshot: DataFrame, batches: DataFrame, table: str) -> DataFrame:
    """``snapshot`` with ``batches`` applied in day order: an insert adds its row, an update
    replaces the row with its key, a delete removes it. Each batch row is a whole post-image, so
    the result is every key's last change, or the snapshot's row where the key did not change."""
    key = KEYS[table]
    last = batches.withColumn(
        "_n", F.row_number().over(Window.partitionBy(key).orderBy(F.col(BATCH_DATE).desc()))
    ).where(F.col("_n") == 1)
    kept = snapshot.join(last.select(key), key, "left_anti")
    return kept.unionByName(last.where(F.col(CHANGE_TYPE) != "delete").select(*columns(table)))
