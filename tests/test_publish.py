"""Publication without Spark, on the real file system: what in a folder is ours, staging folders
that prove their owner, and a journaled swap that replaces exactly the entries a manifest lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth_spark.failures import ConfigError
from synth_spark.manifest import MANIFEST
from synth_spark.publish.claim import Claim
from synth_spark.publish.dataset_folder import (
    JOURNAL,
    MARKER,
    OWNER_FILE,
    STAGING_PREFIX,
    check_target,
    dataset_id,
    make_staging,
    owner_record,
    stale_staging,
)
from synth_spark.publish.journal import publish

from .conftest import validate_report
from .helpers import read_manifest

TABLES = ("creators", "pledges")


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def _manifest(tag: str, formats=("parquet",)) -> dict:
    paths = {t: {f: (f"csv/{t}.csv" if f == "csv" else f"{f}/{t}") for f in formats} for t in TABLES}
    return {
        "generator": "synth-spark",
        "tag": tag,
        "formats": list(formats),
        "tables": {t: {"rows": 1, "checksum": "0", "paths": paths[t]} for t in TABLES},
    }


def _entries(manifest: dict) -> list[str]:
    return [p for t in manifest["tables"].values() for p in t["paths"].values()]


def _write_entries(root: Path, manifest: dict, tag: str) -> None:
    for entry in _entries(manifest):
        if entry.endswith(".csv"):
            (root / entry).parent.mkdir(parents=True, exist_ok=True)
            (root / entry).write_text(tag)
        else:
            (root / entry).mkdir(parents=True)
            (root / entry / "part-0").write_text(tag)


def _dataset(out: Path, tag: str, formats=("parquet",)) -> dict:
    """A published dataset of ours: entries, manifest and marker."""
    manifest = _manifest(tag, formats)
    _write_entries(out, manifest, tag)
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / MARKER).write_text("{}")
    return manifest


def _stage(out: Path, tag: str, formats=("parquet",)) -> tuple[Path, dict]:
    staging = make_staging(out)
    manifest = _manifest(tag, formats)
    _write_entries(staging, manifest, tag)
    return staging, manifest


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_a_staging_folder_records_its_owner_and_its_own_name(tmp_path):
    folder = make_staging(tmp_path)
    owner = json.loads((folder / OWNER_FILE).read_text())
    assert (
        owner["pid"] == os.getpid()
        and owner["staging"] == folder.name
        and owner["generator"] == "synth-spark"
    )
    assert len(folder.name) == len(STAGING_PREFIX) + 32


def test_only_our_staging_folders_of_dead_runs_are_stale(tmp_path):
    here = dataset_id(tmp_path)
    dead = make_staging(tmp_path)
    (dead / OWNER_FILE).write_text(json.dumps(owner_record(staging=dead.name, dataset=here, pid=_dead_pid())))
    running = make_staging(tmp_path)
    elsewhere = make_staging(tmp_path)
    (elsewhere / OWNER_FILE).write_text(
        json.dumps(owner_record(staging=elsewhere.name, dataset=here, host="another-host", pid=1))
    )
    # Folders that merely look like ours: a user's archive, our prefix without an owner record, an
    # owner record copied from another staging folder, and a staging folder copied from another
    # dataset with its owner record. None may ever be removed.
    copied = f"{STAGING_PREFIX}{'1' * 32}"
    lookalikes = [
        tmp_path / ".staging-2024-archive",
        tmp_path / f"{STAGING_PREFIX}{'0' * 32}",
        tmp_path / f"{STAGING_PREFIX}notes",
        tmp_path / copied,
    ]
    for folder in lookalikes:
        folder.mkdir()
        (folder / "keep.txt").write_text("mine")
    (lookalikes[2] / OWNER_FILE).write_text(
        json.dumps(owner_record(staging=dead.name, dataset=here, pid=_dead_pid()))
    )
    (lookalikes[3] / OWNER_FILE).write_text(
        json.dumps(owner_record(staging=copied, dataset=str(tmp_path / "other"), pid=_dead_pid()))
    )
    an_hour_ago = time.time() - 3600
    for folder in lookalikes:
        os.utime(folder, (an_hour_ago, an_hour_ago))

    assert stale_staging(tmp_path) == [dead]
    assert running.exists() and elsewhere.exists()


def test_overwrite_replaces_exactly_the_listed_entries_and_keeps_the_users_files(tmp_path):
    out = tmp_path / "out"
    _dataset(out, "old", formats=("parquet", "csv"))
    (out / "NOTES.md").write_text("mine")  # a user's file beside the dataset
    validate_report(out / "report")  # our validate report of the old data
    staging, manifest = _stage(out, "new")
    with pytest.raises(ConfigError, match="NOTES.md"):
        check_target(out, overwrite=True)  # a foreign file: refused, even with --overwrite
    (out / "NOTES.md").unlink()
    check_target(out, overwrite=True)

    publish(out, staging, _entries(manifest), json.dumps(manifest))

    assert read_manifest(out)["tag"] == "new"
    assert {p.name for p in out.iterdir()} == {MANIFEST, MARKER, "parquet", staging.name}
    assert set(_files(out / "parquet").values()) == {"new"}
    assert not (out / JOURNAL).exists()


def test_the_user_files_trap_is_refused_with_or_without_overwrite(tmp_path):
    d = tmp_path / "d"
    (d / "csv").mkdir(parents=True)
    (d / "parquet").mkdir()
    (d / "csv" / "customers.csv").write_text("precious")
    (d / "parquet" / "readme.txt").write_text("x")
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match=r"did not write \(csv/customers.csv, parquet/readme.txt\)"):
            check_target(d, overwrite)
    assert _files(d) == {"csv/customers.csv": "precious", "parquet/readme.txt": "x"}


def test_a_folder_inside_a_dataset_is_refused(tmp_path):
    out = tmp_path / "out"
    _dataset(out, "old")
    with pytest.raises(ConfigError, match="is inside the dataset"):
        check_target(out / "parquet" / "creators" / "more", overwrite=True)


def test_a_manifest_path_outside_the_dataset_is_never_followed(tmp_path):
    out = tmp_path / "out"
    manifest = _dataset(out, "old")
    manifest["tables"]["creators"]["paths"]["parquet"] = "../../elsewhere"
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="'../../elsewhere' for creators"):
        check_target(out, overwrite=True)


def test_a_failed_claim_leaves_no_folder_behind(tmp_path):
    out = tmp_path / "new" / "deeper"
    with pytest.raises(RuntimeError):
        with Claim(out, progress=lambda _: None):
            assert (out / ".synth-spark.lock").exists()
            raise RuntimeError("the run failed before publishing")
    assert not (tmp_path / "new").exists()


def test_publish_into_an_empty_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    staging, manifest = _stage(out, "new", formats=("parquet", "csv"))
    publish(out, staging, _entries(manifest), json.dumps(manifest))
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, MARKER, "csv", "parquet", staging.name])
    assert _files(out / "csv") == {"creators.csv": "new", "pledges.csv": "new"}
