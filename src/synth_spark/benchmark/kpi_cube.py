"""The KPI cube: the measures a root-cause tool watches, per day and per month, at the finest grain
it may slice them by (creator and its attributes, patron country, payment method). Written with
DuckDB from a generated dataset's files by the SQL in ``kpis/``; docs/kpis.md defines every column."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from synth_spark.benchmark.dataset_views import open_dataset, sql_string
from synth_spark.manifest import read as read_manifest

#: the SQL, package data: cube.sql defines the query, each other file one table's
SQL_DIR = Path(__file__).resolve().parent / "kpis"
#: the tables written, each from SQL_DIR/<name>.sql to <out>/<name>.parquet
TABLES = ("kpis_daily", "kpis_monthly")


def _write(con, query: str, target: Path) -> int:
    """The query's rows written to ``target`` whole: to a hidden name beside it, then renamed, so
    that a failure leaves no half-written file (and the earlier one, if any, in place)."""
    part = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        (rows,) = con.execute(
            f"COPY ({query}) TO {sql_string(str(part))} (FORMAT parquet, COMPRESSION zstd)"
        ).fetchone()
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return int(rows)


def materialise(dataset: Path, out: Path, fmt: str | None = None, progress=print) -> dict[str, int]:
    """Writes out/kpis_daily.parquet and out/kpis_monthly.parquet; returns rows per table.

    ``fmt``: the dataset's files to read (None: Parquet, else Delta, else CSV, whichever it has)."""
    dataset, out = Path(dataset), Path(out)
    manifest = read_manifest(dataset)
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="synth-spark-kpis-") as spill:
        con, fmt = open_dataset(dataset, manifest, fmt, Path(spill))
        try:
            con.execute((SQL_DIR / "cube.sql").read_text())
            for name in TABLES:
                started = time.monotonic()
                rows[name] = _write(con, (SQL_DIR / f"{name}.sql").read_text(), out / f"{name}.parquet")
                progress(
                    f"wrote {name}.parquet: {rows[name]:,} rows from the {fmt} files "
                    f"in {time.monotonic() - started:.1f}s"
                )
        finally:
            con.close()
    return rows
