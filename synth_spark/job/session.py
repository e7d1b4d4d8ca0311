"""The SparkSession: UTC, no UI in local mode, Delta Lake when a format needs it, Arrow batches sized for the kernels."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from synth_spark.failures import EnvironmentProblem, java_problem
from synth_spark.job.delta_jars import (
    cached_delta_jars,
    delta_package,
    ensure_delta_jars,
    remember_delta_jars,
)

__all__ = ["build_session", "cached_delta_jars", "delta_package", "remember_delta_jars"]

#: log4j2 at ERROR for the JVM synth-spark starts
QUIET_LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
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


def _require_submitted_delta() -> None:
    """Under spark-submit the classpath is spark-submit's: Delta must be on it (``--packages``), or
    the run fails deep inside Spark with a page of Java. Say so in one line instead."""
    from pyspark import SparkContext

    SparkContext._ensure_initialized()  # the JVM spark-submit started, with its classpath
    try:
        SparkContext._jvm.org.apache.spark.util.Utils.classForName(DELTA_EXTENSIONS["spark.sql.extensions"], True, False)
    except Exception:  # noqa: BLE001 - py4j wraps the ClassNotFoundException
        raise EnvironmentProblem(f"Delta Lake is not on this Spark's classpath; add --packages {delta_package()} to "
                                 "spark-submit, or leave delta out of --format") from None


def _start_jvm(master: str, app_name: str, conf: dict[str, str]) -> None:
    """Start the driver's JVM ourselves when none runs yet, so its stderr can be filtered
    (job/jvm_output.py); the builder then finds this SparkContext and uses it."""
    from pyspark import SparkConf, SparkContext

    from synth_spark.job.jvm_output import launch_gateway

    if SparkContext._active_spark_context is not None or SparkContext._gateway is not None:
        return
    spark_conf = SparkConf(loadDefaults=False).setMaster(master).setAppName(app_name).setAll(list(conf.items()))
    SparkContext(conf=spark_conf, gateway=launch_gateway(spark_conf))


DELTA_STATE_TASKS = "spark.databricks.delta.snapshotPartitions"


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
    if master is None and delta:
        _require_submitted_delta()
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
        # Spark's start-up WARN lines and its log profile banner are not the user's business
        conf["spark.driver.extraJavaOptions"] = f"-Dlog4j.configurationFile={QUIET_LOG_CONFIG.as_uri()}"
    extra = dict(extra or {})
    if "spark.driver.extraJavaOptions" in extra and "spark.driver.extraJavaOptions" in conf:
        extra["spark.driver.extraJavaOptions"] = f"{conf['spark.driver.extraJavaOptions']} {extra['spark.driver.extraJavaOptions']}"
    conf.update(extra)
    for key, value in conf.items():
        builder = builder.config(key, value)
    if master is not None:
        _start_jvm(master, app_name, conf)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if delta:
        # Delta rebuilds a table's state (its list of files) in 50 tasks by default, sized for logs of
        # millions of files; ours hold a file per task (and per merged day), and the 50 tasks cost more
        # than the work: advance ran 2.5x faster at 0.1x with 2. A user's own setting (--conf) stands.
        set_unless_given(spark, DELTA_STATE_TASKS, "2")
    return spark


def set_unless_given(spark: SparkSession, key: str, value: str) -> None:
    """Our default for a setting, unless the user gave it (``--conf`` to spark-submit): theirs stands."""
    if not spark.sparkContext.getConf().contains(key):
        spark.conf.set(key, value)
