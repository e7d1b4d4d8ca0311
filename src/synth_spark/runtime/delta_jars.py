"""Delta Lake's jars: resolved once from Maven Central into the local Ivy cache, their paths
remembered in ``~/.cache/synth-spark/``, so later runs load them from disk with no resolver and no
network. ``python -m synth_spark.runtime.fetch_delta_jars`` (``make setup`` runs it) does the resolution step.

A run that needs Delta on a machine that has never resolved the jars resolves them first in a
child process whose output is kept, so that an offline machine gets one line, not Ivy's report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from synth_spark.failures import EnvironmentProblem, one_line

#: a resolution that takes longer than this has hung on the network
RESOLVE_TIMEOUT_SECONDS = 600


def delta_package() -> str:
    """The Maven coordinate of the Delta jar matching the installed pyspark and delta-spark."""
    from importlib.metadata import version

    import pyspark

    spark_mm = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_mm}_2.13:{version('delta-spark')}"


def _jar_list_file() -> Path:
    cache = Path(os.environ.get("SYNTH_SPARK_CACHE", Path.home() / ".cache" / "synth-spark"))
    return cache / f"{delta_package().replace(':', '_')}.jars"


def cached_delta_jars() -> list[str] | None:
    """Local paths of the Delta jars resolved earlier, if all still exist."""
    listing = _jar_list_file()
    if not listing.is_file():
        return None
    jars = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    return jars if jars and all(Path(j.removeprefix("file:")).is_file() for j in jars) else None


def remember_delta_jars(jars: list[str]) -> Path:
    listing = _jar_list_file()
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("\n".join(jars) + "\n")
    return listing


def ensure_delta_jars() -> list[str]:
    """The Delta jars on this machine, resolving them first (in a child process) if need be."""
    jars = cached_delta_jars()
    if jars:
        return jars
    try:
        done = subprocess.run(
            [sys.executable, "-m", "synth_spark.runtime.fetch_delta_jars"],
            capture_output=True,
            text=True,
            timeout=RESOLVE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(
            f"fetching Delta Lake's jar {delta_package()} took over {RESOLVE_TIMEOUT_SECONDS}s "
            "(is Maven Central reachable?); leave delta out of --format to run without it"
        ) from None
    jars = cached_delta_jars()
    if done.returncode != 0 or not jars:
        output = done.stderr + done.stdout
        cause = next(
            (
                ln.strip()
                for ln in output.splitlines()
                if "unresolved dependency" in ln
                or "UnknownHost" in ln
                or "Connection refused" in ln
                or "timed out" in ln.lower()
            ),
            None,
        )
        cause = cause or one_line(
            RuntimeError(output.strip().splitlines()[-1] if output.strip() else "no output")
        )
        raise EnvironmentProblem(
            f"Delta Lake's jar {delta_package()} could not be fetched from Maven Central "
            f"({cause[:160]}); run 'make setup' once with network, or leave delta out of --format"
        )
    return jars
