"""The pledge-month panel the platform's metrics are measured on: one row per pledge and calendar
month (UTC) of the window in which the pledge was running."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TENURE_BUCKETS = ("month_1", "months_2_3", "months_4_12", "months_13_plus")


def month_index(ts: Column, start: dt.date) -> Column:
    """Calendar month of a timestamp, counted from the window's first month (0)."""
    return (F.year(ts) - start.year) * 12 + F.month(ts) - start.month


def pledge_month_panel(
    tables: dict[str, DataFrame],
    start: dt.date,
    months: int,
    month_frame: DataFrame,
    left_with_creator: Column,
) -> DataFrame:
    """One row per pledge and window month in which it was active, with what the metrics group and
    judge it by: its tier, tenure and the creator's posts that month, whether its patron engaged
    that month and the month before, and whether it churned that month and the month after
    (``left_with_creator``: true for a pledge its creator's leaving ended, which is no patron churn).
    Persisted: every metric reads it."""
    big = F.lit(10_000)
    pl = tables["pledges"].select(
        "pledge_id",
        "patron_id",
        "creator_id",
        "tier_id",
        "pledge_amount_usd",
        month_index(F.col("started_at"), start).alias("start_m"),
        F.coalesce(month_index(F.col("ended_at"), start), big).alias("end_m"),
        F.coalesce(month_index(F.col("pause_started_at"), start), big).alias("pause_m"),
        F.col("ended_at").isNotNull().alias("ended"),
        "churn_reason",
        F.coalesce(left_with_creator, F.lit(False)).alias("left_with_creator"),
    )
    window_months = F.broadcast(month_frame)
    # Active in m: started by the month's end, not ended before it began, not paused before it began.
    panel = pl.join(
        window_months,
        (F.col("m") >= F.col("start_m")) & (F.col("m") <= F.col("end_m")) & (F.col("m") <= F.col("pause_m")),
    )
    tiers = tables["tiers"].select("tier_id", "tier_rank")
    # A month's events count for that month and, as the month before, for the next one: one join
    # gives both, where a window over each pledge's months would shuffle and sort the whole panel.
    events = (
        tables["engagement_events"]
        .select("patron_id", "creator_id", month_index(F.col("event_at"), start).alias("event_m"))
        .select("*", F.explode(F.array(F.col("event_m"), F.col("event_m") + 1)).alias("m"))
        .groupBy("patron_id", "creator_id", "m")
        .agg(
            F.sum((F.col("event_m") == F.col("m")).cast("long")).alias("events"),
            F.sum((F.col("event_m") < F.col("m")).cast("long")).alias("events_before"),
        )
    )
    posts = (
        tables["posts"]
        .select("creator_id", month_index(F.col("published_at"), start).alias("m"))
        .groupBy("creator_id", "m")
        .agg(F.count(F.lit(1)).alias("posts"))
    )
    age = F.col("m") - F.col("start_m")
    panel = (
        panel.join(F.broadcast(tiers), "tier_id")
        .join(events, ["patron_id", "creator_id", "m"], "left")
        .join(posts, ["creator_id", "m"], "left")
        .withColumn("events", F.coalesce("events", F.lit(0)))
        .withColumn("events_before", F.coalesce("events_before", F.lit(0)))
        .withColumn("posts", F.coalesce("posts", F.lit(0)))
        .withColumn("ended_here", F.col("end_m") == F.col("m"))
        # Patron churn: a creator leaving the platform ends its pledges, but that is the
        # creator's decision, not the patron's, so it is counted apart (see churn_reasons).
        .withColumn("churned", (F.col("ended_here") & ~F.col("left_with_creator")).cast("int"))
        .withColumn("engaged", (F.col("events") > 0).cast("int"))
        .withColumn(
            "tenure",
            F.when(age <= 0, TENURE_BUCKETS[0])
            .when(age <= 2, TENURE_BUCKETS[1])
            .when(age <= 11, TENURE_BUCKETS[2])
            .otherwise(TENURE_BUCKETS[3]),
        )
        # The pledge's engagement in the month before (-1: it was not running then, or
        # that month is outside the window) and whether it churns in the month after
        # (null: it is not running then, or that month is outside the window).
        .withColumn(
            "engaged_before",
            F.when(
                (F.col("m") > F.col("start_m")) & (F.col("m") >= 1), (F.col("events_before") > 0).cast("int")
            ).otherwise(-1),
        )
        .withColumn(
            "churned_next",
            F.when(
                (F.col("m") + 1 <= F.least("end_m", "pause_m")) & (F.col("m") + 1 < months),
                ((F.col("end_m") == F.col("m") + 1) & ~F.col("left_with_creator")).cast("int"),
            ),
        )
    )
    # cached without the columns only its own construction needed: writing the cache is half its cost
    return panel.drop(
        "patron_id", "tier_id", "pledge_id", "ended", "events_before", "left_with_creator"
    ).persist()


def _months_apart(later: Column, earlier: Column) -> Column:
    return (F.year(later) - F.year(earlier)) * 12 + F.month(later) - F.month(earlier)


def tenure_months(pledges: DataFrame, start: dt.date, months: int, left_with_creator: Column) -> DataFrame:
    """One row per pledge and month of its tenure that begins inside the window while the pledge
    runs unpaused: its bucket (``TENURE_BUCKETS``) and whether its patron ended it before the next
    anniversary. A month of tenure runs from the start's monthly anniversary (same day and time,
    the month's last day where it is shorter) to the next, so churn by tenure is measured as it
    is drawn, and not squeezed into what is left of the calendar month a pledge started in."""
    first = dt.datetime(start.year, start.month, 1)
    years, month = divmod(start.month - 1 + months, 12)
    window_start, window_end = F.lit(first), F.lit(dt.datetime(start.year + years, month + 1, 1))
    stop = F.least(F.coalesce("ended_at", window_end), F.coalesce("pause_started_at", window_end), window_end)
    k = F.explode(
        F.sequence(
            F.greatest(F.lit(0), _months_apart(window_start, F.col("started_at")) - 1),
            F.greatest(F.lit(0), _months_apart(stop, F.col("started_at")) + 1),
        )
    )
    ends = F.col("ended_at")
    return (
        pledges.select(
            "started_at",
            "ended_at",
            stop.alias("stop"),
            F.coalesce(left_with_creator, F.lit(False)).alias("left_with_creator"),
            k.alias("k"),
        )
        .withColumn("since", F.expr("started_at + make_ym_interval(0, k)"))
        .withColumn("until", F.expr("started_at + make_ym_interval(0, k + 1)"))
        .where((F.col("since") >= window_start) & (F.col("since") < F.col("stop")))
        .select(
            F.when(F.col("k") == 0, TENURE_BUCKETS[0])
            .when(F.col("k") <= 2, TENURE_BUCKETS[1])
            .when(F.col("k") <= 11, TENURE_BUCKETS[2])
            .otherwise(TENURE_BUCKETS[3])
            .alias("tenure"),
            (ends.isNotNull() & (ends < F.col("until")) & ~F.col("left_with_creator"))
            .cast("int")
            .alias("churned"),
        )
    )
