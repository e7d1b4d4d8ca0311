"""The driver JVM's output goes to a log file of its own (``failures.JvmLog``), never the terminal:
what Spark prints there (its start-up warning, the Java traces of a task that failed on a full disk,
a cancelled worker's broken pipe) is already said in synth-spark's one line, which names the file.
When the JVM does not start at all, its own reason (an impossible heap size, a malformed JVM option)
is that line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from synth_spark.failures import EnvironmentProblem, JvmLog

if TYPE_CHECKING:
    from pyspark import SparkConf

#: how PySpark says the JVM exited before it could be reached
_NOT_STARTED = ("JAVA_GATEWAY_EXITED", "Java gateway process exited")


def launch_gateway(conf: SparkConf):
    """Start the JVM as PySpark would (spark-submit with ``conf``), its output into a new JVM log
    (or the terminal, as PySpark does, when the log folder cannot be written)."""
    from pyspark.java_gateway import launch_gateway as pyspark_launch

    path = JvmLog.create()
    if path is None:
        return pyspark_launch(conf)
    with path.open("ab") as log:  # the JVM holds a descriptor of its own
        try:
            return pyspark_launch(conf, popen_kwargs={"stdout": log, "stderr": log})
        except Exception as exc:
            if any(text in str(exc) for text in _NOT_STARTED):
                raise EnvironmentProblem(f"Spark's JVM did not start: {JvmLog.reason()}") from None
            raise
