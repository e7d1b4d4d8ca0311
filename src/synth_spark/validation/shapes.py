"""The chart an analyst draws first for each anomaly: the daily (or, for a slow decline, monthly)
series around its window, straight from the tables, so the shape of the event can be seen: a wave
that rises and fades, a dip between two hours, cancellations that spread over weeks."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from synth_spark.validation.metrics import Dataset
from synth_spark.validation.panel import month_index


def _daily(df: DataFrame, ts: str, value, name: str, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    rows = (
        df.where((F.col(ts) >= F.lit(lo)) & (F.col(ts) < F.lit(hi)))
        .groupBy(F.to_date(ts).alias("day"))
        .agg(value.alias(name))
        .toPandas()
    )
    days = pd.date_range(lo.normalize(), hi.normalize() - pd.Timedelta(days=1))
    series = rows.set_index(pd.to_datetime(rows["day"]))[name].astype(float).reindex(days, fill_value=0.0)
    return pd.DataFrame({"x": days, name: series.to_numpy()})


def shape(ds: Dataset, row) -> pd.DataFrame | None:
    """An x column and one line, around the anomaly of ground-truth ``row``."""
    start = pd.Timestamp(row.start_at).tz_localize(None)
    end = pd.Timestamp(row.end_at).tz_localize(None)
    day = pd.Timedelta(days=1)
    pledges, tx = ds.tables["pledges"], ds.tables["transactions"]
    creators = [int(c) for c in str(row.creator_ids or "").split(";") if c and c != "None"]
    if row.anomaly_type == "viral_spike":
        mine = pledges.where(F.col("creator_id").isin(creators))
        return _daily(
            mine,
            "started_at",
            F.count(F.lit(1)),
            f"new pledges per day, creator {row.creator_ids}",
            start.normalize() - 28 * day,
            end.normalize() + 43 * day,
        )
    if row.anomaly_type == "payment_outage":
        # Ten days either side: the month-start billing days, ten times larger, would flatten the dip.
        ok = tx.where(F.col("transaction_status") == "succeeded")
        return _daily(
            ok,
            "transaction_at",
            F.sum("gross_amount_usd").cast("double"),
            "revenue per day (USD, successful charges)",
            start.normalize() - 10 * day,
            end.normalize() + 11 * day,
        )
    if row.anomaly_type == "holiday_churn":
        vol = pledges.where(F.col("churn_reason") == "voluntary")
        return _daily(
            vol,
            "ended_at",
            F.count(F.lit(1)),
            "voluntary cancellations per day",
            start - pd.DateOffset(months=2),
            end.normalize() + day + pd.DateOffset(months=2),
        )
    if row.anomaly_type == "creator_exodus":
        theirs = pledges.where(F.col("creator_id").isin(creators))
        return _daily(
            theirs,
            "ended_at",
            F.count(F.lit(1)),
            "pledges ended per day, departing creators",
            start.normalize() - 21 * day,
            end.normalize() + 36 * day,
        )
    if row.anomaly_type == "category_collapse":
        cats = ds.tables["creators"].select("creator_id", "category").where(F.col("category") == row.category)
        new = (
            pledges.join(F.broadcast(cats), "creator_id")
            .groupBy(month_index(F.col("started_at"), ds.start).alias("m"))
            .count()
            .toPandas()
            .set_index("m")["count"]
            .reindex(range(ds.months), fill_value=0)
        )
        months = [pd.Timestamp(ds.start) + pd.DateOffset(months=i) for i in range(ds.months)]
        return pd.DataFrame(
            {"x": months, f"new pledges per month, {row.category}": new.to_numpy().astype(float)}
        )
    return None
