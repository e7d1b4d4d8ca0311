"""The JVM's standard error, passed through without two kinds of noise: the one line Spark's
launcher makes the JVM print at every start ("WARNING: Using incubator modules:
jdk.incubator.vector"; no JVM flag turns it off, and under ``--quiet`` it was the only line left),
and the traceback a PySpark worker daemon prints when a job we cancel (a full disk, Ctrl-C) closes
its socket mid-write (a ``BrokenPipeError`` or ``ConnectionResetError`` raised in
``pyspark/daemon.py``): that failure is already
reported in one line. Everything else the JVM writes there (a crash, an OutOfMemoryError, any other
Python traceback) still reaches the user."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import IO

from pyspark import SparkConf

#: lines the JVM writes at start-up that say nothing to a user
NOISE = (b"WARNING: Using incubator modules",)
_TRACEBACK = b"Traceback (most recent call last):"
#: how a worker's socket looks once the JVM killed its task
_CLOSED = (b"BrokenPipeError", b"ConnectionResetError")


def _is_cancelled_worker(block: list[bytes]) -> bool:
    """A traceback whose every frame is in PySpark's worker daemon and that ends in a broken pipe."""
    frames = [ln for ln in block[1:-1] if ln.lstrip().startswith(b"File ")]
    return (bool(frames) and all(b"pyspark/daemon.py" in ln for ln in frames)
            and block[-1].startswith(_CLOSED))


def filtered(lines: Iterable[bytes]) -> Iterator[bytes]:
    """``lines`` without the noise above, in order."""
    block: list[bytes] = []
    for line in lines:
        if block:
            block.append(line)
            if line.startswith((b" ", b"\t")):
                continue  # a frame of the traceback being read
            if not _is_cancelled_worker(block):
                yield from block
            block = []
        elif line.startswith(_TRACEBACK):
            block = [line]
        elif not line.startswith(NOISE):
            yield line
    yield from block


def _forward(stream: IO[bytes], to: IO[bytes]) -> None:
    for line in filtered(iter(stream.readline, b"")):
        to.write(line)
        to.flush()


def launch_gateway(conf: SparkConf):
    """Start the JVM as PySpark would (spark-submit with ``conf``), its stderr filtered by a thread."""
    from pyspark.java_gateway import launch_gateway as pyspark_launch

    gateway = pyspark_launch(conf, popen_kwargs={"stderr": subprocess.PIPE})
    target = getattr(sys.stderr, "buffer", None) or sys.__stderr__.buffer
    threading.Thread(target=_forward, args=(gateway.proc.stderr, target), name="jvm-stderr", daemon=True).start()
    return gateway
