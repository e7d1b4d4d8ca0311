"""The SparkSession: UTC, no UI in local mode, Delta Lake enabled, Arrow batches sized for the kernels."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

DELTA_EXTENSIONS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def delta_package() -> str:
    """The Maven coordinate of the Delta jar matching the installed pyspark and delta-spark."""
    from importlib.metadata import version

    import pyspark

    spark_mm = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_mm}_2.13:{version('delta-spark')}"


def _jar_list_file() -> Path:
    cache = Path(os.environ.get("SYNTH_SPARK_CACHE", Path.home() / ".cache" / "synth-spark"))
    return cache / f"{delta_package().replace(':', '_')}.jars"


def cached_delta_jars() -> list[str] | None:
    """Local paths of the Delta jars resolved earlier by scripts/fetch_delta_jars.py, if all still exist."""
    listing = _jar_list_file()
    if not listing.is_file():
        return None
    jars = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    return jars if jars and all(Path(j.removeprefix("file:")).is_file() for j in jars) else None


def remember_delta_jars(jars: list[str]) -> Path:
    listing = _jar_list_file()
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("\n".join(jars) + "\n")
    return listing


def build_session(master: str | None = "local[*]", app_name: str = "synth-spark", partitions: int | None = None,
                  driver_memory: str | None = None, extra: dict[str, str] | None = None) -> SparkSession:
    """A session for generation. ``master=None`` keeps what ``spark-submit`` chose (and its ``--packages``)."""
    # Python workers must run the interpreter that has our dependencies, not whatever is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "20000",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.sources.partitionOverwriteMode": "static",
        **DELTA_EXTENSIONS,
    }
    if partitions:
        conf["spark.sql.shuffle.partitions"] = str(partitions)
    if master is not None:
        builder = builder.master(master)
        # Jars resolved before are used from disk: no resolver output, and no network needed.
        jars = cached_delta_jars()
        if jars:
            conf["spark.jars"] = ",".join(jars)
        else:
            conf["spark.jars.packages"] = delta_package()
        if master.startswith("local"):
            conf["spark.ui.enabled"] = "false"
            conf["spark.driver.host"] = os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")
            conf["spark.driver.bindAddress"] = "127.0.0.1"
        if driver_memory:
            conf["spark.driver.memory"] = driver_memory
    conf.update(extra or {})
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
