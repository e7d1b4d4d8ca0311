"""Spark Connect: the commands and the library API run on a real Spark Connect server with Delta
(started on 127.0.0.1 by scripts/spark-connect-server.sh) and write the same tables, checksum for
checksum, as the classic local session of the other tests.

The Connect runs are separate processes: a Spark Connect client switches PySpark's functions to
their Connect forms for the whole process, which the classic session's tests must not see."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from synth_spark.vocabulary import ANOMALY_TYPES, OUTPUT_TABLES
from tests.conftest import LAST_DAY, SMALL_SCALE, SMALL_SEED
from tests.spark_servers import free_port

from .helpers import read_manifest, run_cli

#: the small dataset's config, as command-line options
SMALL = [
    "--scale",
    str(SMALL_SCALE),
    "--seed",
    str(SMALL_SEED),
    *[a for name in ANOMALY_TYPES for a in ("--set", f"anomalies.{name}.enabled=true")],
]


def tables_of(manifest: dict) -> dict:
    return {t: (e["rows"], e["checksum"]) for t, e in manifest["tables"].items()}


@pytest.fixture(scope="module")
def remote_dataset(connect_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("remote") / "out"
    done = run_cli("generate", str(out), "--remote", connect_server, *SMALL, "--partitions", "3", "--quiet")
    assert done.returncode == 0, done.stderr
    return out


def test_generate_over_spark_connect_writes_the_classic_tables(remote_dataset, small_manifest):
    manifest = read_manifest(remote_dataset)
    assert manifest["formats"] == ["parquet", "csv", "delta"]
    assert tables_of(manifest) == tables_of(small_manifest)


def test_verify_over_spark_connect_reads_every_table_and_format(remote_dataset, connect_server):
    done = run_cli("verify", str(remote_dataset), "--remote", connect_server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{3 * len(OUTPUT_TABLES)} of {3 * len(OUTPUT_TABLES)} ok" in done.stdout


def test_change_batches_over_spark_connect_equal_the_classic_ones(connect_server, feed, tmp_path):
    import os

    out = tmp_path / "feed"
    env = {**os.environ, "SPARK_REMOTE": connect_server}  # the address from the environment this time
    done = run_cli(
        "changes",
        "--out",
        str(out),
        *SMALL,
        "--from",
        "2024-02-15",
        "--to",
        LAST_DAY,
        "--format",
        "parquet",
        "--quiet",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    ours = read_manifest(out / "changes")["tables"]
    classic = read_manifest(feed)["tables"]
    for table, entry in ours.items():
        assert entry["days"] == {d: classic[table]["days"][d] for d in entry["days"]}, table


def test_the_library_api_over_spark_connect_builds_the_classic_tables(connect_server, small_manifest):
    script = textwrap.dedent(f"""
        import json
        from pyspark.sql import SparkSession
        import synth_spark
        from synth_spark.runtime.tables import checksum

        spark = SparkSession.builder.remote({connect_server!r}).getOrCreate()
        on = {{f"anomalies.{{name}}.enabled": True for name in {list(ANOMALY_TYPES)!r}}}
        tables = synth_spark.Generator(spark, scale={SMALL_SCALE}, seed={SMALL_SEED}, settings=on).build()
        print(json.dumps({{t: list(checksum(df)) for t, df in tables.items()}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    built = {t: tuple(v) for t, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}
    assert built == tables_of(small_manifest)


def test_an_unreachable_server_is_refused_in_one_line_before_any_work(small_dataset):
    port = free_port()  # nothing listens there
    done = run_cli("verify", str(small_dataset), "--remote", f"sc://127.0.0.1:{port}", timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"synth-spark: error: --remote: cannot reach a Spark Connect server at "
        f"127.0.0.1:{port} (Connection refused)"
    )


def test_a_labelled_double_load_is_published_over_spark_connect_where_keys_are_read_whole(
    connect_server, small_manifest, tmp_path
):
    """Over Connect no chunk counts its rows, so the staged tables' keys are read back whole: a
    transaction_id the ground truth says was loaded twice is published, and only that table moves."""
    conf = tmp_path / "twice.yaml"
    conf.write_text(
        "scenarios:\n  instances:\n    - {type: transactions_duplicated, segment: {payment_method: [card]}, "
        "start: 2024-05-01, end: 2024-05-01, size: 1.0}\n"
    )
    out = tmp_path / "out"
    done = run_cli(
        "generate",
        str(out),
        "--remote",
        connect_server,
        *SMALL,
        "--data-incidents",
        "--config",
        str(conf),
        "--format",
        "parquet",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    made, classic = tables_of(read_manifest(out)), tables_of(small_manifest)
    assert [t for t in made if made[t] != classic[t]] == ["transactions", "anomalies"]
    assert made["transactions"][0] > classic["transactions"][0]
    assert read_manifest(out)["data_incidents"][0]["anomaly_type"] == "transactions_duplicated"
