"""Output to a Hadoop FileSystem URI: the driver stages, publishes and writes the manifest through
the JVM's FileSystem API (as it must for s3a://, abfss://, hdfs://). Exercised with file:// URIs,
which take that same code path through Hadoop's local file system."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from synth_spark.publish.storage import PARTIAL_PREFIX, HadoopPath, is_uri, location, write_synced

from .conftest import copied_in_part
from .helpers import CLI, read_manifest


def test_uris_and_paths_are_told_apart(tmp_path):
    assert (
        is_uri("s3a://bucket/x") and is_uri("file:///tmp/x") and is_uri("abfss://c@a.dfs.core.windows.net/p")
    )
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


def test_a_file_on_a_hadoop_uri_is_written_whole_and_a_folder_listed_whole(spark, tmp_path):
    root = HadoopPath.of(spark, tmp_path.as_uri())
    for text in ('{"v": 1}\n', '{"v": 2}\n'):  # the second replaces the first in one rename
        write_synced(root / "m.json", text)
        assert (tmp_path / "m.json").read_text() == text
    assert not (tmp_path / f"{PARTIAL_PREFIX}m.json").exists()
    (tmp_path / "t" / "sub").mkdir(parents=True)
    (tmp_path / "t" / "sub" / "f").write_text("x")
    assert sorted((root / "t").walk()) == ["sub/", "sub/f"]


def test_generate_to_a_uri_matches_the_local_dataset(spark, small_config, small_manifest, tmp_path):
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    out = HadoopPath.of(spark, (tmp_path / "uri-out").as_uri())
    result = generate(
        spark, small_config, out, ["parquet", "csv"], partitions=3, progress=Progress(quiet=True)
    )
    manifest = read_manifest(tmp_path / "uri-out")
    assert result.checksums == {t: v["checksum"] for t, v in small_manifest["tables"].items()}
    assert {t: v["checksum"] for t, v in manifest["tables"].items()} == result.checksums
    assert sorted(p.name for p in (tmp_path / "uri-out").iterdir() if not p.name.startswith(".")) == [
        "_manifest.json",
        "csv",
        "parquet",
    ]
    assert not list((tmp_path / "uri-out").glob(".synth-spark-staging-*"))
    assert (tmp_path / "uri-out" / "csv" / "creators.csv").is_file()


def test_cli_refuses_to_replace_a_dataset_at_a_uri_without_overwrite(small_dataset, tmp_path):
    run = subprocess.run(
        [
            *CLI,
            "generate",
            small_dataset.as_uri(),
            "--scale",
            "0.02",
            "--format",
            "parquet",
            "--master",
            "local[1]",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
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
    (tmp_path / LOCK).write_text(
        json.dumps({**owner_record(), "pid": 999_999_999, "lease_until": time.time() - 1})
    )
    with DatasetLock(out):
        assert json.loads((tmp_path / LOCK).read_text())["lease_until"] > time.time()


# -- a publish cut short in the middle of a rename on an object store ------------------------------
# S3A renames a folder one object at a time: it copies every object, and deletes the sources in
# pages once their copies have completed; each copy is whole or absent. These tests leave a publish
# in each state such a rename can be cut short in, through Hadoop's local file system (the same
# code path), and check that the next reader completes or undoes the swap whole.


def _tagged_dataset(root: Path, tag: str) -> tuple[list[str], str]:
    """Two tables of three objects each, every object holding ``tag``; its entries and manifest."""
    tables = ("creators", "pledges")
    for table in tables:
        (root / "parquet" / table).mkdir(parents=True)
        for part in range(3):
            (root / "parquet" / table / f"part-{part}").write_text(f"{tag} {table} {part}")
    manifest = {
        "generator": "synth-spark",
        "tag": tag,
        "formats": ["parquet"],
        "tables": {t: {"rows": 3, "checksum": "0", "paths": {"parquet": f"parquet/{t}"}} for t in tables},
    }
    return [f"parquet/{t}" for t in tables], json.dumps(manifest)


def _contents(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text()
        for p in sorted((folder / "parquet").rglob("*"))
        if p.is_file()
    }


CUT_SHORT = {
    # (the step cut short: the old manifest going aside, or the first new table coming in), objects
    # copied, deleted
    "the old manifest copied aside, not yet deleted": ("manifest", 1, 0),
    "a new table two thirds copied in, nothing deleted": ("table", 2, 0),
    "a new table copied in, one source object deleted": ("table", 3, 1),
}


@pytest.mark.parametrize(
    "rollback", [False, True], ids=["then killed", "then killed while putting the old one back"]
)
@pytest.mark.parametrize("state", CUT_SHORT)
def test_a_rename_an_object_store_left_half_done_is_completed_or_undone_whole(
    spark, tmp_path, state, rollback
):
    from synth_spark.publish.dataset_folder import JOURNAL, MARKER, make_staging
    from synth_spark.publish.journal import begin, recover

    out = tmp_path / "out"
    entries, manifest_text = _tagged_dataset(out, "old")
    (out / "_manifest.json").write_text(manifest_text)
    (out / MARKER).write_text("{}")
    old = _contents(out)
    root = HadoopPath.of(spark, out.as_uri())
    staging = make_staging(root)
    _tagged_dataset(Path(str(staging).removeprefix("file:")), "new")
    journal = begin(root, staging, entries, manifest_text.replace('"old"', '"new"'))
    what, copied, deleted = CUT_SHORT[state]
    cut = (
        0
        if what == "manifest"
        else next(i for i, (src, _) in enumerate(journal.steps) if src.startswith(staging.name))
    )
    for i in range(cut):
        journal.take(i)
    journal.record(step=cut)
    source, target = journal.steps[cut]
    src_local, dst_local = out / source, out / target
    if src_local.is_file():
        shutil.copyfile(src_local, dst_local)
    else:
        copied_in_part(src_local, dst_local, copied, deleted)
    assert src_local.exists() and dst_local.exists()
    if rollback:  # a failing run had begun to undo the swap when it died
        journal.record(rollback=True)

    said = recover(root)

    expected = old if rollback else {k: v.replace("old", "new") for k, v in old.items()}
    assert _contents(out) == expected, said
    assert read_manifest(out)["tag"] == ("old" if rollback else "new")
    assert not (out / JOURNAL).exists() and not list(out.glob(".synth-spark-staging-*"))


def test_on_a_local_folder_a_rename_found_in_both_places_is_refused(tmp_path):
    """A local rename is atomic: a step found both done and not done means that something else put
    one of them there, so recovery stops and says so rather than merge a stranger's files."""
    from synth_spark.publish.dataset_folder import MARKER, make_staging
    from synth_spark.publish.journal import JournalError, begin, recover

    out = tmp_path / "out"
    entries, manifest_text = _tagged_dataset(out, "old")
    (out / "_manifest.json").write_text(manifest_text)
    (out / MARKER).write_text("{}")
    staging = make_staging(out)
    _tagged_dataset(staging, "new")
    journal = begin(out, staging, entries, manifest_text.replace('"old"', '"new"'))
    journal.take(0)
    journal.record(step=1)
    copied_in_part(out / journal.steps[1][0], out / journal.steps[1][1], 1, 0)
    with pytest.raises(JournalError, match="both are there"):
        recover(out)
