"""Spark Connect seen from this side: whether a session is a Connect client, and whether its server
sees the folder this process writes (over Connect the server writes the tables while this process
keeps the lock, the staging and the manifest). Imports no pyspark: the command line uses it before
it knows a session is needed."""

from __future__ import annotations

import shutil
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from synth_spark.failures import ConfigError


def is_connect(spark) -> bool:
    """Whether ``spark`` is a Spark Connect client: no ``sparkContext``, no JVM on this side."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def check_server_sees(spark, folder: Path | str) -> None:
    """Over Spark Connect the server writes and reads the tables while this process keeps the lock,
    the staging and the manifest: both must see ``folder`` as the same place. Checked once, before
    any work, with a file written here and read back through the server (then removed)."""
    if not is_connect(spark):
        return
    if not isinstance(folder, Path):
        raise ConfigError(
            f"DATASET: {folder} is a URI; over Spark Connect give a folder this machine and the server "
            "share (object stores over Spark Connect: see docs/spark-connect.md)"
        )
    token = f"synth-spark {uuid.uuid4().hex}"
    probe = folder / f".synth-spark-probe-{uuid.uuid4().hex}"
    try:
        probe.mkdir(parents=True)
        (probe / "probe.txt").write_text(token, encoding="utf-8")
        try:
            seen = [
                r[0] for r in spark.read.text(str((probe / "probe.txt").resolve()), wholetext=True).collect()
            ]
        except Exception:  # noqa: BLE001 - whatever the server says, it does not see the file
            seen = []
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if seen != [token]:
        raise ConfigError(
            f"DATASET: the Spark Connect server does not see {str(folder.resolve())!r} as this machine does; "
            "give a folder both share (the same path on a shared mount)"
        )


#: Spark Connect's port when the address names none
CONNECT_PORT = 15002
#: seconds to wait for a Spark Connect server to accept a connection
CONNECT_TIMEOUT = 10


def reachable(remote: str) -> None:
    """Refuse an address nothing listens on in seconds: the Connect client itself retries for
    about ten minutes before it gives up."""
    where = urlsplit(remote.split(";", 1)[0])
    host, port = where.hostname or "localhost", where.port or CONNECT_PORT
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ConfigError(
            f"--remote: cannot reach a Spark Connect server at {host}:{port} "
            f"({exc.strerror or type(exc).__name__})"
        ) from None
