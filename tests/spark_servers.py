"""Servers the tests start on loopback and stop afterwards, by process group: a Spark Connect
server with Delta (scripts/spark-connect-server.sh, the one the docs tell users to start), and an
S3-compatible object store (moto's server mode) with a bucket in it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONNECT_SCRIPT = ROOT / "scripts" / "spark-connect-server.sh"
START_TIMEOUT = 120  # seconds for the server's JVM to listen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _wait_listening(proc: subprocess.Popen, port: int, log: Path, what: str) -> None:
    """Until the server ``proc`` accepts connections on ``port``; its log's end if it dies or never does."""
    deadline = time.monotonic() + START_TIMEOUT
    while not _listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


@contextmanager
def connect_server(log: Path, master: str = "local[2]"):
    """A Spark Connect server on 127.0.0.1: yields its ``sc://`` address; its log goes to ``log``."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "MASTER": master, "PYTHON": sys.executable}
    env.pop("SPARK_REMOTE", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["bash", str(CONNECT_SCRIPT)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_listening(proc, port, log, "the Spark Connect server")
        yield f"sc://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """TERM the server's process group (the JVM and its Python workers), KILL what is left after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


#: the bucket the S3 server starts with, and the credentials it accepts (any are; these are named)
S3_BUCKET = "synth"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "synth-test",
    "AWS_SECRET_ACCESS_KEY": "synth-test-secret",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def s3_server(log: Path):
    """An S3-compatible server on 127.0.0.1 (moto_server, a separate process) holding an empty
    bucket ``S3_BUCKET``: yields its endpoint URL."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_listening(proc, port, log, "the S3 server")
        endpoint = f"http://127.0.0.1:{port}"
        s3_client(endpoint).create_bucket(Bucket=S3_BUCKET)
        yield endpoint
    finally:
        _stop(proc)


def s3_client(endpoint: str):
    """boto3's S3 client on the test server (to look into the bucket as a second reader would)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["AWS_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


#: the S3A connector, as a user adds it to reach a store
HADOOP_AWS = "org.apache.hadoop:hadoop-aws:3.5.0"


def s3_settings(endpoint: str) -> list[str]:
    """What a user passes to reach an S3-compatible store that is not AWS (path-style, its own endpoint)."""
    conf = {
        "spark.jars.packages": HADOOP_AWS,
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.endpoint.region": S3_CREDENTIALS["AWS_REGION"],
    }
    return [arg for key, value in conf.items() for arg in ("--spark-conf", f"{key}={value}")]
