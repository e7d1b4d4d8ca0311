"""The ``changes`` run: simulate once, then write one batch per day and table of a range of days
(``<format>/<table>/batch_date=YYYY-MM-DD/``), with a manifest of rows per table, day and change
type, a checksum per table and day, and the snapshot the batches continue (continuation.py).
Published like a dataset: staged, then moved into place
with the manifest last, so a killed run leaves the folder as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from synth_spark import manifest
from synth_spark.config import Config
from synth_spark.continuation import CONTINUES, continued
from synth_spark.job.changes import BATCH_DATE, CHANGE_TYPE, change_batches, change_schema
from synth_spark.job.generate import concurrently, stage_simulation
from synth_spark.job.writers import Staging, read_parquet
from synth_spark.manifest import Format
from synth_spark.progress import Progress
from synth_spark.runtime.session import cores
from synth_spark.runtime.tables import checksums_by
from synth_spark.simulation.plan import Plan
from synth_spark.simulation.workload import default_tasks
from synth_spark.vocabulary import TABLE_ORDER

#: what kind of folder a manifest describes: a change feed, not a dataset
KIND = "changes"


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def stage_batches(
    spark: SparkSession,
    plan: Plan,
    staging: Staging,
    partitions: int,
    progress: Progress,
    first: dt.date,
    last: dt.date,
    fmt: str = "parquet",
) -> dict[str, DataFrame]:
    """Simulate once, then write every table's daily batches of ``first``..``last`` to ``staging``'s
    ``fmt`` folder (partitioned by day): the batches, read back, by table. CreatorsByTask by ``changes``
    and ``advance``."""
    full = {
        t: read_parquet(spark, p)
        for t, p in stage_simulation(
            spark, plan, staging, partitions, progress, "history", history=True
        ).items()
    }
    progress("finding each day's changes")
    steps = {
        t: (lambda t=t: _write_batches(change_batches(t, full, first, last), staging.path(fmt, t)))
        for t in TABLE_ORDER
    }
    written = concurrently(spark, progress, steps)
    return {t: spark.read.schema(change_schema(t)).parquet(str(written[t])) for t in TABLE_ORDER}


def run_partitions(spark: SparkSession, plan: Plan, partitions: int | None) -> int:
    return partitions or default_tasks(plan.expected_work(), cores(spark))


def write_changes(
    spark: SparkSession,
    cfg: Config,
    out: Path,
    formats: list[str],
    first: dt.date,
    last: dt.date,
    partitions: int | None,
    progress: Progress,
    snapshot: dict | None = None,
) -> dict:
    """Write the daily change batches of ``first``..``last`` into ``out`` (claimed by the caller)
    and return the published manifest, which names what they continue: ``snapshot`` (the manifest
    of the snapshot of the day before ``first``), or any snapshot of ``cfg`` as of that day."""
    progress(
        f"planning: {cfg.n_creators:,} creators, seed {cfg.seed}, scale {cfg.scale:g}, "
        f"changes of {first.isoformat()} to {last.isoformat()}"
    )
    plan = Plan.make(cfg)
    partitions = run_partitions(spark, plan, partitions)
    staging = Staging(out)
    try:
        batches = stage_batches(spark, plan, staging, partitions, progress, first, last)
        days = days_between(first, last)
        tables = {}
        for table in TABLE_ORDER:
            tables[table] = _describe(batches[table], days)
            _fill_empty_days(staging.path("parquet", table), change_schema(table), tables[table]["days"])
        paths = {t: {} for t in TABLE_ORDER}
        copies = {}
        for table in TABLE_ORDER:
            if Format.PARQUET in formats:
                paths[table]["parquet"] = f"parquet/{table}"
            df = batches[table]
            for fmt in ("delta", "csv"):
                if fmt in formats:
                    copies[f"{fmt}/{table}"] = lambda df=df, t=table, f=fmt: _copy(df, staging.path(f, t), f)
        for name in concurrently(spark, progress, copies):
            fmt, table = name.split("/", 1)
            paths[table][fmt] = name
        for table in TABLE_ORDER:
            tables[table]["paths"] = paths[table]
            if Format.CSV in formats:
                _fill_empty_csv_days(staging.path("csv", table), change_schema(table), tables[table]["days"])
        published = _manifest(
            plan, formats, partitions, first, last, tables, seconds=time.monotonic() - progress.started
        )
        published[CONTINUES] = continued(cfg, first - dt.timedelta(days=1), snapshot)
        staging.publish([paths[t][f] for t in TABLE_ORDER for f in formats], manifest.text(published))
    except BaseException:
        staging.discard()
        raise
    return published


def _write_batches(df: DataFrame, path: Path) -> Path:
    df.write.mode("overwrite").partitionBy(BATCH_DATE).parquet(str(path))
    return path


def _copy(df: DataFrame, path: Path, fmt: str) -> None:
    writer = df.write.mode("overwrite").partitionBy(BATCH_DATE)
    if fmt == Format.DELTA:
        writer.format("delta").save(str(path))
    else:
        from synth_spark.runtime.tables import CSV_TIME_ZONE, CSV_TIMESTAMP_FORMAT

        (
            writer.option("header", True)
            .option("timestampFormat", CSV_TIMESTAMP_FORMAT)
            .option("timeZone", CSV_TIME_ZONE)
            .csv(str(path))
        )


def _describe(df: DataFrame, days: list[dt.date]) -> dict:
    """Rows per day and change type, and each day's checksum (of its rows with the change columns)."""
    counts = {
        (r[BATCH_DATE], r[CHANGE_TYPE]): int(r["n"])
        for r in df.groupBy(BATCH_DATE, CHANGE_TYPE).agg(F.count(F.lit(1)).alias("n")).collect()
    }
    sums = {day: digest for day, (_, digest) in checksums_by(df, BATCH_DATE).items()}
    per_day = {}
    for day in days:
        d = day.isoformat()
        kinds = {k: counts.get((d, k), 0) for k in ("insert", "update_postimage", "delete")}
        per_day[d] = {"rows": sum(kinds.values()), **kinds, "checksum": sums.get(d, f"{0:016x}")}
    return {"rows": sum(v["rows"] for v in per_day.values()), "days": per_day}


def _fill_empty_csv_days(path: Path, schema, days: dict) -> None:
    """The same for CSV: a header and no rows."""
    header = ",".join(f.name for f in schema.fields if f.name != BATCH_DATE) + "\n"
    for day, stats in days.items():
        folder = path / f"{BATCH_DATE}={day}"
        if stats["rows"] == 0 and not folder.exists():
            folder.mkdir(parents=True)
            (folder / "part-00000-empty.csv").write_text(header)


def _fill_empty_days(path: Path, schema, days: dict) -> None:
    """A day on which a table did not change still gets its (empty) batch, so a loader can read
    every day's folder without asking whether it exists."""
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType

    arrow = to_arrow_schema(StructType([f for f in schema.fields if f.name != BATCH_DATE]), timezone="UTC")
    for day, stats in days.items():
        folder = path / f"{BATCH_DATE}={day}"
        if stats["rows"] == 0 and not folder.exists():
            folder.mkdir(parents=True)
            pq.write_table(arrow.empty_table(), folder / "part-00000-empty.parquet")


def _manifest(
    plan: Plan,
    formats: list[str],
    partitions: int,
    first: dt.date,
    last: dt.date,
    tables: dict,
    seconds: float,
) -> dict:
    return {
        **manifest.header(plan),
        "kind": KIND,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "formats": formats,
        "partitions": partitions,
        "seconds": round(seconds, 1),
        "tables": tables,
        "versions": manifest.versions(),
        "config": plan.cfg.fingerprint(),
    }
