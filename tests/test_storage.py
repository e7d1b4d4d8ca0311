"""Output to a Hadoop FileSystem URI: the driver stages, publishes and writes the manifest through
the JVM's FileSystem API (as it must for s3a://, abfss://, hdfs://). Exercised with file:// URIs,
which take that same code path through Hadoop's local file system."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from synth_spark.publish.storage import HadoopPath, is_uri, location


def test_uris_and_paths_are_told_apart(tmp_path):
    assert is_uri("s3a://bucket/x") and is_uri("file:///tmp/x") and is_uri("abfss://c@a.dfs.core.windows.net/p")
    assert not is_uri("out/1x") and not is_uri("/tmp/x") and not is_uri("s3a:/bucket")
    assert location("s3a://bucket/x") == "s3a://bucket/x"
    assert location(str(tmp_path)) == tmp_path


def test_hadoop_path_does_what_publishing_needs(spark, tmp_path):
    root = HadoopPath.of(spark, tmp_path.as_uri())
    folder = root / "a" / "b"
    folder.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    assert folder.is_dir() and (tmp_path / "a" / "b").is_dir()
    (folder / "m.json").write_text('{"x": 1}\n')
    assert json.loads((folder / "m.json").read_text()) == {"x": 1}
    assert [p.name for p in folder.glob("*.json")] == ["m.json"]
    assert str((folder / "m.json").relative_to(root)) == "a/b/m.json"
    (folder / "m.json").replace(root / "m.json")
    assert (root / "m.json").exists() and not (folder / "m.json").exists()
    with pytest.raises(FileNotFoundError):
        (folder / "missing").read_text()
    (root / "a").rmtree()
    assert not (tmp_path / "a").exists()


def test_generate_to_a_uri_matches_the_local_dataset(spark, small_config, small_manifest, tmp_path):
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    out = HadoopPath.of(spark, (tmp_path / "uri-out").as_uri())
    result = generate(spark, small_config, out, ["parquet", "csv"], partitions=3, progress=Progress(quiet=True))
    manifest = json.loads((tmp_path / "uri-out" / "_manifest.json").read_text())
    assert result.checksums == {t: v["checksum"] for t, v in small_manifest["tables"].items()}
    assert {t: v["checksum"] for t, v in manifest["tables"].items()} == result.checksums
    assert sorted(p.name for p in (tmp_path / "uri-out").iterdir() if not p.name.startswith(".")) == \
        ["_manifest.json", "csv", "parquet"]
    assert not list((tmp_path / "uri-out").glob(".synth-spark-staging-*"))
    assert (tmp_path / "uri-out" / "csv" / "creators.csv").is_file()


def test_cli_refuses_to_replace_a_dataset_at_a_uri_without_overwrite(small_dataset, tmp_path):
    run = subprocess.run([sys.executable, "-m", "synth_spark.cli", "generate", small_dataset.as_uri(),
                          "--scale", "0.02", "--format", "parquet", "--master", "local[1]", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr[-2000:]
    last = run.stderr.strip().splitlines()[-1]
    assert "DATASET" in last and "already holds a dataset" in last and "--overwrite" in last


def test_a_lock_on_a_hadoop_uri_is_a_lease_one_writer_at_a_time(spark, tmp_path):
    import time

    from synth_spark.publish.dataset_folder import LOCK, owner_record
    from synth_spark.publish.lock import DatasetLock, LockHeld

    out = HadoopPath.of(spark, tmp_path.as_uri())
    with DatasetLock(out):
        held = json.loads((tmp_path / LOCK).read_text())
        assert held["pid"] > 0 and held["lease_until"] > time.time()
        with pytest.raises(LockHeld, match=f"pid {held['pid']}"):
            DatasetLock(out).acquire()
    assert not (tmp_path / LOCK).exists()
    # a holder that died without releasing: its lease ran out, so the lock is taken over
    (tmp_path / LOCK).write_text(json.dumps({**owner_record(), "pid": 999_999_999, "lease_until": time.time() - 1}))
    with DatasetLock(out):
        assert json.loads((tmp_path / LOCK).read_text())["lease_until"] > time.time()
