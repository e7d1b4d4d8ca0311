"""Readers are never misled: ``verify``, ``validate`` and ``check`` judge one publish's manifest and
data, or say in one line (exit 2) that the dataset is being written; never a MISMATCH a moment's
wait would clear, never an internal error. And a catalog replace killed between tables is undone by
the next command from Delta's history. Real processes throughout: the writers and readers are
separate synth-spark runs (or, for the swaps, the publish harness under the dataset's lock)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth_spark.cli import main
from synth_spark.publish.dataset_folder import ADVANCING

from .helpers import CLI
from .publish_harness import HARNESS

#: the readers' small datasets: scale and the seeds of the dataset and of the one published over it
SCALE, SEED, OTHER_SEED = "0.02", "5", "6"
#: the one line (a reader that finds the writer mid-swap says "being published")
BEING_WRITTEN = "by another synth-spark run"


def _generate(out: Path, seed: str, *extra: str) -> None:
    assert (
        main(["generate", str(out), "--scale", SCALE, "--seed", seed, "--partitions", "2", "--quiet", *extra])
        == 0
    )


def _reader(*argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, *argv, "--master", "local[1]"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _judged(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=900)
    return proc.returncode, out, err


def _never_misled(code: int, out: str, err: str) -> None:
    """Either a verdict on one consistent dataset (here always a passing one), or the one line."""
    assert code in (0, 2), f"exit {code}\n{out[-3000:]}\n{err[-3000:]}"
    assert "MISMATCH" not in out and "MISSING" not in out and "UNREADABLE" not in out, out
    if code == 2:  # (above it, Spark's JVM may have logged the read that failed as the files moved)
        last = err.strip().splitlines()[-1]
        assert last.startswith("synth-spark: error: DATASET: ") and BEING_WRITTEN in last, err[-3000:]


@pytest.fixture(scope="module")
def two_datasets(spark, tmp_path_factory):
    """Two small Parquet datasets (other seeds): the one readers open, and one published over it."""
    root = tmp_path_factory.mktemp("readers")
    _generate(root / "a", SEED, "--format", "parquet")
    _generate(root / "b", OTHER_SEED, "--format", "parquet")
    return root / "a", root / "b"


#: a writer as generate is one: the dataset's lock held, then (once told to go) publish after publish
#: swapping the two datasets in and out (each through a staging folder and the journal) until told to stop
SWAPPER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from publish_harness import main as publish
from synth_spark.publish.lock import DatasetLock
out, sources, go, stop = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:4]], Path(sys.argv[4]), Path(sys.argv[5])
with DatasetLock(out):
    while not go.exists():
        time.sleep(0.05)
    i = 0
    while not stop.exists():
        publish(out, sources[i % 2]); i += 1
    print(i)
"""


def _has_started_spark(proc: subprocess.Popen) -> bool:
    """Whether a reader has started Spark's JVM (a child process): it opened the dataset before."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = stat.read_text().split(") ", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if parent == str(proc.pid):
            return True
    return False


def test_verify_and_validate_during_publishes_judge_one_dataset_or_say_it_is_being_written(
    two_datasets, tmp_path
):
    """~2 min: two reader JVMs; once they opened the dataset, a writer swaps datasets some ten times a
    second."""
    import shutil

    a, b = two_datasets
    out, go, stop = tmp_path / "out", tmp_path / "go", tmp_path / "stop"
    shutil.copytree(a, out)
    swapper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SWAPPER.format(tests=str(HARNESS.parent)),
            str(out),
            str(b),
            str(a),
            str(go),
            str(stop),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        readers = [
            _reader("verify", str(out)),
            _reader("validate", str(out), "--report", str(tmp_path / "report"), "--quiet"),
        ]
        # the swaps begin once both readers have opened the dataset: they happen under their reads
        deadline = time.monotonic() + 300
        while not all(_has_started_spark(r) or r.poll() is not None for r in readers):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        go.touch()
        results = [_judged(r) for r in readers]
    finally:
        stop.touch()
        swaps = int(swapper.communicate(timeout=120)[0] or 0)
    assert swapper.returncode == 0 and swaps > 10, swaps
    for code, out_text, err in results:
        _never_misled(code, out_text, err)


@pytest.fixture(scope="module")
def snapshot(spark, tmp_path_factory):
    """A small Delta snapshot as of a day, to advance."""
    out = tmp_path_factory.mktemp("readers-advance") / "snapshot"
    _generate(out, SEED, "--format", "delta", "--as-of", "2024-03-01")
    return out


@pytest.mark.slow  # 2-4 min of CI; a dead advance's versions are read as its manifest says by the next test
def test_verify_during_an_advance_reads_the_versions_its_manifest_describes(snapshot, tmp_path):
    """~4 min here (2 shared cores): an advance over three days in one process, verify started once it
    merged its first day, in another (the Delta tables then hold commits the manifest does not describe)."""
    advance = subprocess.Popen(
        [*CLI, "advance", str(snapshot), "--to", "2024-03-04", "--master", "local[1]"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = []
    for line in advance.stdout:
        said.append(line)
        if "merged 2024-03-02" in line:
            break
    assert (snapshot / ADVANCING).exists(), "".join(said)[-3000:]
    verify = _reader("verify", str(snapshot))
    code, out, err = _judged(verify)
    rest = advance.communicate(timeout=900)[0]
    assert advance.returncode == 0, rest[-3000:]
    _never_misled(code, out, err)
    assert main(["verify", str(snapshot)]) == 0  # and the advanced snapshot verifies whole


def test_a_dead_advances_tables_are_read_where_its_manifest_left_them(spark, snapshot, capsys):
    """An advance killed after merging a commit: verify reads the versions it started from. ~40 s."""
    path = snapshot / "delta" / "posts"
    version = _latest_version(path)
    (snapshot / ADVANCING).write_text(json.dumps({"from": "x", "to": "y", "versions": {"posts": version}}))
    spark.read.format("delta").load(str(path)).limit(1).write.format("delta").mode("append").save(str(path))
    try:
        assert main(["verify", str(snapshot)]) == 0, capsys.readouterr().out
    finally:
        from synth_spark.job.advance import restore_interrupted

        restore_interrupted(spark, snapshot, progress=lambda _: None)


def _catalog_argv(home: Path) -> list[str]:
    """A metastore and warehouse of the test's own (Derby allows one process at a time on each)."""
    derby = f"jdbc:derby:;databaseName={home / 'ms'};create=true"
    return [
        "--master",
        "local[2]",
        "--spark-conf",
        f"spark.hadoop.javax.jdo.option.ConnectionURL={derby}",
        "--spark-conf",
        f"spark.sql.warehouse.dir={home / 'wh'}",
        "--spark-conf",
        f"spark.driver.extraJavaOptions=-Dderby.stream.error.file={home / 'derby.log'}",
    ]


def _latest_version(table: Path) -> int:
    """A Delta table's latest version, from its log's commit files (-1 for no table)."""
    return max((int(p.stem) for p in table.glob("_delta_log/*.json") if p.stem.isdigit()), default=-1)


@pytest.mark.slow  # 2-6 min (three JVMs, a catalog): make test-all runs it
def test_a_catalog_replace_killed_between_tables_is_undone_by_the_next_command(tmp_path):
    """2-6 min (2 shared cores, three JVMs): generate --database, a second --overwrite killed once
    a table is replaced and the manifest not yet, then verify --database: the old dataset whole (exit 0),
    said in one line."""
    conf, db = _catalog_argv(tmp_path), "killed_replace"
    generate = [*CLI, "generate", "--database", db, "--scale", SCALE, "--partitions", "2", "--quiet", *conf]
    first = subprocess.run([*generate, "--seed", SEED], capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    folder = tmp_path / "wh" / f"{db}.db"
    before = {t.name: _latest_version(t) for t in folder.iterdir()}
    proc = subprocess.Popen(
        [*generate, "--seed", OTHER_SEED, "--overwrite"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 900
        while not any(
            _latest_version(folder / t) > v for t, v in before.items() if t != "synth_spark_manifest"
        ):
            assert proc.poll() is None, "the replace ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    replaced = [
        t for t, v in before.items() if _latest_version(folder / t) > v and t != "synth_spark_manifest"
    ]
    assert replaced and len(replaced) < len(before) - 1, replaced  # killed between tables

    verify = subprocess.run(
        [*CLI, "verify", "--database", db, *conf], capture_output=True, text=True, timeout=900
    )
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    assert f"restored {db} to the dataset it held before a replace that did not finish" in verify.stderr
    # with the note gone, verify read each table's latest version: the old run's rows again
