"""The SparkSession: UTC, no UI in local mode, Delta Lake when a format needs it, Arrow batches sized for the kernels."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from synth_spark.failures import EnvironmentProblem, java_problem
from synth_spark.job.delta_jars import (
    cached_delta_jars,
    delta_package,
    ensure_delta_jars,
    remember_delta_jars,
)

__all__ = ["build_session", "cached_delta_jars", "delta_package", "remember_delta_jars"]

DELTA_EXTENSIONS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def _utf8_locale() -> None:
    """Make the JVM encode file names as UTF-8 whatever the user's locale: under LC_ALL=C it would
    turn every non-ASCII character of a path into '?' and write somewhere else."""
    names = [os.environ.get(k) for k in ("LC_ALL", "LC_CTYPE", "LANG")]
    current = next((n for n in names if n), "C")
    if "utf-8" not in current.lower().replace("utf8", "utf-8"):
        os.environ["LC_ALL"] = "C.UTF-8"


def build_session(master: str | None = "local[*]", app_name: str = "synth-spark", partitions: int | None = None,
                  driver_memory: str | None = None, extra: dict[str, str] | None = None, delta: bool = True,
                  delta_jars: list[str] | None = None) -> SparkSession:
    """A session for generation. ``master=None`` keeps what ``spark-submit`` chose (and its ``--packages``).
    Delta Lake is configured only when ``delta``: a Parquet or CSV run needs no Delta jar."""
    problem = java_problem()
    if problem:
        raise EnvironmentProblem(problem)
    _utf8_locale()
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
        **(DELTA_EXTENSIONS if delta else {}),
    }
    if partitions:
        conf["spark.sql.shuffle.partitions"] = str(partitions)
    if master is not None:
        builder = builder.master(master)
        # Jars resolved before are used from disk: no resolver output, and no network needed.
        jars = delta_jars if delta_jars is not None else ensure_delta_jars() if delta else []
        if jars:
            conf["spark.jars"] = ",".join(jars)
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
