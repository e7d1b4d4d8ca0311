"""A real Spark standalone cluster (a master and two workers on 127.0.0.1, whose Python has no packages)
generates the same dataset as local mode, with the environment the job ships as docs/run-standalone.md
shows: scripts/cluster-smoke.sh, run as CI runs it (``make test-cluster``). No mocks.

Marked slow (a few minutes: three JVMs to start, then two generate runs), so ``make test`` leaves it
out; ``make test-cluster`` and ``make test-all`` run it, and .ci/run calls ``make test-cluster``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "cluster-smoke.sh"
TIMEOUT = 1500  # seconds; the script limits each generate run to 600 s itself


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


@pytest.mark.slow
def test_standalone_cluster_and_local_mode_write_the_same_tables():
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("KEEP", None)
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the script's trap stops the cluster it started
        output, _ = proc.communicate(timeout=120)
        pytest.fail(f"cluster-smoke.sh took over {TIMEOUT}s:\n{output[-4000:]}")
    print(output)

    assert proc.returncode == 0, output[-4000:]
    assert "rows and checksums match between the standalone cluster and local[2]" in output
    table_lines = [
        line
        for line in output.splitlines()
        if re.match(r"^  \w+ +\d+ +[0-9a-f]{16} +\d+ +[0-9a-f]{16} ", line)
    ]
    assert len(table_lines) == 8 and all(line.endswith(" ok") for line in table_lines), output[-4000:]
    assert "both workers ran executors in the shipped environment" in output

    work = re.search(r"work dir (\S+);", output).group(1)
    assert not Path(work).exists(), f"{work} left behind"
    assert _processes_mentioning(f"synth.smoke.dir={work}") == []
