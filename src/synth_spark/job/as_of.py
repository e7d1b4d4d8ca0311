"""Rows as the platform's database showed them at a moment, cut from the simulated history.

Every row's whole life is simulated before anything is written, so nothing is simulated again: the
state of a row at a moment ``t`` is a function of its final row, the other tables' rows before ``t``
and, for a pledge, its pauses and tier changes (the internal ``history`` table). Each function here
takes *points*: a table's final rows, each with a moment in the column ``_t``. A snapshot is every
row with one moment; a change feed is the rows that changed on a day, with that day's end. One code
path serves both, which is what makes a snapshot plus the day's changes equal the next snapshot.

"At a moment t" means after everything that happened before t: an instant at t itself belongs to
the next state (the end of day D is midnight starting D+1, which already belongs to D+1).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from synth_spark.job.derived import ACTIVE_POSTING_DAYS
from synth_spark.vocabulary import DAY, GROUND_TRUTH, PRIMARY_KEYS, TABLE_ORDER, columns

T = "_t"
#: the columns that name a row of each platform table (its primary key)
KEYS = {table: PRIMARY_KEYS[table] for table in TABLE_ORDER}
#: tables whose rows never change once written: their state at t is "written before t"
APPEND_ONLY = {"transactions": "transaction_at", "posts": "published_at", "engagement_events": "event_at"}


def end_of_day(day: dt.date) -> dt.datetime:
    """The moment a day's state is taken: midnight UTC at the start of the next day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)


def before(ts: str) -> Column:
    """Whether ``ts`` happened before the row's moment."""
    return F.col(ts) < F.col(T)


def append_only_at(rows: DataFrame, table: str) -> DataFrame:
    return rows.where(before(APPEND_ONLY[table]))


def tiers_at(rows: DataFrame) -> DataFrame:
    archived = F.when(before("archived_at"), F.col("archived_at"))
    return (
        rows.where(before("created_at"))
        .withColumn("archived_at", archived)
        .withColumn("is_active", archived.isNull())
        .select(*columns("tiers"), T)
    )


def pledges_at(rows: DataFrame, history: DataFrame) -> DataFrame:
    """A pledge exists from its start; until its end shows, it runs, on the tier it was on then,
    paused if a pause had begun and not ended."""
    p = rows.where(before("started_at"))
    h = history.join(p.select("pledge_id", T), "pledge_id")
    pause = (
        h.where(
            (F.col("kind") == "pause")
            & before("at")
            & (F.col("until").isNull() | (F.col("until") >= F.col(T)))
        )
        .groupBy("pledge_id", T)
        .agg(F.max("at").alias("_pause"))
    )
    # the first tier change still to come says which tier the pledge is on until then
    move = (
        h.where((F.col("kind") == "move") & (F.col("at") >= F.col(T)))
        .groupBy("pledge_id", T)
        .agg(F.min_by(F.struct("from_tier_id", "from_amount_usd"), "at").alias("_from"))
    )
    ended = F.when(before("ended_at"), F.col("ended_at"))
    status = (
        F.when(F.col("ended_at").isNotNull(), "churned")
        .when(F.col("pause_started_at").isNotNull(), "paused")
        .otherwise("active")
    )
    return (
        p.join(pause, ["pledge_id", T], "left")
        .join(move, ["pledge_id", T], "left")
        .withColumn("tier_id", F.coalesce(F.col("_from.from_tier_id"), F.col("tier_id")))
        .withColumn(
            "pledge_amount_usd", F.coalesce(F.col("_from.from_amount_usd"), F.col("pledge_amount_usd"))
        )
        .withColumn("churn_reason", F.when(before("ended_at"), F.col("churn_reason")))
        .withColumn("ended_at", ended)
        .withColumn("pause_started_at", F.col("_pause"))
        .withColumn("pledge_status", status)
        .select(*columns("pledges"), T)
    )


def _pledges_of(points: DataFrame, key: str, pledges: DataFrame, history: DataFrame) -> DataFrame:
    """The pledges of each point's patron or creator, as they stood at the point's moment."""
    return pledges_at(points.select(key, T).join(pledges, key), history)


def creators_at(rows: DataFrame, pledges: DataFrame, posts: DataFrame, history: DataFrame) -> DataFrame:
    """A creator's page exists from its creation; its last post and its status move with time (a
    creator with no running pledge turns inactive ``ACTIVE_POSTING_DAYS`` after its last post)."""
    c = rows.where(before("created_at"))
    lasts = (
        c.select("creator_id", T)
        .join(posts.select("creator_id", "published_at"), "creator_id")
        .where(before("published_at"))
        .groupBy("creator_id", T)
        .agg(F.max("published_at").alias("_last_post"))
    )
    running = (
        _pledges_of(c, "creator_id", pledges, history)
        .groupBy("creator_id", T)
        .agg(F.max((F.col("pledge_status") == "active").cast("int")).alias("_active"))
    )
    recent = F.timestamp_seconds(F.unix_timestamp(T) - ACTIVE_POSTING_DAYS * DAY)
    status = F.when((F.col("_active") == 1) | (F.col("last_post_at") >= recent), "active").otherwise(
        "inactive"
    )
    return (
        c.join(lasts, ["creator_id", T], "left")
        .join(running, ["creator_id", T], "left")
        .withColumn(
            "first_pledge_received_at",
            F.when(before("first_pledge_received_at"), F.col("first_pledge_received_at")),
        )
        .withColumn("last_post_at", F.col("_last_post"))
        .withColumn("status", status)
        .select(*columns("creators"), T)
    )


def patrons_at(rows: DataFrame, pledges: DataFrame, transactions: DataFrame, history: DataFrame) -> DataFrame:
    """A patron is in the table from the first pledge on (the table holds accounts that pledged);
    lifetime spend is what was paid before the window plus the window's charges so far."""
    p = rows.where(before("first_pledge_at"))
    paid = transactions.where(F.col("transaction_status") == "succeeded").select(
        "patron_id", "gross_amount_usd", "transaction_at"
    )
    in_window = paid.groupBy("patron_id").agg(F.sum("gross_amount_usd").alias("_window_total"))
    so_far = (
        p.select("patron_id", T)
        .join(paid, "patron_id")
        .where(before("transaction_at"))
        .groupBy("patron_id", T)
        .agg(F.sum("gross_amount_usd").alias("_so_far"))
    )
    states = (
        _pledges_of(p, "patron_id", pledges, history)
        .groupBy("patron_id", T)
        .agg(
            F.max((F.col("pledge_status") == "active").cast("int")).alias("_any_active"),
            F.max((F.col("pledge_status") == "paused").cast("int")).alias("_any_paused"),
        )
    )
    zero = F.lit(0).cast("decimal(14,2)")
    # the final row's spend is everything; what came before the window is that less the window's charges
    spend = (
        F.col("lifetime_spend_usd")
        - F.coalesce(F.col("_window_total"), zero)
        + F.coalesce(F.col("_so_far"), zero)
    )
    status = (
        F.when(F.col("_any_active") == 1, "active")
        .when(F.col("_any_paused") == 1, "paused")
        .otherwise("churned")
    )
    return (
        p.join(in_window, "patron_id", "left")
        .join(so_far, ["patron_id", T], "left")
        .join(states, ["patron_id", T], "left")
        .withColumn("lifetime_spend_usd", spend.cast("decimal(14,2)"))
        .withColumn("status", status)
        .select(*columns("patrons"), T)
    )


def states_at(table: str, rows: DataFrame, full: dict[str, DataFrame]) -> DataFrame:
    """``table``'s rows at each point's moment: ``rows`` are its final rows with ``_t``, ``full``
    every final table plus ``history``."""
    if table in APPEND_ONLY:
        return append_only_at(rows, table)
    if table == "tiers":
        return tiers_at(rows)
    if table == "pledges":
        return pledges_at(rows, full["history"])
    if table == "creators":
        return creators_at(rows, full["pledges"], full["posts"], full["history"])
    if table == "patrons":
        return patrons_at(rows, full["pledges"], full["transactions"], full["history"])
    raise ValueError(f"no state for table {table!r}")


def snapshot(table: str, full: dict[str, DataFrame], moment: dt.datetime) -> DataFrame:
    """``table`` as it stood at ``moment``, in the published columns."""
    rows = full[table].withColumn(T, F.lit(moment).cast("timestamp"))
    return states_at(table, rows, full).select(*columns(table))


def snapshots(full: dict[str, DataFrame], day: dt.date) -> dict[str, DataFrame]:
    """Every table of ``full`` (the final rows and the pledges' history) as it stood at the end of
    ``day``; the ground truth as it is."""
    moment = end_of_day(day)
    return {t: (full[t] if t == GROUND_TRUTH else snapshot(t, full, moment)) for t in full if t != "history"}


def day_number(ts: str | Column) -> Column:
    """Days since 1970-01-01 of a UTC timestamp, whatever the session's time zone."""
    return F.floor(F.unix_timestamp(ts) / DAY).cast("int")
