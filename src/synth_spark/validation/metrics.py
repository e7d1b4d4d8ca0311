"""Platform metrics measured on a generated dataset with Spark, per calendar month of the window (UTC).

Everything heavy happens in Spark; only small aggregates (one row per month, per group) reach the
driver, as pandas frames for the report.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from synth_spark.validation.panel import month_index, pledge_month_panel, tenure_months

#: the ground truth's anomaly whose creators leave the platform
EXODUS = "creator_exodus"
VIRAL = "viral_spike"


def posting_group() -> Column:
    """The creator's posting in a pledge-month: "4+", "1-3" or "<1" posts."""
    return F.when(F.col("posts") >= 4, "4+").when(F.col("posts") >= 1, "1-3").otherwise("<1")


@dataclass
class Dataset:
    spark: SparkSession
    tables: dict[str, DataFrame]
    start: dt.date
    months: int

    @classmethod
    def load(
        cls,
        spark: SparkSession,
        root: str,
        start: dt.date,
        months: int,
        manifest: dict | None = None,
        versions: dict[str, int] | None = None,
    ) -> "Dataset":
        """The dataset's tables (the ground truth included), read from the first of Parquet, Delta or
        CSV that its manifest lists (Parquet when no manifest is given); Delta at ``versions`` where given."""
        from synth_spark.runtime.tables import read_table
        from synth_spark.vocabulary import GROUND_TRUTH, TABLE_ORDER

        formats = (manifest or {}).get("formats", ["parquet"])
        fmt = next(f for f in ("parquet", "delta", "csv") if f in formats)
        paths = {t: e["paths"][fmt] for t, e in manifest["tables"].items()} if manifest else {}
        tables = {
            t: read_table(spark, fmt, f"{root}/{paths.get(t, f'parquet/{t}')}", t, (versions or {}).get(t))
            for t in (*TABLE_ORDER, GROUND_TRUTH)
        }
        return cls(spark, tables, start, months)

    def of_creators(self, where: Column) -> "Dataset":
        """The dataset restricted to the creators ``where`` selects (a condition on ``creator_id``):
        their rows in every table and the patrons who pledged to them. Its panel and creator months
        are this dataset's, filtered: each of their rows is one creator's, and departures are read
        from the whole ground truth, so filtering commutes with building them, and a part costs a
        filter over the cache instead of a new build."""
        tables = {
            name: df.where(where) if "creator_id" in df.columns else df for name, df in self.tables.items()
        }
        tables["patrons"] = self.tables["patrons"].join(
            tables["pledges"].select("patron_id").distinct(), "patron_id", "left_semi"
        )
        part = Dataset(self.spark, tables, self.start, self.months)
        part._departed = self.departed_creators()
        part._panel = self.panel().where(where)
        part._creator_months = self.creator_months().where(where)
        return part

    def departed_creators(self) -> tuple[list[int], dt.datetime | None]:
        """The creators who left the platform (the creator exodus of the ground truth) and when the
        first one left. Their audiences' endings from then on are the creators' doing, not patron churn;
        the data itself records them as ordinary cancellations and removals."""
        if not hasattr(self, "_departed"):
            from synth_spark.vocabulary import GROUND_TRUTH

            truth = self.tables.get(GROUND_TRUTH)
            rows = (
                []
                if truth is None
                else truth.where(F.col("anomaly_type") == EXODUS).select("creator_ids", "start_at").collect()
            )
            ids = sorted({int(c) for r in rows for c in (r["creator_ids"] or "").split(";") if c})
            self._departed = (ids, min(r["start_at"] for r in rows) if rows else None)
        return self._departed

    def left_with_creator(self) -> Column:
        """True for a pledge that ended because its creator left the platform."""
        ids, since = self.departed_creators()
        if not ids:
            return F.lit(False)
        return (
            F.col("creator_id").isin(ids)
            & F.col("ended_at").isNotNull()
            & (F.col("ended_at") >= F.lit(since))
        )

    def month_frame(self) -> DataFrame:
        return self.spark.range(self.months).select(F.col("id").cast("int").alias("m"))

    def panel(self) -> DataFrame:
        """The pledge-month panel (validation/panel.py), built once and kept."""
        if not hasattr(self, "_panel"):
            self._panel = pledge_month_panel(
                self.tables, self.start, self.months, self.month_frame(), self.left_with_creator()
            )
        return self._panel

    def creator_months(self) -> DataFrame:
        """Per creator and month it had running pledges: MRR at the month's end (exact, as decimal),
        new pledges, active pledges; with the creator's category. Creators x months rows: it stays
        in Spark, only what is aggregated from it reaches the driver."""
        if not hasattr(self, "_creator_months"):
            running = ~F.col("ended_here") & (F.col("pause_m") > F.col("m"))
            cats = self.tables["creators"].select("creator_id", "category")
            self._creator_months = (
                self.panel()
                .groupBy("creator_id", "m")
                .agg(
                    F.sum(F.when(running, F.col("pledge_amount_usd")).otherwise(0)).alias("mrr"),
                    F.sum((F.col("start_m") == F.col("m")).cast("int")).alias("new_pledges"),
                    F.count(F.lit(1)).alias("active"),
                )
                .join(F.broadcast(cats), "creator_id")
                .persist()
            )
        return self._creator_months

    # -- metrics ------------------------------------------------------------------------------

    def monthly(self) -> pd.DataFrame:
        """Per window month: active, churned, engaged pledges, new pledges, new patrons, MRR."""
        p = self.panel()
        by_m = p.groupBy("m").agg(
            F.count(F.lit(1)).alias("active"),
            F.sum("churned").alias("churned"),
            F.sum("engaged").alias("engaged"),
            F.sum(F.col("ended_here").cast("int")).alias("ended"),
            F.sum(
                F.when(F.col("ended_here"), 0)
                .when(F.col("pause_m") <= F.col("m"), 0)
                .otherwise(F.col("pledge_amount_usd"))
            ).alias("mrr"),
        )
        new_pledges = (
            self.tables["pledges"]
            .select(month_index(F.col("started_at"), self.start).alias("m"))
            .groupBy("m")
            .agg(F.count(F.lit(1)).alias("new_pledges"))
        )
        new_patrons = (
            self.tables["patrons"]
            .select(month_index(F.col("first_pledge_at"), self.start).alias("m"))
            .groupBy("m")
            .agg(F.count(F.lit(1)).alias("new_patrons"))
        )
        df = (
            self.month_frame()
            .join(by_m, "m", "left")
            .join(new_pledges, "m", "left")
            .join(new_patrons, "m", "left")
            .orderBy("m")
            .toPandas()
            .fillna(0)
        )
        df["churn_rate"] = df["churned"] / df["active"]
        df["engagement_rate"] = df["engaged"] / df["active"]
        df["month"] = [pd.Timestamp(self.start) + pd.DateOffset(months=int(m)) for m in df["m"]]
        return df

    def churn_by(self, column: str) -> pd.DataFrame:
        return (
            self.panel()
            .groupBy(column)
            .agg(F.count(F.lit(1)).alias("active"), F.sum("churned").alias("churned"))
            .toPandas()
            .assign(churn_rate=lambda d: d.churned / d.active)
            .sort_values(column)
            .reset_index(drop=True)
        )

    def churn_by_tenure(self) -> pd.DataFrame:
        """Churn per month of tenure (counted from each pledge's start, panel.tenure_months)."""
        return (
            tenure_months(self.tables["pledges"], self.start, self.months, self.left_with_creator())
            .groupBy("tenure")
            .agg(F.count(F.lit(1)).alias("active"), F.sum("churned").alias("churned"))
            .toPandas()
            .assign(churn_rate=lambda d: d.churned / d.active)
            .sort_values("tenure")
            .reset_index(drop=True)
        )

    def churn_reasons(self) -> pd.DataFrame:
        """Ended pledges by reason; ``share`` is among patron churn (pledges ended by their creator
        leaving the platform apart)."""
        ended = self.tables["pledges"].where(F.col("ended_at").isNotNull())
        df = (
            ended.groupBy("churn_reason")
            .agg(
                F.count(F.lit(1)).alias("count"),
                F.sum((~self.left_with_creator()).cast("int")).alias("patron_count"),
            )
            .toPandas()
        )
        df["share"] = df["patron_count"] / df["patron_count"].sum()
        return df.sort_values("churn_reason").reset_index(drop=True)

    def churn_reasons_by_month(self) -> pd.DataFrame:
        p = self.panel().where(F.col("ended_here"))
        return p.groupBy("m", "churn_reason").count().orderBy("m").toPandas()

    def engagement_by_tier(self) -> pd.DataFrame:
        p = self.panel().withColumn("tier_group", F.least(F.col("tier_rank"), F.lit(3)))
        return (
            p.groupBy("tier_group")
            .agg(F.avg("engaged").alias("engagement_rate"), F.count(F.lit(1)).alias("pledge_months"))
            .orderBy("tier_group")
            .toPandas()
        )

    def engagement_by_category(self) -> pd.DataFrame:
        cats = self.tables["creators"].select("creator_id", "category")
        return (
            self.panel()
            .join(F.broadcast(cats), "creator_id")
            .groupBy("category")
            .agg(F.avg("engaged").alias("engagement_rate"))
            .orderBy(F.desc("engagement_rate"))
            .toPandas()
        )

    def engagement_vs_next_churn(self) -> dict[str, float]:
        churn = F.col("churned_next").cast("double")
        row = (
            self.panel()
            .where(F.col("churned_next").isNotNull())
            .agg(
                F.avg(F.when(F.col("engaged") == 0, churn)).alias("not_engaged"),
                F.avg(F.when(F.col("engaged") == 1, churn)).alias("engaged"),
                F.corr(F.col("events").cast("double"), churn).alias("corr"),
            )
            .first()
        )
        corr = row["corr"]
        not_engaged, engaged = (
            math.nan if row[k] is None else float(row[k]) for k in ("not_engaged", "engaged")
        )
        # a small sample (a quarter of 0.05x) can have no churn among the engaged, or no variance
        ratio = not_engaged / engaged if engaged else math.inf if not_engaged else math.nan
        return {
            "churn_next_not_engaged": not_engaged,
            "churn_next_engaged": engaged,
            "ratio": ratio,
            "correlation": math.nan if corr is None else float(corr),
        }

    def viral_cohort(self) -> Column:
        """True for a panel row of a pledge to the viral spike's creator started in the spike's
        months (from the ground truth): a cohort that came for one moment, whose churn is the
        anomaly's, not the creator's posting."""
        from synth_spark.vocabulary import GROUND_TRUTH

        truth = self.tables.get(GROUND_TRUTH)
        rows = [] if truth is None else truth.where(F.col("anomaly_type") == VIRAL).collect()
        if not rows:
            return F.lit(False)
        r = rows[0]
        ids = [int(c) for c in (r["creator_ids"] or "").split(";") if c]
        return F.col("creator_id").isin(ids) & F.col("start_m").between(
            self.month_of(r["start_at"]), self.month_of(r["end_at"])
        )

    def month_of(self, ts) -> int:
        """The window month (0: the first) a time stamp falls in."""
        t = pd.Timestamp(ts)
        return (t.year - self.start.year) * 12 + t.month - self.start.month

    def churn_by_posting(self) -> pd.DataFrame:
        """Churn by the creator's posting that month, of organic pledges (the viral cohort apart)."""
        return (
            self.panel()
            .where(~self.viral_cohort())
            .withColumn("posting", posting_group())
            .groupBy("posting")
            .agg(F.count(F.lit(1)).alias("active"), F.sum("churned").alias("churned"))
            .toPandas()
            .assign(churn_rate=lambda d: d.churned / d.active)
        )

    def billings(self) -> DataFrame:
        """Transactions keyed by their billing: a first attempt and its retries share
        ``transaction_id div 8`` (transaction_id = pledge_id * 1000 + month * 8 + attempt)."""
        return self.tables["transactions"].withColumn("billing", F.floor(F.col("transaction_id") / 8))

    def payments(self) -> dict[str, float]:
        tx = self.billings()
        first = tx.where(F.col("transaction_type") == "payment")
        success = first.select(F.avg((F.col("transaction_status") == "succeeded").cast("int"))).first()[0]
        failed = first.where(F.col("transaction_status") == "failed").select(
            "billing", F.col("transaction_at").alias("t0")
        )
        recovered = (
            tx.where((F.col("transaction_type") == "retry") & (F.col("transaction_status") == "succeeded"))
            .join(failed, "billing")
            .where(F.col("transaction_at") <= F.col("t0") + F.expr("INTERVAL 7 DAYS"))
            .select("billing")
            .distinct()
            .count()
        )
        n_failed = failed.count()
        early = tx.select(F.avg((F.dayofmonth("transaction_at") <= 3).cast("int"))).first()[0]
        return {
            "first_attempt_success": float(success),
            "failed_billings": n_failed,
            "recovered_within_7_days": recovered / n_failed if n_failed else float("nan"),
            "share_on_days_1_3": float(early),
        }

    def payment_success_by_day(self) -> pd.DataFrame:
        first = self.tables["transactions"].where(F.col("transaction_type") == "payment")
        return (
            first.groupBy(F.to_date("transaction_at").alias("day"))
            .agg(
                F.avg((F.col("transaction_status") == "succeeded").cast("int")).alias("success_rate"),
                F.count(F.lit(1)).alias("attempts"),
            )
            .orderBy("day")
            .toPandas()
        )

    def card_expiry_by_month(self) -> pd.DataFrame:
        first = self.tables["transactions"].where(F.col("transaction_type") == "payment")
        return (
            first.groupBy(F.month("transaction_at").alias("month_of_year"))
            .agg(
                F.avg(F.coalesce(F.col("failure_reason") == "card_expired", F.lit(False)).cast("int")).alias(
                    "card_expired_rate"
                )
            )
            .orderBy("month_of_year")
            .toPandas()
        )

    def revenue_by_creator(self) -> pd.DataFrame:
        ok = self.tables["transactions"].where(F.col("transaction_status") == "succeeded")
        return (
            ok.groupBy("creator_id")
            .agg(F.sum("gross_amount_usd").cast("double").alias("revenue"))
            .orderBy(F.desc("revenue"))
            .toPandas()
        )

    def pricing_tier_mix(self) -> pd.DataFrame:
        tiers = self.tables["tiers"].select("tier_id", "tier_rank")
        df = (
            self.tables["pledges"]
            .join(F.broadcast(tiers), "tier_id")
            .groupBy("tier_rank")
            .count()
            .orderBy("tier_rank")
            .toPandas()
        )
        df["share"] = df["count"] / df["count"].sum()
        return df

    def category_mix(self) -> pd.DataFrame:
        df = self.tables["creators"].groupBy("category").count().toPandas()
        df["share"] = df["count"] / df["count"].sum()
        return df

    def creator_mrr_end(self) -> DataFrame:
        """MRR and running pledges per creator with any in the window's last month."""
        last = self.months - 1
        p = self.panel().where((F.col("m") == last) & (F.col("end_m") > last) & (F.col("pause_m") > last))
        return p.groupBy("creator_id").agg(
            F.sum("pledge_amount_usd").cast("double").alias("mrr"), F.count(F.lit(1)).alias("patrons")
        )
