"""What publishing costs on an object store: the same ``synth-spark generate`` into a local folder and
into ``s3a://`` on an S3-compatible server on loopback (moto's server mode, from the ``test`` extra),
timed from the run's own progress lines: the tables written (staged), then the publish (on S3, a
copy and a delete of every object, since S3 has no rename) up to the manifest.

    python scripts/bench_object_store.py --scale 0.05 --format parquet,delta

Prints one row per target. Loopback S3 has no network cost: on AWS the copies run inside S3, and
the figure to read is the publish's share of the run, not its seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HADOOP_AWS = "org.apache.hadoop:hadoop-aws:3.5.0"
BUCKET = "bench"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_REGION": "us-east-1",
}
PROGRESS = re.compile(r"^\[\s*([\d.]+)s\] (.*)$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_moto(log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        sys.exit("moto_server not found: pip install -c constraints.txt -e '.[test]'")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
    ).create_bucket(Bucket=BUCKET)
    return proc, endpoint


def _objects(endpoint: str, prefix: str) -> int:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sum(len(p.get("Contents", [])) for p in pages)


def _generate(target: str, args: argparse.Namespace, extra: list[str], env: dict) -> dict:
    cmd = [
        str(Path(sys.executable).with_name("synth-spark")),
        "generate",
        target,
        "--scale",
        str(args.scale),
        "--format",
        args.format,
        "--master",
        args.master,
        *extra,
    ]
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    marks = [(float(m.group(1)), m.group(2)) for m in map(PROGRESS.match, done.stderr.splitlines()) if m]
    staged = max(t for t, text in marks if re.match(r"^\w+: [\d,]+ rows, checksum", text))
    published = next(t for t, text in marks if text.startswith("published "))
    return {"wall": wall, "staged": staged, "publish": published - staged}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--format", default="parquet,delta")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="synth-bench-s3-"))
    proc, endpoint = _start_moto(work / "moto.log")
    try:
        env = {**os.environ, **CREDENTIALS}
        s3 = [
            "--spark-conf",
            f"spark.jars.packages={HADOOP_AWS}",
            "--spark-conf",
            f"spark.hadoop.fs.s3a.endpoint={endpoint}",
            "--spark-conf",
            "spark.hadoop.fs.s3a.path.style.access=true",
            "--spark-conf",
            "spark.hadoop.fs.s3a.endpoint.region=us-east-1",
        ]
        rows = {
            "local folder": _generate(str(work / "local"), args, [], env),
            "s3a:// (moto, loopback)": _generate(f"s3a://{BUCKET}/run", args, s3, env),
        }
        objects = _objects(endpoint, "run/")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"generate --scale {args.scale:g} --format {args.format} --master {args.master}; {objects} objects "
        "on S3"
    )
    print("| target | wall s | tables written at s | publish s | publish share |\n|---|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['wall']:.1f} | {r['staged']:.1f} | {r['publish']:.1f} | "
            f"{r['publish'] / r['wall']:.0%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
