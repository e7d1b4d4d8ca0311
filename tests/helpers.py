"""What the tests share: running the command line as a user does and reading what it answered, and
reading a dataset's manifest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from synth_spark.manifest import MANIFEST

#: the command line as a user runs it, in a process of its own
CLI = [sys.executable, "-m", "synth_spark.cli"]


def run_cli(
    *args, env: dict | None = None, cwd: Path | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """``synth-spark ARGS`` in a process of its own (``env`` added to this one's environment)."""
    return subprocess.run(
        [*CLI, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def run_main(capsys, *args: str) -> tuple[int, str]:
    """``synth-spark ARGS`` in this process: its exit code and what it wrote to standard error."""
    from synth_spark.cli import main

    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, *expected: str) -> str:
    """Exit 2 and one short line that starts like every error and holds each of ``expected``."""
    lines = err.strip().splitlines()
    assert code == 2, err[-3000:]
    assert len(lines) == 1 and lines[0].startswith("synth-spark: error: ") and "Traceback" not in err, err[
        -3000:
    ]
    assert len(lines[0]) <= 500, f"{len(lines[0]):,} characters: {lines[0][:300]}"
    assert all(part in lines[0] for part in expected), lines[0]
    return lines[0]


def read_manifest(folder: Path) -> dict:
    return json.loads((Path(folder) / MANIFEST).read_text())


def table_checksums(folder: Path) -> dict[str, tuple[int, str]]:
    """Each table's rows and checksum, as the manifest in ``folder`` lists them."""
    return {t: (e["rows"], e["checksum"]) for t, e in read_manifest(folder)["tables"].items()}


def strace() -> str:
    path = shutil.which("strace")
    assert path, "strace is needed for the fault tests (apt-get install strace; .ci/run installs it)"
    return path


def drawn_share(png) -> float:
    """The share of a chart's pixels in colour: the series (bars, lines, bands) are drawn in colour,
    while an empty chart has only black text and grey axes and grid on white."""
    import matplotlib.image

    rgb = matplotlib.image.imread(png)[..., :3]
    return float(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.25).mean())
