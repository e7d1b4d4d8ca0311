"""What the tests share: running the command line as a user does and reading what it answered, and
reading a dataset's manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from synth_spark.manifest import MANIFEST


def run_main(capsys, *args: str) -> tuple[int, str]:
    """``synth-spark ARGS`` in this process: its exit code and what it wrote to standard error."""
    from synth_spark.cli import main

    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, *expected: str) -> str:
    """Exit 2 and one short line that starts like every error and holds each of ``expected``."""
    lines = err.strip().splitlines()
    assert code == 2, err[-3000:]
    assert len(lines) == 1 and lines[0].startswith("synth-spark: error: ") and "Traceback" not in err, err[-3000:]
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
