"""Writing to an object store for real: ``synth-spark generate s3a://...`` and ``verify`` against an
S3-compatible server on loopback (moto's server mode), through Hadoop's S3A connector at Spark's
Hadoop version, as a user runs them (the CLI, ``--spark-conf`` for the connector and the endpoint,
credentials in the environment). The tables equal a local run's; ``--overwrite`` replaces the
dataset; a run killed while it publishes leaves a dataset that verifies, old or new, never a mix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth_spark.manifest import MANIFEST
from synth_spark.publish.dataset_folder import JOURNAL, MARKER, make_staging
from synth_spark.publish.journal import begin

from .conftest import SMALL_SCALE, SMALL_SEED, copied_in_part, parquet_only
from .helpers import CLI, read_manifest
from .s3_lock_harness import RACERS as LOCK_RACERS
from .spark_servers import S3_BUCKET, S3_CREDENTIALS, s3_client, s3_settings

#: Hadoop's S3 connector at the version of the Hadoop pyspark ships (hadoop-client-api-3.5.0.jar)
LOCK_HARNESS = Path(__file__).with_name("s3_lock_harness.py")
#: how long a run may take (Spark's start, the connector's resolution the first time, a busy machine)
RUN_TIMEOUT = 900


@pytest.fixture(scope="module")
def endpoint(s3_endpoint):
    return s3_endpoint


def _env() -> dict[str, str]:
    return {**os.environ, **S3_CREDENTIALS}


def _cli(endpoint: str, *args: str, timeout: int = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    cmd = [*CLI, *args, "--master", "local[2]", *s3_settings(endpoint)]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)


def _manifest(endpoint: str, prefix: str) -> dict:
    body = s3_client(endpoint).get_object(Bucket=S3_BUCKET, Key=f"{prefix}/{MANIFEST}")["Body"].read()
    return json.loads(body)


def _keys(endpoint: str, prefix: str) -> list[str]:
    pages = (
        s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=f"{prefix}/")
    )
    # without the folder markers S3A leaves (``prefix/``, ``prefix/delta/``)
    return [
        o["Key"][len(prefix) + 1 :]
        for page in pages
        for o in page.get("Contents", [])
        if not o["Key"].endswith("/")
    ]


def _checksums(manifest: dict) -> dict[str, str]:
    return {t: v["checksum"] for t, v in manifest["tables"].items()}


@pytest.fixture(scope="module")
def written(endpoint):
    """``small_dataset``'s run (seed, scale, tasks, the three formats) written to the bucket; the
    module's last test replaces it (the killed run, then the run after it)."""
    done = _cli(
        endpoint,
        "generate",
        f"s3a://{S3_BUCKET}/small",
        "--scale",
        str(SMALL_SCALE),
        "--seed",
        str(SMALL_SEED),
        "--partitions",
        "2",
        "--format",
        "parquet,delta,csv",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return f"s3a://{S3_BUCKET}/small"


def test_the_tables_written_to_s3_are_the_local_runs_with_the_manifest(endpoint, written, small_manifest):
    manifest = _manifest(endpoint, "small")
    assert _checksums(manifest) == _checksums(small_manifest)
    keys = _keys(endpoint, "small")
    # the dataset and nothing of the run beside it: no staging folder, no lock, no journal
    assert {k.split("/")[0] for k in keys} == {"parquet", "delta", "csv", MANIFEST, MARKER}


def test_verify_reads_every_table_back_from_s3(endpoint, written):
    done = _cli(endpoint, "verify", written)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.count(" ok ") == 24 and "24 of 24 ok" in done.stdout


def _lock_cases(endpoint: str, prefix: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(LOCK_HARNESS), endpoint, prefix, *args],
        capture_output=True,
        text=True,
        env={**_env(), "PYTHONPATH": str(LOCK_HARNESS.parent.parent)},
        timeout=RUN_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_on_s3_the_lock_is_a_conditional_write_so_one_run_wins(endpoint):
    """S3 refuses a write whose condition no longer holds (If-None-Match, If-Match), and S3A
    (Hadoop 3.4.2 and later) uses that: the lock is created only if absent, and a dead run's lease
    is taken over, and a live one renewed, only if it is still the one that was read."""
    cases = _lock_cases(endpoint, "lock")
    assert cases["conditional_writes"]
    assert cases["race"] == {"won": 1, "refused": LOCK_RACERS - 1}  # eight runs at the same instant
    assert (
        cases["create_over_existing"] is False and cases["store_refuses_existing"] and cases["existing_kept"]
    )
    assert cases["second_takeover"] is False and cases["first_holds"]  # two runs read the dead lease
    assert cases["renewed_after_losing"] is False and cases["successor_kept"]  # a lease that ran out


def test_on_a_store_without_conditional_writes_the_lock_falls_back_to_looking_first(endpoint):
    """With S3A's conditional writes off (a store that lacks them), the lock is the earlier best
    effort: an existing lock is still refused, but runs racing within the same instant may all win."""
    cases = _lock_cases(endpoint, "lock-unconditional", "--no-conditional-writes")
    assert not cases["conditional_writes"]
    assert cases["create_over_existing"] is False and cases["existing_kept"]
    print(f"\nwithout conditional writes, {cases['race']['won']} of {LOCK_RACERS} racing runs took the lock")


def _upload(endpoint: str, folder: Path, prefix: str) -> None:
    client = s3_client(endpoint)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        client.upload_file(str(path), S3_BUCKET, f"{prefix}/{path.relative_to(folder)}")


def test_a_table_half_renamed_in_s3_when_its_run_died_is_moved_whole_by_the_next_reader(
    endpoint, small_dataset, tmp_path
):
    """S3A renames a folder object by object (copies, then deletes the sources), so a run killed
    in one leaves the table partly at both places. This builds that state as the connector leaves
    it: the publish of a Parquet-only dataset over the three-format one, killed while the first new
    table was coming in, two of its objects copied and none deleted. The next reader (verify, on
    S3 through S3A) finishes the publish: every table of the new dataset verifies."""
    local = tmp_path / "half"
    shutil.copytree(small_dataset, local)
    manifest = parquet_only(read_manifest(local))
    new_entries = [entry["paths"]["parquet"] for entry in manifest["tables"].values()]
    staging = make_staging(local)
    for entry in new_entries:
        shutil.copytree(local / entry, staging / entry)
    journal = begin(local, staging, new_entries, json.dumps(manifest, indent=2))
    cut = next(i for i, (source, _) in enumerate(journal.steps) if source.startswith(staging.name))
    for i in range(cut):
        journal.take(i)
    journal.record(step=cut)
    source, target = (local / part for part in journal.steps[cut])
    assert len([p for p in source.rglob("*") if p.is_file()]) > 2
    copied_in_part(source, target, copied=2)
    _upload(endpoint, local, "half")

    done = _cli(endpoint, "verify", f"s3a://{S3_BUCKET}/half")
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "completed an interrupted publish" in done.stderr
    assert "8 of 8 ok" in done.stdout, done.stdout
    assert _manifest(endpoint, "half")["formats"] == ["parquet"]
    assert {k.split("/")[0] for k in _keys(endpoint, "half")} == {"parquet", MANIFEST, MARKER}


def test_a_run_killed_while_publishing_to_s3_leaves_a_dataset_that_verifies(
    endpoint, written, small_manifest, tmp_path
):
    """An --overwrite run killed once its publish has begun (its journal is the publish's first
    write) leaves the old dataset or the new one, whole: the next reader (verify) finishes or undoes
    the swap. The next run takes over the dead run's lock and replaces the dataset."""
    small = ("--scale", "0.05", "--format", "parquet")
    log = tmp_path / "killed.log"
    cmd = [
        *CLI,
        "generate",
        written,
        *small,
        "--seed",
        "2",
        "--overwrite",
        "--master",
        "local[2]",
        *s3_settings(endpoint),
    ]
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while JOURNAL not in _keys(endpoint, "small"):
            assert proc.poll() is None, f"the run ended before it was killed:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no publish after {RUN_TIMEOUT}s:\n{log.read_text()[-3000:]}"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = _cli(endpoint, "verify", written)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    after = _manifest(endpoint, "small")
    assert after["seed"] == 2 or _checksums(after) == _checksums(
        small_manifest
    )  # the new dataset, or the old one
    assert JOURNAL not in _keys(endpoint, "small")

    rerun = _cli(endpoint, "generate", written, *small, "--seed", "3", "--overwrite")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert _manifest(endpoint, "small")["seed"] == 3
    assert {k.split("/")[0] for k in _keys(endpoint, "small")} == {"parquet", MANIFEST, MARKER}
