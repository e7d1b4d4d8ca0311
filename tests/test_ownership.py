"""Only ever touch what is ours, one writer at a time, and every reader settles an interrupted
publish first: real generate runs on real folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from synth_spark.cli import main
from synth_spark.manifest import MANIFEST
from synth_spark.publish.dataset_folder import JOURNAL, LOCK, MARKER

from .conftest import SMALL_SCALE, SMALL_SEED
from .test_publish_faults import HARNESS, _strace

GENERATE = ["generate", "--scale", str(SMALL_SCALE), "--seed", str(SMALL_SEED), "--format", "parquet", "--partitions", "2",
            "--quiet"]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_user_files_trap(capsys, spark, small_manifest, tmp_path):
    d = tmp_path / "d"
    (d / "csv").mkdir(parents=True)
    (d / "parquet").mkdir()
    (d / "csv" / "customers.csv").write_text("precious")
    (d / "parquet" / "readme.txt").write_text("x")
    for extra in ([], ["--overwrite"]):
        code, _, err = _run(capsys, *GENERATE, str(d), *extra)
        assert code == 2 and "did not write (csv/customers.csv, parquet/readme.txt)" in err, err
    assert _files(d) == {"csv/customers.csv": b"precious", "parquet/readme.txt": b"x"}

    # A dataset of ours: --overwrite replaces it, a report of ours goes with the old data, and a
    # user's folder that merely looks like a staging folder makes the run refuse, never vanish.
    out = tmp_path / "out"
    assert _run(capsys, *GENERATE, str(out))[0] == 0
    (out / "report").mkdir()
    (out / "report" / "report.json").write_text(json.dumps({"generator": "synth-spark"}))
    archive = out / ".staging-2024-archive"
    archive.mkdir()
    (archive / "keep.txt").write_text("mine")
    an_hour_ago = time.time() - 3600
    os.utime(archive, (an_hour_ago, an_hour_ago))
    code, _, err = _run(capsys, *GENERATE, str(out), "--overwrite")
    assert code == 2 and ".staging-2024-archive" in err and (archive / "keep.txt").read_text() == "mine"
    shutil.rmtree(archive)
    assert _run(capsys, *GENERATE, str(out), "--overwrite")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, MARKER, "parquet"])
    manifest = json.loads((out / MANIFEST).read_text())
    assert {t: v["checksum"] for t, v in manifest["tables"].items()} == \
           {t: v["checksum"] for t, v in small_manifest["tables"].items()}


def test_a_relative_out_with_a_colon_is_a_folder_not_a_uri(capsys, spark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, *GENERATE, "a:b/out")[0] == 0
    assert (tmp_path / "a:b" / "out" / MANIFEST).is_file()


def test_two_runs_on_one_folder_the_second_is_refused_naming_the_first(capsys, spark, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "synth_spark.cli", *GENERATE, str(out), "--master", "local[1]"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / LOCK).exists() or str(first.pid) not in (out / LOCK).read_text():
            assert first.poll() is None, first.stdout.read()
            assert time.monotonic() < deadline, "the first run took no lock in 120 s"
            time.sleep(0.05)
        for extra in ([], ["--overwrite"]):
            code, _, err = _run(capsys, *GENERATE, str(out), *extra)
            assert code == 2 and f"pid {first.pid}" in err and "being written by another synth-spark run" in err, err
        output = first.communicate(timeout=600)[0]
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, output
    assert not (out / LOCK).exists()
    assert main(["verify", str(out)]) == 0


def test_verify_completes_a_publish_cut_short_before_reading(capsys, spark, small_control, small_dataset, tmp_path):
    """A run killed in the middle of its publish (SIGKILL at its fifth rename) leaves a journal;
    ``verify`` completes it, says so in one line, and finds the new dataset whole."""
    out = tmp_path / "out"
    shutil.copytree(small_control, out)
    new = tmp_path / "new"
    shutil.copytree(small_dataset / "parquet", new / "parquet")
    manifest = json.loads((small_dataset / MANIFEST).read_text())
    manifest["formats"] = ["parquet"]
    for entry in manifest["tables"].values():
        entry["paths"] = {"parquet": entry["paths"]["parquet"]}
    (new / MANIFEST).write_text(json.dumps(manifest))
    done = subprocess.run([_strace(), "-qq", "-e", "trace=rename", "-e", "inject=rename:signal=SIGKILL:when=5",
                           sys.executable, str(HARNESS), str(out), str(new)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and (out / JOURNAL).exists() and not (out / MANIFEST).exists()

    code, stdout, err = _run(capsys, "verify", str(out))
    assert code == 0, stdout + err
    assert "completed an interrupted publish" in err
    assert json.loads((out / MANIFEST).read_text())["tables"]["pledges"]["checksum"] == \
        manifest["tables"]["pledges"]["checksum"]
