"""Spark side of the tables: decode the kernels' raw rows into the seed's schemas, and derive the
columns that need more than one creator (a patron's first pledge and lifetime spend, a creator's
first pledge and last post, ``is_first_pledge``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from . import identity
from .batches import (Job, arrow_columns, events_batch, mapper, pledges_batch, posts_batch, timestamps,
                      transactions_batch)
from .billing import FAILURE_CODES
from .calendar import DAY
from .config import ACCESS_LEVELS, EVENT_TYPES, PAYMENT_METHODS
from .lifecycle import CHURN_REASONS, PLEDGE_STATUSES
from .posts import POST_TYPES
from .rng import uniform
from .anomalies import ANOMALY_COLUMNS
from .schemas import MONEY, TRANSACTION_STATUSES, TRANSACTION_TYPES, columns, schema

#: days before the window's end within which a creator's last post keeps it "active"
ACTIVE_POSTING_DAYS = 90


def decode(code: Column, values: Sequence[str | None], offset: int = 0) -> Column:
    """Small integer code to its string; ``None`` entries decode to null."""
    return F.element_at(F.array(*[F.lit(v).cast("string") for v in values]), code.cast("int") + 1 + offset)


def money(cents: str) -> Column:
    return (F.col(cents).cast("decimal(18,0)") / 100).cast(MONEY)


RAW = {
    "posts": "post_id bigint, creator_id bigint, title string, post_type tinyint, access_level tinyint, "
             "minimum_tier_id bigint, published_at timestamp, is_pinned boolean",
    "pledges": "pledge_id bigint, patron_id bigint, creator_id bigint, tier_id bigint, amount_cents bigint, "
               "status tinyint, started_at timestamp, ended_at timestamp, pause_started_at timestamp, reason tinyint",
    "transactions": "transaction_id bigint, pledge_id bigint, patron_id bigint, creator_id bigint, attempt tinyint, "
                    "succeeded boolean, gross_cents bigint, platform_cents bigint, processing_cents bigint, "
                    "net_cents bigint, method tinyint, reason tinyint, transaction_at timestamp",
    "engagement_events": "event_id bigint, patron_id bigint, creator_id bigint, post_id bigint, "
                         "event_type tinyint, event_at timestamp",
}
_EMITTERS = {"posts": posts_batch, "pledges": pledges_batch, "transactions": transactions_batch,
             "engagement_events": events_batch}


def simulated(plan: DataFrame, job: Job, table: str) -> DataFrame:
    raw = plan.mapInArrow(mapper(job, _EMITTERS[table]), RAW[table])
    return _DECODERS[table](raw).select(*columns(table))


def _posts(raw: DataFrame) -> DataFrame:
    return raw.withColumn("post_type", decode(F.col("post_type"), POST_TYPES)) \
              .withColumn("access_level", decode(F.col("access_level"), ACCESS_LEVELS))


def _pledges(raw: DataFrame) -> DataFrame:
    first = Window.partitionBy("patron_id").orderBy("started_at", "pledge_id")
    return (raw.withColumn("pledge_amount_usd", money("amount_cents"))
               .withColumn("pledge_status", decode(F.col("status"), PLEDGE_STATUSES))
               .withColumn("churn_reason", decode(F.col("reason"), (None, *CHURN_REASONS)))
               .withColumn("is_first_pledge", F.row_number().over(first) == 1))


def _transactions(raw: DataFrame) -> DataFrame:
    return (raw.withColumn("transaction_type", F.when(F.col("attempt") == 0, TRANSACTION_TYPES[0]).otherwise(TRANSACTION_TYPES[1]))
               .withColumn("transaction_status", F.when(F.col("succeeded"), TRANSACTION_STATUSES[0]).otherwise(TRANSACTION_STATUSES[1]))
               .withColumn("gross_amount_usd", money("gross_cents"))
               .withColumn("platform_fee_usd", money("platform_cents"))
               .withColumn("processing_fee_usd", money("processing_cents"))
               .withColumn("net_amount_usd", money("net_cents"))
               .withColumn("payment_method", decode(F.col("method"), PAYMENT_METHODS))
               .withColumn("failure_reason", decode(F.col("reason"), FAILURE_CODES)))


def _events(raw: DataFrame) -> DataFrame:
    return raw.withColumn("event_type", decode(F.col("event_type"), EVENT_TYPES))


_DECODERS = {"posts": _posts, "pledges": _pledges, "transactions": _transactions, "engagement_events": _events}


def arrow_frame(spark: SparkSession, data: dict[str, np.ndarray], ddl: str) -> DataFrame:
    """A driver-side table (creators, tiers: small) as a DataFrame with an exact schema."""
    target = StructType.fromDDL(ddl)
    arrays = []
    for field in target.fields:
        values = data[field.name]
        if field.dataType.typeName() == "timestamp":
            arrays.append(timestamps(values))
        else:
            arrays.append(pa.array(values))
    table = pa.Table.from_arrays(arrays, names=target.fieldNames())
    return spark.createDataFrame(table, schema=target)


def tiers_frame(spark: SparkSession, tiers: dict[str, np.ndarray]) -> DataFrame:
    raw = arrow_frame(spark, tiers, "tier_id bigint, creator_id bigint, tier_name string, tier_rank int, "
                      "price_cents bigint, description string, is_active boolean, created_t timestamp")
    return (raw.withColumn("price_usd", money("price_cents"))
               .withColumnRenamed("created_t", "created_at")
               .withColumn("archived_at", F.lit(None).cast("timestamp"))
               .select(*columns("tiers")))


def creators_frame(spark: SparkSession, job: Job, creators: dict[str, np.ndarray], pledges: DataFrame,
                   posts: DataFrame) -> DataFrame:
    base = arrow_frame(spark, creators, "creator_id bigint, creator_name string, email string, category string, "
                       "subcategory string, country_code string, currency_code string, plan_type string, "
                       "is_nsfw boolean, is_verified boolean, created_t timestamp, departed_t timestamp")
    firsts = pledges.groupBy("creator_id").agg(
        F.min("started_at").alias("first_pledge_received_at"),
        F.max((F.col("pledge_status") == "active").cast("int")).alias("has_active"))
    lasts = posts.groupBy("creator_id").agg(F.max("published_at").alias("last_post_at"))
    recent = F.lit(job.cal.end - ACTIVE_POSTING_DAYS * DAY).cast("timestamp")
    status = (F.when(F.col("departed_t") < F.lit(job.cal.end).cast("timestamp"), "departed")
              .when((F.col("has_active") == 1) | (F.col("last_post_at") >= recent), "active").otherwise("inactive"))
    return (base.join(firsts, "creator_id", "left").join(lasts, "creator_id", "left")
                .withColumnRenamed("created_t", "created_at")
                .withColumn("status", status)
                .select(*columns("creators")))


def anomalies_frame(spark: SparkSession, rows: list[dict]) -> DataFrame:
    """The ground-truth table: one row per enabled anomaly (empty, with its schema, when none are)."""
    import datetime as dt

    def ts(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)

    data = [{**r, "start_at": ts(r["start_at"]), "end_at": ts(r["end_at"])} for r in rows]
    return spark.createDataFrame([tuple(r[c] for c in ANOMALY_COLUMNS) for r in data], schema("anomalies"))


def patron_identity(job: Job, patron_id: np.ndarray, first_t: np.ndarray) -> dict[str, np.ndarray]:
    """Name, email, country and sign-up time of patrons: functions of (seed, patron_id)."""
    seed = job.cfg.seed
    country = identity.draw_country(uniform(seed, "patron.country", patron_id))
    first, last = identity.person_names(country, uniform(seed, "patron.first", patron_id), uniform(seed, "patron.last", patron_id))
    # Many sign up and pledge in one sitting; the rest browse for a while first.
    same_day = uniform(seed, "patron.same_day", patron_id) < 0.35
    lag_days = -np.log1p(-uniform(seed, "patron.lag", patron_id)) * job.cfg.patrons.signup_lag_days
    lag = np.where(same_day, uniform(seed, "patron.lag_minutes", patron_id) * 3600, lag_days * DAY).astype(np.int64)
    return {
        "patron_id": patron_id,
        "patron_name": identity.full_names(first, last),
        "email": identity.emails(first, last, patron_id, uniform(seed, "patron.email_domain", patron_id),
                                 uniform(seed, "patron.email_style", patron_id), country),
        "country_code": country,
        "created_at": first_t - lag,
    }


def _patron_identity_mapper(job: Job):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            cols = arrow_columns(batch)
            first_t = cols["first_pledge_at"].astype("datetime64[s]").astype(np.int64)
            ident = patron_identity(job, cols["patron_id"], first_t)
            yield pa.RecordBatch.from_pydict({
                "patron_id": ident["patron_id"],
                "patron_name": pa.array(ident["patron_name"], type=pa.string()),
                "email": pa.array(ident["email"], type=pa.string()),
                "country_code": pa.array(ident["country_code"], type=pa.string()),
                "created_at": timestamps(ident["created_at"]),
            })

    return run


def patrons_frame(job: Job, pledges: DataFrame, transactions: DataFrame) -> DataFrame:
    by_patron = pledges.groupBy("patron_id").agg(
        F.min("started_at").alias("first_pledge_at"),
        F.max((F.col("pledge_status") == "active").cast("int")).alias("any_active"),
        F.max((F.col("pledge_status") == "paused").cast("int")).alias("any_paused"))
    spend = (transactions.where(F.col("transaction_status") == "succeeded")
             .groupBy("patron_id").agg(F.sum("gross_amount_usd").alias("spend")))
    ident = by_patron.select("patron_id", "first_pledge_at").mapInArrow(
        _patron_identity_mapper(job),
        "patron_id bigint, patron_name string, email string, country_code string, created_at timestamp")
    status = F.when(F.col("any_active") == 1, "active").when(F.col("any_paused") == 1, "paused").otherwise("churned")
    return (by_patron.join(ident, "patron_id").join(spend, "patron_id", "left")
                     .withColumn("lifetime_spend_usd", F.coalesce(F.col("spend"), F.lit(0)).cast("decimal(14,2)"))
                     .withColumn("status", status)
                     .select(*columns("patrons")))

