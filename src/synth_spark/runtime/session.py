"""The SparkSession: UTC, no UI in local mode, Delta Lake when a format needs it, Arrow batches sized for the
kernels."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from synth_spark.failures import ConfigError, EnvironmentProblem, java_problem, one_line
from synth_spark.runtime.connect import is_connect, reachable
from synth_spark.runtime.data_settings import DATA_SETTINGS
from synth_spark.runtime.delta_jars import (
    cached_delta_jars,
    delta_package,
    ensure_delta_jars,
    remember_delta_jars,
)
from synth_spark.runtime.jvm_output import launch_gateway

__all__ = [
    "build_session",
    "cached_delta_jars",
    "connect_session",
    "cores",
    "delta_package",
    "is_connect",
    "remember_delta_jars",
]

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
        SparkContext._jvm.org.apache.spark.util.Utils.classForName(
            DELTA_EXTENSIONS["spark.sql.extensions"], True, False
        )
    except Exception:  # noqa: BLE001 - py4j wraps the ClassNotFoundException
        raise EnvironmentProblem(
            f"Delta Lake is not on this Spark's classpath; add --packages {delta_package()} to "
            "spark-submit, or leave delta out of --format"
        ) from None


def _start_jvm(master: str, app_name: str, conf: dict[str, str]) -> None:
    """Start the driver's JVM ourselves when none runs yet, so its stderr can be filtered
    (runtime/jvm_output.py); the builder then finds this SparkContext and uses it."""
    from pyspark import SparkConf, SparkContext

    if SparkContext._active_spark_context is not None or SparkContext._gateway is not None:
        return
    spark_conf = (
        SparkConf(loadDefaults=False).setMaster(master).setAppName(app_name).setAll(list(conf.items()))
    )
    SparkContext(conf=spark_conf, gateway=launch_gateway(spark_conf))


DELTA_STATE_TASKS = "spark.databricks.delta.snapshotPartitions"
#: what every session of ours needs, classic or Spark Connect (all settable per session)
#: (the settings the written values depend on are applied last, over a user's: runtime/data_settings.py)
SESSION_SETTINGS = {
    **DATA_SETTINGS,
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "20000",
    "spark.sql.sources.partitionOverwriteMode": "static",
}


def build_session(
    master: str | None = "local[*]",
    app_name: str = "synth-spark",
    partitions: int | None = None,
    driver_memory: str | None = None,
    extra: dict[str, str] | None = None,
    delta: bool = True,
    delta_jars: list[str] | None = None,
    remote: str | None = None,
) -> SparkSession:
    """A session for generation. ``master=None`` keeps what ``spark-submit`` chose (and its ``--packages``).
    Delta Lake is configured only when ``delta``: a Parquet or CSV run needs no Delta jar. ``remote``
    (``sc://host:port``, or such a ``master``): a Spark Connect session instead, on the server's settings."""
    if remote is None and master is not None and master.startswith("sc://"):
        master, remote = None, master
    if remote is not None:
        return connect_session(remote, app_name, partitions, extra, delta)
    problem = java_problem()
    if problem:
        raise EnvironmentProblem(problem)
    _utf8_locale()
    # Python workers must run the interpreter that has our dependencies, not whatever is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    conf = {
        "spark.ui.showConsoleProgress": "false",
        **SESSION_SETTINGS,
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
        extra["spark.driver.extraJavaOptions"] = (
            f"{conf['spark.driver.extraJavaOptions']} {extra['spark.driver.extraJavaOptions']}"
        )
    conf.update(extra)
    conf.update(DATA_SETTINGS)
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
    """Our default for a setting, unless the user gave it (``--conf`` to spark-submit, or to the
    Spark Connect server): theirs stands. A session's settings start from the application's."""
    if spark.conf.get(key, None) is None:
        spark.conf.set(key, value)


@contextmanager
def own_settings(
    spark: SparkSession, settings: dict[str, str], forced: dict[str, str] | None = None
) -> Iterator[None]:
    """Our values for the work done inside, on a session that is the caller's (the library API):
    each of ``settings`` the caller did not give is set for the duration and unset after (one the
    caller gave stands); each of ``forced`` is set whatever the caller gave, and put back after.
    The session's settings are as they were once the block ends, however it ends."""
    ours = [key for key in settings if spark.conf.get(key, None) is None]
    before = {key: spark.conf.get(key, None) for key in forced or {}}
    for key in ours:
        spark.conf.set(key, settings[key])
    for key, value in (forced or {}).items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key in ours:
            spark.conf.unset(key)
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def cores(spark: SparkSession) -> int:
    """The tasks Spark runs at once by default: its default parallelism. Over Spark Connect, read
    from the partitions of a range, which the server sizes with that very number."""
    if not is_connect(spark):
        return spark.sparkContext.defaultParallelism
    from pyspark.sql import functions as F

    return (
        int(spark.range(0, 1 << 16).select(F.spark_partition_id().alias("p")).agg(F.max("p")).first()[0]) + 1
    )


def connect_session(
    remote: str,
    app_name: str = "synth-spark",
    partitions: int | None = None,
    extra: dict[str, str] | None = None,
    delta: bool = True,
) -> SparkSession:
    """A Spark Connect session on ``remote``, reached before any work (one line if it cannot be),
    with our session settings on top of the server's. The server brings its own jars and Python:
    Delta must be configured there when a format needs it."""
    reachable(remote)
    try:
        spark = SparkSession.builder.remote(remote).appName(app_name).create()
        spark.range(1).collect()  # the builder is lazy: reach the server now
    except Exception as exc:  # noqa: BLE001 - grpc's errors are many and long
        raise ConfigError(
            f"--remote: cannot reach a Spark Connect server at {remote} ({one_line(exc)})"
        ) from None
    for key, value in {
        **SESSION_SETTINGS,
        **({"spark.sql.shuffle.partitions": str(partitions)} if partitions else {}),
        **(extra or {}),
        **DATA_SETTINGS,
    }.items():
        spark.conf.set(key, value)
    if delta and "DeltaSparkSessionExtension" not in (spark.conf.get("spark.sql.extensions", None) or ""):
        raise EnvironmentProblem(
            f"Delta Lake is not configured on the Spark Connect server at {remote}; start it with "
            f"--packages {delta_package()} and the settings of docs/spark-connect.md, or leave "
            "delta out of --format"
        )
    if delta:
        set_unless_given(spark, DELTA_STATE_TASKS, "2")
    return spark
