"""The library's ``check``: the platform's data-quality rules (dbt tests) on a dataset's files with
DuckDB, built on the command's own code and checks, and importing no pyspark (``import synth_spark;
synth_spark.check(path)`` needs only the "check" extra)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

from synth_spark import options
from synth_spark.checks import dbt
from synth_spark.checks.selection import selection
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.request import LIBRARY, ReadRequest

__all__ = ["check"]


def check(
    path: str | Path,
    *,
    formats: list[str] | str | None = None,
    select: str | None = None,
    work_dir: str | Path | None = None,
    dbt_output: TextIO | None = None,
) -> Outcome:
    """Run the platform's data-quality rules (the dbt tests) on a dataset's files with DuckDB, as
    ``synth-spark check`` does; no Spark session is needed.

    Args:
        path: the dataset's folder.
        formats: the files to check, one format after the other, a list or a comma list
            (default: parquet).
        select: a dbt selection of the tests to run, e.g. ``source:synth.pledges`` (default: all).
        work_dir: keep dbt's target (compiled SQL, run_results.json) and logs in this folder.
        dbt_output: where dbt's own lines go (default: nowhere).

    Returns:
        An ``Outcome``: ``code`` 0 when every test passes, 1 otherwise; ``document`` holds each
        format's passed count and failed tests.

    Raises:
        ConfigError: a path, format or selection that is not allowed, or a folder that holds no
            dataset (or one being written by another run).
    """
    read = ReadRequest.make(LIBRARY, dataset=path, formats=formats or ["parquet"], local=True)
    work = None if work_dir is None else options.folder(work_dir, "work_dir")
    if select is not None:
        selection(select, "select")
    return dbt.main(  # refuses, as "path", a folder that holds no dataset
        read.folder,
        list(read.formats),
        select,
        work,
        progress=Progress(quiet=True),
        dbt_output=dbt_output or io.StringIO(),
        name="path",
    )
