"""Publication without Spark: staging folders record their owner, a later run removes those of runs
that are no longer running, and publish() replaces a dataset only by renames, manifest last, with
the old dataset put back if a step fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth_spark import writers
from synth_spark.writers import MANIFEST, OWNER_FILE, REPLACED, STAGING_PREFIX, Staging, stale_staging


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout)


def _leftover(out: Path, name: str, owner: dict | None) -> Path:
    folder = out / f"{STAGING_PREFIX}{name}"
    (folder / "parquet" / "posts").mkdir(parents=True)
    (folder / "parquet" / "posts" / "part-0.parquet").write_bytes(b"half")
    if owner is not None:
        (folder / OWNER_FILE).write_text(json.dumps(owner))
    return folder


def test_staging_records_its_owner(tmp_path):
    staging = Staging(tmp_path / "out")
    owner = json.loads((staging.root / OWNER_FILE).read_text())
    assert owner["pid"] == os.getpid() and owner["host"] and owner["start"]
    assert staging.root.name.startswith(STAGING_PREFIX) and staging.removed_stale == []


def test_stale_staging_of_a_dead_run_is_removed_and_a_running_ones_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    me = writers._owner()
    dead = _leftover(out, "dead", {**me, "pid": _dead_pid()})
    reused_pid = _leftover(out, "reused", {**me, "start": "1"})           # our pid, but an earlier process's
    running = _leftover(out, "running", me)                               # a run still going (this process)
    elsewhere = _leftover(out, "other", {**me, "host": "another-host"})  # a shared folder: cannot tell
    young = _leftover(out, "young", None)                                 # just created, owner not written yet
    garbled = _leftover(out, "garbled", None)                             # owner being written right now
    (garbled / OWNER_FILE).write_text("{not js")
    old = _leftover(out, "old", None)                                     # an older synth-spark's leftover
    old_garbled = _leftover(out, "old-garbled", None)
    (old_garbled / OWNER_FILE).write_text("[]")
    an_hour_ago = time.time() - 3600
    for folder in (old, old_garbled):
        os.utime(folder, (an_hour_ago, an_hour_ago))

    assert set(stale_staging(out)) == {dead, reused_pid, old, old_garbled}
    staging = Staging(out)
    assert set(staging.removed_stale) == {dead, reused_pid, old, old_garbled}
    left = {p.name for p in out.iterdir()}
    assert left == {running.name, elsewhere.name, young.name, garbled.name, staging.root.name}


def _dataset(out: Path, tag: str, formats=("parquet", "csv")) -> None:
    for fmt in formats:
        (out / fmt / "creators").mkdir(parents=True)
        (out / fmt / "creators" / "part-0").write_text(tag)
    (out / MANIFEST).write_text(json.dumps({"tag": tag}))


def _stage(out: Path, tag: str, formats=("parquet",)) -> Staging:
    staging = Staging(out)
    for fmt in formats:
        (staging.root / fmt / "creators").mkdir(parents=True)
        (staging.root / fmt / "creators" / "part-0").write_text(tag)
    return staging


def test_publish_replaces_the_whole_old_dataset_manifest_first_and_last(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _dataset(out, "old", formats=("parquet", "csv", "delta"))
    staging = _stage(out, "new")
    ops: list[tuple[str, str]] = []
    real_replace = Path.replace

    def spy(self, target):
        ops.append((str(Path(self).relative_to(out)), str(Path(target).relative_to(out))))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", spy)
    staging.publish(["parquet"], json.dumps({"tag": "new"}))
    monkeypatch.undo()

    root = staging.root.name
    # the old manifest goes first: no reader ever sees it over new data; the new one comes last
    assert ops[0] == (MANIFEST, f"{root}/{REPLACED}/{MANIFEST}")
    assert ops[-1] == (f"{root}/{MANIFEST}", MANIFEST)
    assert ops.index(("parquet", f"{root}/{REPLACED}/parquet")) < ops.index((f"{root}/parquet", "parquet"))
    # every old format is gone, not only those the new dataset has: nothing stale lingers
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "parquet"]
    assert (out / "parquet" / "creators" / "part-0").read_text() == "new"
    assert json.loads((out / MANIFEST).read_text()) == {"tag": "new"}


@pytest.mark.parametrize("fail_on", ["moving the new data in", "writing the manifest"])
def test_a_failed_publish_puts_the_old_dataset_back(tmp_path, monkeypatch, fail_on):
    out = tmp_path / "out"
    _dataset(out, "old")
    before = {p.relative_to(out): p.read_text() for p in out.rglob("*") if p.is_file()}
    staging = _stage(out, "new", formats=("parquet", "delta"))
    real_replace = Path.replace

    def failing(self, target):
        moving_in = Path(target).parent == out and Path(self).parent == staging.root
        if moving_in and (Path(self).name == "delta" if fail_on.startswith("moving") else Path(self).name == MANIFEST):
            raise OSError(28, "No space left on device")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing)
    with pytest.raises(OSError):
        staging.publish(["parquet", "delta"], json.dumps({"tag": "new"}))
    monkeypatch.undo()
    staging.discard()
    after = {p.relative_to(out): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_publish_into_an_empty_folder_leaves_no_staging(tmp_path):
    out = tmp_path / "out"
    staging = _stage(out, "new", formats=("parquet", "csv"))
    staging.publish(["parquet", "csv"], "{}\n")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "csv", "parquet"]
