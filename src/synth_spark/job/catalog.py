"""Generating a dataset into a database of the session's catalog (``--database NAME``): the tables
are staged as Parquet first (the simulation runs once, and a failure before publishing leaves the
catalog as it was), in a staging folder of ours in the session's warehouse folder, then each replaces
its Delta table's rows in one commit (``publish/database.py`` says how a replace is recorded and
undone), records the run's facts (seed, scale, version, as_of, rows, checksum) as table properties,
and the manifest row goes last.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from synth_spark import manifest as manifests
from synth_spark.config import Config
from synth_spark.job.layout import arranged
from synth_spark.job.writers import Staging, read_parquet
from synth_spark.progress import Progress
from synth_spark.publish.database import MANIFEST_DDL, MANIFEST_TABLE, Database
from synth_spark.publish.dataset_folder import stale_staging
from synth_spark.publish.storage import HadoopPath, remove_tree
from synth_spark.vocabulary import OUTPUT_TABLES

#: tables published at once
PUBLISHING_AT_ONCE = 4


def warehouse(spark: SparkSession) -> HadoopPath:
    return HadoopPath.of(spark, spark.conf.get("spark.sql.warehouse.dir"))


def table_facts(published: dict, table: str) -> dict[str, str]:
    """What a table's properties record of the run that wrote it."""
    entry = published["tables"][table]
    return {
        "generator": manifests.GENERATOR,
        "generator_version": published["generator_version"],
        "run_id": published["run_id"],
        "generated_at": published["generated_at"],
        "seed": str(published["seed"]),
        "scale": f"{published['scale']:g}",
        "layout": published["layout"],
        "as_of": published.get("as_of") or "",
        "rows": str(entry["rows"]),
        "checksum": entry["checksum"],
    }


def generate_tables(
    spark: SparkSession,
    cfg: Config,
    db: Database,
    partitions: int | None,
    progress: Progress,
    overwrite: bool = False,
    as_of: dt.date | None = None,
    layout: str = "tasks",
) -> dict:
    """Generate every table into the database ``db`` (checked first: ``Database.check_target``);
    returns the published manifest."""
    from synth_spark.job.generate import concurrently, planned, stage

    db.recover(progress)
    db.check_target(overwrite)
    room = warehouse(spark)
    for folder in stale_staging(room) if room.exists() else []:
        progress(f"removing {folder.name}, left by a run that is no longer running")
        remove_tree(folder, ignore_errors=True)
    plan, partitions = planned(spark, cfg, partitions, progress)
    staging = Staging(room)
    try:
        staged = stage(spark, plan, staging, partitions, progress, as_of, layout)
        rows, sums = staging.counts(OUTPUT_TABLES)
        published = manifests.build(
            plan,
            ["delta"],
            partitions,
            rows,
            sums,
            {t: {"delta": f"{db.name}.{t}"} for t in OUTPUT_TABLES},
            as_of,
            layout,
        )
        published["run_id"] = uuid.uuid4().hex
        published["database"] = db.name
        db.create()
        db.begin_replace(published["run_id"])

        def publish(table: str) -> Callable[[], dict]:
            def step() -> dict:
                db.create_table(table)
                df = arranged(
                    read_parquet(spark, staged[table]), table, partitions, layout, cfg.window.months
                )
                note = f"synth-spark run {published['run_id']}: seed {cfg.seed}, scale {cfg.scale:g}"
                df.writeTo(db.table(table)).option("userMetadata", note).overwrite(F.lit(True))
                data_version = db.version(table)
                db.set_properties(table, table_facts(published, table))
                return {"data_version": data_version, "location": db.location(table)}

            return step

        # mostly catalog and Delta log round trips on the driver, each with little Spark work
        written = concurrently(
            spark, progress, {t: publish(t) for t in OUTPUT_TABLES}, at_once=PUBLISHING_AT_ONCE
        )
        for table, where in written.items():
            published["tables"][table].update(where)
        _write_manifest(spark, db, published)
        db.end_replace()
    finally:
        staging.discard()
    progress(f"published {db.name}.{MANIFEST_TABLE}")
    return published


def _write_manifest(spark: SparkSession, db: Database, published: dict) -> None:
    db.create_manifest_table()
    generated = dt.datetime.fromisoformat(published["generated_at"])
    row = spark.createDataFrame(
        [(published["run_id"], generated, manifests.text(published))], MANIFEST_DDL.replace(" NOT NULL", "")
    )
    row.writeTo(db.table(MANIFEST_TABLE)).overwrite(F.lit(True))
