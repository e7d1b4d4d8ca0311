"""Spark side of the tables: the simulated tables as DataFrames, the driver's small tables, and the
columns that need more than one creator (a patron's first pledge and lifetime spend, a creator's
first pledge and last post, ``is_first_pledge``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from synth_spark.job.chunk_state import NEEDS, STATE_DDL
from synth_spark.job.emitters import (
    HISTORY_DDL,
    PATRON_PARTS_DDL,
    RunConstants,
    decoded,
    events_batch,
    history_batch,
    mapper,
    money,
    patron_parts_batch,
    pledges_batch,
    posts_batch,
    simulating_mapper,
    timestamps,
    transactions_batch,
)
from synth_spark.runtime.tables import schema
from synth_spark.simulation import emails, identity, rhythm, streams
from synth_spark.simulation.rng import uniform
from synth_spark.vocabulary import DAY, GROUND_TRUTH, MONEY, NEVER, PATRON_STATUSES, columns

#: days before the window's end within which a creator's last post keeps it "active"
ACTIVE_POSTING_DAYS = 90


def money_column(cents: str) -> Column:
    return (F.col(cents).cast("decimal(18,0)") / 100).cast(MONEY)


_EMITTERS = {
    "posts": posts_batch,
    "pledges": pledges_batch,
    "transactions": transactions_batch,
    "engagement_events": events_batch,
    "history": history_batch,
    "patron_parts": patron_parts_batch,
}
#: what the executors emit for the internal tables
_INTERNAL = {"history": HISTORY_DDL, "patron_parts": PATRON_PARTS_DDL}


def emitted_schema(table: str) -> StructType:
    """What the executors emit for ``table``: its published schema, less what Spark derives."""
    if table in _INTERNAL:
        return StructType.fromDDL(_INTERNAL[table])
    fields = [f for f in schema(table).fields if (table, f.name) != ("pledges", "is_first_pledge")]
    return StructType(fields)


def chunk_states(tasks: DataFrame, job: RunConstants) -> DataFrame:
    """Every chunk of creators simulated once, kept on the executors' disks for the table passes
    (``unpersist`` it when they are done): ``tasks`` holds one task per partition with its chunks
    (``generate.task_frame``)."""
    return tasks.mapInArrow(simulating_mapper(job), STATE_DDL).persist(StorageLevel.DISK_ONLY)


def emitted_table(
    states: DataFrame, job: RunConstants, table: str, tally=None, ingest: bool = False
) -> DataFrame:
    """One simulated table from the :func:`chunk_states`'s states (each chunk's rows counted in
    ``tally``, an accumulator, when given: job/keys.py), through the run's data incidents when
    ``ingest`` (job/ingestion.py)."""
    incidents = job.anomalies.scenarios.incidents if ingest else ()
    rows = states.select(*NEEDS[table]).mapInArrow(
        mapper(job, _EMITTERS[table], table, tally, incidents), emitted_schema(table)
    )
    if table == "pledges":
        first = Window.partitionBy("patron_id").orderBy("started_at", "pledge_id")
        rows = rows.withColumn("is_first_pledge", F.row_number().over(first) == 1)
    return rows if table in _INTERNAL else rows.select(*columns(table))


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
    archived = tiers["archived_t"] < NEVER
    tiers = {**tiers, "archived_t": np.where(archived, tiers["archived_t"], 0), "archived": archived}
    raw = arrow_frame(
        spark,
        tiers,
        "tier_id bigint, creator_id bigint, tier_name string, tier_rank int, "
        "price_cents bigint, description string, is_active boolean, created_t timestamp, "
        "archived_t timestamp, archived boolean",
    )
    return (
        raw.withColumn("price_usd", money_column("price_cents"))
        .withColumnRenamed("created_t", "created_at")
        .withColumn("archived_at", F.when(F.col("archived"), F.col("archived_t")))
        .select(*columns("tiers"))
    )


def creators_frame(
    spark: SparkSession,
    job: RunConstants,
    creators: dict[str, np.ndarray],
    pledges: DataFrame,
    posts: DataFrame,
) -> DataFrame:
    base = arrow_frame(
        spark,
        creators,
        "creator_id bigint, creator_name string, email string, category string, "
        "subcategory string, country_code string, currency_code string, plan_type string, "
        "is_nsfw boolean, is_verified boolean, created_t timestamp, departed_t timestamp",
    )
    firsts = pledges.groupBy("creator_id").agg(
        F.min("started_at").alias("first_pledge_received_at"),
        F.max((F.col("pledge_status") == "active").cast("int")).alias("has_active"),
    )
    lasts = posts.groupBy("creator_id").agg(F.max("published_at").alias("last_post_at"))
    recent = F.lit(job.cal.end - ACTIVE_POSTING_DAYS * DAY).cast("timestamp")
    # A creator who left the platform has no running pledge and no recent post: inactive, like any
    # creator who stopped; the platform keeps no status of its own for it.
    status = F.when((F.col("has_active") == 1) | (F.col("last_post_at") >= recent), "active").otherwise(
        "inactive"
    )
    return (
        base.join(firsts, "creator_id", "left")
        .join(lasts, "creator_id", "left")
        .withColumnRenamed("created_t", "created_at")
        .withColumn("status", status)
        .select(*columns("creators"))
    )


def anomalies_frame(spark: SparkSession, rows: list[dict]) -> DataFrame:
    """The ground-truth table: one row per enabled anomaly (empty, with its schema, when none are)."""
    import datetime as dt

    def ts(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)

    data = [{**r, "start_at": ts(r["start_at"]), "end_at": ts(r["end_at"])} for r in rows]
    return spark.createDataFrame(
        [tuple(r[c] for c in columns(GROUND_TRUTH)) for r in data], schema("anomalies")
    )


def patron_identity(job: RunConstants, patron_id: np.ndarray, first_t: np.ndarray) -> dict[str, np.ndarray]:
    """Name, email, country and sign-up time of patrons: functions of (seed, patron_id)."""
    seed = job.cfg.seed
    country = identity.draw_country(uniform(seed, streams.PATRON_COUNTRY, patron_id))
    first, last = identity.person_names(
        country, uniform(seed, streams.PATRON_FIRST, patron_id), uniform(seed, streams.PATRON_LAST, patron_id)
    )
    # Many sign up and pledge in one sitting; the rest browse for a while first. An account opened
    # for a viral moment pledges within the hour.
    same_day = (uniform(seed, streams.PATRON_SAME_DAY, patron_id) < 0.35) | job.anomalies.wave_account(
        seed, patron_id, job.pool
    )
    lag_days = -np.log1p(-uniform(seed, streams.PATRON_LAG, patron_id)) * job.cfg.patrons.signup_lag_days
    lag = np.where(
        same_day, uniform(seed, streams.PATRON_LAG_MINUTES, patron_id) * 3600, lag_days * DAY
    ).astype(np.int64)
    # a sign-up days before the first pledge happens at an hour that suits the patron, too
    signed_up = rhythm.in_rhythm(
        first_t - lag,
        np.where(same_day, first_t - lag, first_t - lag - 3 * DAY),
        first_t - 60,
        rhythm.patron_zone(seed, patron_id),
        rhythm.Rhythm.of(job.cfg.rhythm.patrons),
        rhythm.clock_for(job.cal),
        uniform(seed, streams.RHYTHM_SIGNUP_DAY, patron_id),
        uniform(seed, streams.RHYTHM_SIGNUP_HOUR, patron_id),
    )
    return {
        "patron_id": patron_id,
        "patron_name": identity.full_names(first, last),
        # drawn addresses; patrons_frame makes them unique across all patrons
        "email": emails.addresses(
            emails.person_locals(
                first,
                last,
                uniform(seed, streams.PATRON_EMAIL_STYLE, patron_id),
                uniform(seed, streams.PATRON_EMAIL_NUMBER, patron_id),
            ),
            uniform(seed, streams.PATRON_EMAIL_DOMAIN, patron_id),
            country,
            job.cfg.identities.email_domains,
        ),
        "country_code": country,
        "created_at": np.where(same_day, first_t - lag, signed_up),
    }


def _patron_mapper(job: RunConstants):
    """Per-patron aggregates (one row per patron) in, published patrons rows out: the identity is
    drawn here, so no join brings it back to the aggregates."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            cols = {n: batch.column(n) for n in batch.schema.names}
            first = cols["first_pledge_at"]
            first_t = first.to_numpy(zero_copy_only=False).astype("datetime64[s]").astype(np.int64)
            ident = patron_identity(job, cols["patron_id"].to_numpy(zero_copy_only=False), first_t)
            active = cols["any_active"].to_numpy(zero_copy_only=False) == 1
            paused = cols["any_paused"].to_numpy(zero_copy_only=False) == 1
            spend = money(cols["spend_cents"].to_numpy(zero_copy_only=False), precision=14)
            yield pa.RecordBatch.from_pydict(
                {
                    "patron_id": ident["patron_id"],
                    "patron_name": pa.array(ident["patron_name"], type=pa.string()),
                    "email": pa.array(ident["email"], type=pa.string()),
                    "country_code": pa.array(ident["country_code"], type=pa.string()),
                    "created_at": timestamps(ident["created_at"]),
                    "first_pledge_at": first,
                    "lifetime_spend_usd": spend,
                    "status": decoded(np.where(active, 0, np.where(paused, 1, 2)), PATRON_STATUSES),
                }
            )

    return run


def patrons_frame(job: RunConstants, parts: DataFrame) -> DataFrame:
    """The patrons from every chunk's part (``emitted_table(states, job, "patron_parts")``)."""
    totals = parts.groupBy("patron_id").agg(
        F.min("first_pledge_at").alias("first_pledge_at"),
        F.max("any_active").alias("any_active"),
        F.max("any_paused").alias("any_paused"),
        F.sum("spend_cents").alias("spend_cents"),
    )
    return _unique_emails(totals.mapInArrow(_patron_mapper(job), schema("patrons")), "patron_id")


def _unique_emails(rows: DataFrame, key: str) -> DataFrame:
    """simulation.emails.deduplicated over the whole table: the k-th row (k >= 2, by key) of an
    address drawn more than once becomes local.k@domain."""
    k = F.row_number().over(Window.partitionBy("email").orderBy(key))
    renamed = F.concat(
        F.substring_index("email", "@", 1),
        F.lit("."),
        k.cast("string"),
        F.lit("@"),
        F.substring_index("email", "@", -1),
    )
    return rows.withColumn("email", F.when(k == 1, F.col("email")).otherwise(renamed)).select(*rows.columns)
