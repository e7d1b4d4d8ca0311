"""The aggregates the anomaly scorers share, each computed once in Spark. What reaches the driver is
per month (per category, per day, per cell of the churn model) or, for a per-creator measure, a
Spark frame that the scorers rank there (validation/drilldown.py): nothing the size of creators x
months is collected, whatever the scale."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from synth_spark.validation.metrics import Dataset, posting_group

PATRON_REASONS = ("voluntary", "payment_failed", "creator_removed")


class Aggregates:
    def __init__(self, ds: Dataset):
        self.ds = ds
        self._cache: dict[str, pd.DataFrame] = {}

    def _get(self, name: str, build) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def by_month_and_category(self) -> pd.DataFrame:
        """Per month and category: MRR at the month's end, new pledges, active pledges."""
        return self._get(
            "by_month_and_category",
            lambda: (
                self.ds.creator_months()
                .groupBy("m", "category")
                .agg(
                    F.sum("mrr").cast("double").alias("mrr"),
                    F.sum("new_pledges").alias("new_pledges"),
                    F.sum("active").alias("active"),
                )
                .orderBy("m", "category")
                .toPandas()
            ),
        )

    def platform(self) -> pd.DataFrame:
        """Per window month (every month, zero where nothing ran): platform MRR and new pledges."""

        def build():
            df = (
                self.ds.creator_months()
                .groupBy("m")
                .agg(F.sum("mrr").cast("double").alias("mrr"), F.sum("new_pledges").alias("new_pledges"))
                .toPandas()
            )
            return df.set_index("m").reindex(range(self.ds.months), fill_value=0)

        return self._get("platform", build)

    def creators_mrr(self, creators: list[str]) -> pd.Series:
        """The summed MRR of some creators, per window month."""
        ids = [int(c) for c in creators]
        df = (
            self.ds.creator_months()
            .where(F.col("creator_id").isin(ids))
            .groupBy("m")
            .agg(F.sum("mrr").cast("double").alias("mrr"))
            .toPandas()
        )
        return df.set_index("m")["mrr"].reindex(range(self.ds.months), fill_value=0.0)

    def creator_delta(self, m: int, last: int | None = None, baseline_months: int = 3) -> DataFrame:
        """Per creator (with its category): the MRR change over months m..last (default m), less
        its average monthly change over the ``baseline_months`` before, times the months. A creator
        without running pledges in a month counts zero MRR there; with no month before m to compare
        against the change is null."""
        last = m if last is None else max(m, last)
        first = max(0, m - baseline_months - 1)
        at = lambda k: F.sum(F.when(F.col("m") == k, F.col("mrr")).otherwise(F.lit(0)))  # noqa: E731
        steps = m - 1 - first
        # MRR sums exactly (decimal); the averaging is in double, as a decimal quotient would be cut
        # to 6 places
        change = (at(last) - at(m - 1)).cast("double")
        usual = (at(m - 1) - at(first)).cast("double") / steps if steps > 0 else F.lit(None).cast("double")
        return (
            self.ds.creator_months()
            .groupBy("creator_id", "category")
            .agg((change - (last - m + 1) * usual).alias("delta"))
        )

    def new_pledges_change(self, m: int) -> DataFrame:
        """Per creator: new pledges in month m against its average over the (up to) 3 months before
        in which it had running pledges; zero where either side is missing."""
        cm = self.ds.creator_months()
        return (
            cm.groupBy("creator_id")
            .agg(
                F.sum(F.when(F.col("m") == m, F.col("new_pledges"))).alias("now"),
                F.avg(F.when(F.col("m").between(m - 3, m - 1), F.col("new_pledges"))).alias("before"),
            )
            .select("creator_id", F.coalesce(F.col("now") - F.col("before"), F.lit(0.0)).alias("change"))
        )

    def ended_change(self, m: int) -> DataFrame:
        """Per creator whose pledges ever ended: pledges ended in month m against its average over the 3
        months before."""
        ended = self.ds.panel().where(F.col("ended_here"))
        return (
            ended.groupBy("creator_id")
            .agg(
                F.sum((F.col("m") == m).cast("int")).alias("now"),
                F.sum(F.col("m").between(m - 3, m - 1).cast("int")).alias("before"),
            )
            .select("creator_id", (F.col("now") - F.col("before") / 3.0).alias("change"))
        )

    def ends(self) -> pd.DataFrame:
        """Per month and cell of what drives voluntary churn in the model a tool would fit (pledge
        age, engagement the month before, the creator's posting that month): active and voluntary ends."""

        def build():
            cats = self.ds.tables["creators"].select("creator_id", "category")
            return (
                self.ds.panel()
                .join(F.broadcast(cats), "creator_id")
                .groupBy("m", "tenure", "engaged_before", posting_group().alias("posting"), "category")
                .agg(
                    F.count(F.lit(1)).alias("active"),
                    F.sum("churned").alias("churned"),
                    *[
                        F.sum(
                            F.when(F.col("ended_here") & (F.col("churn_reason") == r), 1).otherwise(0)
                        ).alias(r)
                        for r in PATRON_REASONS
                    ],
                )
                .toPandas()
            )

        return self._get("ends", build)

    def daily_payments(self) -> pd.DataFrame:
        """Per day: first attempts, failed first attempts by reason, successful gross."""

        def build():
            tx = self.ds.tables["transactions"]
            return (
                tx.groupBy(
                    F.to_date("transaction_at").alias("day"),
                    "transaction_type",
                    "transaction_status",
                    "failure_reason",
                )
                .agg(F.count(F.lit(1)).alias("n"), F.sum("gross_amount_usd").cast("double").alias("gross"))
                .toPandas()
            )

        return self._get("daily_payments", build)
