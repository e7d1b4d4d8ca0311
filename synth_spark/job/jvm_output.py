"""The JVM's standard error, passed through without the one line Spark's launcher makes the JVM
print at every start ("WARNING: Using incubator modules: jdk.incubator.vector"): no JVM flag turns
it off, and under ``--quiet`` it was the only line left. Everything else the JVM writes there (a
crash, an OutOfMemoryError) still reaches the user."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import IO

from pyspark import SparkConf

#: lines the JVM writes at start-up that say nothing to a user
NOISE = (b"WARNING: Using incubator modules",)


def _forward(stream: IO[bytes], to: IO[bytes]) -> None:
    for line in iter(stream.readline, b""):
        if not line.startswith(NOISE):
            to.write(line)
            to.flush()


def launch_gateway(conf: SparkConf):
    """Start the JVM as PySpark would (spark-submit with ``conf``), its stderr filtered by a thread."""
    from pyspark.java_gateway import launch_gateway as pyspark_launch

    gateway = pyspark_launch(conf, popen_kwargs={"stderr": subprocess.PIPE})
    target = getattr(sys.stderr, "buffer", None) or sys.__stderr__.buffer
    threading.Thread(target=_forward, args=(gateway.proc.stderr, target), name="jvm-stderr", daemon=True).start()
    return gateway
