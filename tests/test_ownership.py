"""Only ever touch what is ours, one writer at a time, and every reader settles an interrupted
publish first: real generate runs on real folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from synth_spark.cli import main
from synth_spark.manifest import MANIFEST
from synth_spark.publish.dataset_folder import JOURNAL, LOCK, MARKER, OWNER_FILE, STAGING_PREFIX, owner_record

from .conftest import SMALL_SCALE, SMALL_SEED, validate_report
from .helpers import CLI, read_manifest, strace
from .publish_harness import HARNESS

GENERATE = [
    "generate",
    "--scale",
    str(SMALL_SCALE),
    "--seed",
    str(SMALL_SEED),
    "--format",
    "parquet",
    "--partitions",
    "2",
    "--quiet",
]


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
    validate_report(out / "report")
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
    manifest = read_manifest(out)
    assert {t: v["checksum"] for t, v in manifest["tables"].items()} == {
        t: v["checksum"] for t, v in small_manifest["tables"].items()
    }


@pytest.fixture(scope="module")
def published(spark, tmp_path_factory) -> Path:
    """A dataset generate published (Parquet), to copy for each case."""
    out = tmp_path_factory.mktemp("published") / "out"
    assert main([*GENERATE, str(out)]) == 0
    return out


def _user_file_in_a_table(d: Path) -> None:
    (d / "parquet" / "creators" / "README.user.txt").write_text("mine")


def _user_folder_in_a_table(d: Path) -> None:
    (d / "parquet" / "pledges" / "mine").mkdir()
    (d / "parquet" / "pledges" / "mine" / "notes.txt").write_text("mine")


def _user_file_beside_the_report(d: Path) -> None:
    validate_report(d / "report")
    (d / "report" / "my-analysis.md").write_text("mine")


def _a_report_folder_validate_never_wrote(d: Path) -> None:
    (d / "report").mkdir()
    (d / "report" / "notes.md").write_text("mine")
    (d / "report" / "report.json").write_text(
        json.dumps({"dataset": "mine", "checks": [], "generator": "synth-spark"})
    )


def _a_staging_folder_copied_from_another_dataset(d: Path) -> None:
    name = f"{STAGING_PREFIX}{'a' * 32}"
    (d / name).mkdir()
    (d / name / "keep.txt").write_text("mine")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (d / name / OWNER_FILE).write_text(
        json.dumps(owner_record(staging=name, pid=int(dead.stdout), dataset=str(d.parent / "another")))
    )


#: what a user keeps inside the folders of a dataset, and what the refusal names
USER_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "a file in a table's folder": (_user_file_in_a_table, "parquet/creators/README.user.txt"),
    "a folder in a table's folder": (_user_folder_in_a_table, "parquet/pledges/mine/"),
    "a file beside validate's report": (_user_file_beside_the_report, "report/my-analysis.md"),
    "a report folder validate never wrote": (_a_report_folder_validate_never_wrote, "(report)"),
    "a staging folder copied from another dataset": (
        _a_staging_folder_copied_from_another_dataset,
        f"({STAGING_PREFIX}{'a' * 32})",
    ),
}


@pytest.mark.parametrize("case", USER_FILES)
def test_overwrite_refuses_before_any_work_when_a_users_file_is_inside(capsys, published, tmp_path, case):
    put, named = USER_FILES[case]
    d = tmp_path / "d"
    shutil.copytree(published, d)
    put(d)
    before = _files(d)
    code, _, err = _run(capsys, *GENERATE, str(d), "--overwrite")
    assert (
        code == 2 and err.count("\n") == 1 and "holds files synth-spark did not write" in err and named in err
    ), err
    assert _files(d) == before


def test_overwrite_leaves_an_empty_folder_it_did_not_make(capsys, published, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(published, d)
    (d / "delta").mkdir()
    assert _run(capsys, *GENERATE, str(d), "--overwrite")[0] == 0
    assert (d / "delta").is_dir() and (d / MANIFEST).is_file()


def test_a_relative_out_with_a_colon_is_a_folder_not_a_uri(capsys, spark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, *GENERATE, "a:b/out")[0] == 0
    assert (tmp_path / "a:b" / "out" / MANIFEST).is_file()


def test_two_runs_on_one_folder_the_second_is_refused_naming_the_first(capsys, spark, tmp_path):
    out = tmp_path / "out"
    cmd = [*CLI, *GENERATE, str(out), "--master", "local[1]"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / LOCK).exists() or str(first.pid) not in (out / LOCK).read_text():
            assert first.poll() is None, first.stdout.read()
            assert time.monotonic() < deadline, "the first run took no lock in 120 s"
            time.sleep(0.05)
        for extra in ([], ["--overwrite"]):
            code, _, err = _run(capsys, *GENERATE, str(out), *extra)
            assert (
                code == 2 and f"pid {first.pid}" in err and "being written by another synth-spark run" in err
            ), err
        output = first.communicate(timeout=600)[0]
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, output
    assert not (out / LOCK).exists()
    assert main(["verify", str(out)]) == 0


def test_verify_completes_a_publish_cut_short_before_reading(
    capsys, spark, small_control, small_dataset, tmp_path
):
    """A run killed in the middle of its publish (SIGKILL at its eighth rename: three whole-writes and the journal's,
    then the fourth step of the swap) leaves a journal;
    ``verify`` completes it, says so in one line, and finds the new dataset whole."""
    out = tmp_path / "out"
    shutil.copytree(small_control, out)
    new = tmp_path / "new"
    shutil.copytree(small_dataset / "parquet", new / "parquet")
    manifest = read_manifest(small_dataset)
    manifest["formats"] = ["parquet"]
    for entry in manifest["tables"].values():
        entry["paths"] = {"parquet": entry["paths"]["parquet"]}
    (new / MANIFEST).write_text(json.dumps(manifest))
    done = subprocess.run(
        [
            strace(),
            "-qq",
            "-e",
            "trace=rename",
            "-e",
            "inject=rename:signal=SIGKILL:when=8",
            sys.executable,
            str(HARNESS),
            str(out),
            str(new),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and (out / JOURNAL).exists() and not (out / MANIFEST).exists()

    code, stdout, err = _run(capsys, "verify", str(out))
    assert code == 0, stdout + err
    assert "completed an interrupted publish" in err
    assert read_manifest(out)["tables"]["pledges"]["checksum"] == manifest["tables"]["pledges"]["checksum"]
