"""A fault at every system call of the publish step, one at a time, on real datasets: SIGINT and
SIGKILL at every rename, an I/O error at every rename, write and fsync, SIGKILL at every write.
strace injects each fault into the publishing process (tests/publish_harness.py, the same code
generate runs last). After each, the next command's recovery (a claim on the folder, as generate,
verify, validate and check make) must leave exactly the old dataset or exactly the new one, with no
journal and no staging left, and ``verify`` must find every table equal to its manifest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from synth_spark.checks.verify import OK, verify
from synth_spark.manifest import MANIFEST
from synth_spark.publish.claim import Claim
from synth_spark.publish.dataset_folder import JOURNAL, LOCK, MARKER, STAGING_PREFIX
from synth_spark.publish.storage import PARTIAL_PREFIX
from synth_spark.publish.written import with_files

from .conftest import parquet_only
from .helpers import read_manifest, strace
from .publish_harness import BEGIN, HARNESS

#: the system calls of a publish, and the faults put at each of them
FAULTS = {
    "rename": ("error=EIO", "signal=SIGINT", "signal=SIGKILL"),
    "write": ("error=EIO", "signal=SIGKILL"),
    "fsync": ("error=EIO",),
}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (MARKER, LOCK)
    }


@pytest.fixture(scope="module")
def old_and_new(small_control, small_dataset, tmp_path_factory):
    """The old dataset (the control run, Parquet) and a new one to publish over it (the anomaly
    run's Parquet tables, with a manifest of its own listing just those)."""
    new = tmp_path_factory.mktemp("new") / "ds"
    shutil.copytree(small_dataset / "parquet", new / "parquet", copy_function=os.link)
    manifest = parquet_only(read_manifest(small_dataset))
    # with its files recorded as the publish records them, so the published manifest has these bytes
    entries = [p for t in manifest["tables"].values() for p in t["paths"].values()]
    (new / MANIFEST).write_text(with_files(json.dumps(manifest), new, entries))
    return small_control, new


def _run(
    old: Path, new: Path, out: Path, *strace_args: str, claimed: bool = False
) -> subprocess.CompletedProcess:
    shutil.copytree(old, out, copy_function=os.link)
    cmd = [
        strace(),
        "-qq",
        *strace_args,
        sys.executable,
        str(HARNESS),
        str(out),
        str(new),
        *(["--claimed"] * claimed),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=HARNESS.parent.parent, timeout=120)


def _publish_calls(old: Path, new: Path, work: Path, before: bool = False) -> dict[str, list[int]]:
    """The ordinal (per system call, counted from the process start, as strace's ``when=`` counts)
    of each rename, write and fsync the publish makes (``before``: those a run holding the lock
    makes before it, its staging folder's)."""
    log = work / "count.log"
    done = _run(
        old, new, work / "count", "-o", str(log), "-e", "trace=rename,write,fsync,access", claimed=before
    )
    assert done.returncode == 0, done.stderr
    seen, calls, begun = Counter(), {name: [] for name in FAULTS}, before
    for line in log.read_text().splitlines():
        m = re.match(r"(\w+)\(", line)
        if not m:
            continue
        name = m.group(1)
        if name == "access":
            begun = not before if BEGIN in line else begun
            continue
        seen[name] += 1
        if begun:
            calls[name].append(seen[name])
    return calls


def test_every_fault_in_the_publish_leaves_the_old_or_the_new_dataset(spark, old_and_new, tmp_path):
    old, new = old_and_new
    calls = _publish_calls(old, new, tmp_path)
    assert len(calls["rename"]) >= 18 and calls["write"] and calls["fsync"], calls
    before, after = _snapshot(old), _snapshot(new)
    # verify reads every table back with Spark: run once for a folder holding the old dataset and
    # once for one holding the new. Another folder whose every file has the same bytes (and the
    # marker, as the first had) verifies the same, so the cases after those compare bytes only.
    verified: dict[str, list[str]] = {}
    outcomes, problems = Counter(), []
    for syscall, faults in FAULTS.items():
        for fault in faults:
            for n in calls[syscall]:
                case = f"{fault} at {syscall} #{n}"
                out = tmp_path / re.sub(r"\W+", "-", case)
                done = _run(
                    old, new, out, "-e", f"trace={syscall}", "-e", f"inject={syscall}:{fault}:when={n}"
                )
                said: list[str] = []
                with Claim(out, overwrite=True, progress=said.append, say=said.append):
                    pass
                left = sorted(
                    p.name
                    for p in out.iterdir()
                    if p.name in (JOURNAL, LOCK) or p.name.startswith((STAGING_PREFIX, PARTIAL_PREFIX))
                )
                now = _snapshot(out)
                which = "old" if now == before else "new" if now == after else None
                marked = (out / MARKER).is_file()
                if which is None or which not in verified:
                    statuses = [line.status for line in verify(spark, out, emit=lambda _: None)]
                    if which is not None and marked:
                        verified[which] = statuses
                else:
                    statuses = verified[which]
                if left or which is None or not marked or any(status != OK for status in statuses):
                    problems.append(
                        f"{case}: exit {done.returncode}, left {left}, holds {which or 'a mix'}, "
                        f"marker {marked}, verify {statuses}, recovery said {said}"
                    )
                outcomes[(fault.split("=")[1], which, bool(said))] += 1
                shutil.rmtree(out)
    print(
        "\npublish faults: "
        + ", ".join(
            f"{f}->{w}{' after recovery' if r else ''}: {c}" for (f, w, r), c in sorted(outcomes.items())
        )
    )
    assert not problems, "\n".join(problems)
    # the faults that cut a publish short were each completed or undone by the next command
    assert any(recovered for (_, _, recovered) in outcomes)
    assert set(verified) == {"old", "new"}, verified  # each outcome was read back by verify at least once


def test_a_run_killed_or_out_of_space_as_it_makes_its_staging_folder_leaves_nothing_the_next_refuses(
    old_and_new, tmp_path
):
    """The staging folder is named in the run's lock file before it is made, and its owner record
    is written whole: whatever a fault there leaves, the next claim knows it for ours and removes it."""
    old, new = old_and_new
    calls = _publish_calls(old, new, tmp_path, before=True)
    assert calls["write"], calls
    before, problems = _snapshot(old), []
    for fault in ("error=ENOSPC", "signal=SIGKILL"):
        for n in calls["write"]:
            out = tmp_path / f"{fault.split('=')[1]}-{n}"
            done = _run(
                old, new, out, "-e", "trace=write", "-e", f"inject=write:{fault}:when={n}", claimed=True
            )
            with Claim(out, overwrite=True, progress=lambda _: None, say=lambda _: None):
                pass
            left = sorted(
                p.name for p in out.iterdir() if p.name.startswith((STAGING_PREFIX, PARTIAL_PREFIX))
            )
            if left or _snapshot(out) != before:
                problems.append(f"{fault} at write #{n}: exit {done.returncode}, left {left}")
    assert not problems, "\n".join(problems)
