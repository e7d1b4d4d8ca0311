"""``synth-spark verify DATASET``: re-read every table in every format the manifest lists, recompute
its row count and checksum (``writers.checksum``) and compare them with the manifest.

One line per table and format: ``ok``, ``MISMATCH`` (rows, checksum or columns differ),
``MISSING`` (the file or folder is gone) or ``UNREADABLE`` (Spark cannot read it: a truncated or
corrupt file, a Delta table whose files were removed). Exit code 0 when every line is ok, 1
otherwise; bad input (no folder, no manifest, a manifest that is not one) is a one-line error, exit 2.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pyspark.sql import DataFrame, SparkSession

from synth_spark.failures import one_line
from synth_spark.job.schemas import read_table
from synth_spark.job.writers import checksum
from synth_spark.manifest import check as check_manifest
from synth_spark.manifest import read as read_manifest
from synth_spark.publish.claim import settle
from synth_spark.vocabulary import columns

OK, MISMATCH, MISSING, UNREADABLE = "ok", "MISMATCH", "MISSING", "UNREADABLE"
PARALLEL_READS = 4
DELTA_SNAPSHOT_PARTITIONS = "spark.databricks.delta.snapshotPartitions"


@dataclass
class Line:
    table: str
    fmt: str
    path: str
    status: str
    detail: str

    def render(self, width: int) -> str:
        return f"  {self.status:<10} {self.fmt:<7} {self.table:<{width}}  {self.detail}"


def check_one(spark: SparkSession, root: Path, table: str, fmt: str, entry: dict) -> Line:
    rel = entry["paths"][fmt]
    path = root / rel
    if not path.exists():
        return Line(table, fmt, rel, MISSING, f"{rel} is missing")
    return judged(table, fmt, rel, lambda: read_table(spark, fmt, path, table), entry)


def judged(table: str, fmt: str, rel: str, read: Callable[[], DataFrame], entry: dict) -> Line:
    """The verdict on one table as ``read`` gives it, against its manifest ``entry``."""
    try:
        df = read()
        if df.columns != columns(table):
            return Line(table, fmt, rel, MISMATCH, f"columns {df.columns} differ from the documented {columns(table)}")
        rows, total = checksum(df)
    except Exception as exc:  # noqa: BLE001 - any read failure is a verdict on the files, not a crash
        return Line(table, fmt, rel, UNREADABLE, f"{rel}: {one_line(exc)}")
    want_rows, want_sum = entry["rows"], entry["checksum"]
    problems = []
    if rows != want_rows:
        problems.append(f"rows {rows:,} (manifest {want_rows:,})")
    if total != want_sum:
        problems.append(f"checksum {total} (manifest {want_sum})")
    if problems:
        return Line(table, fmt, rel, MISMATCH, ", ".join(problems))
    return Line(table, fmt, rel, OK, f"{rows:>12,} rows  checksum {total}")


def verify(spark: SparkSession, dataset: Path, emit: Callable[[str], None] = print,
           manifest: dict | None = None, database: str | None = None) -> list[Line]:
    """Check every table of every format of ``dataset`` (or of the catalog's ``database``) against its
    manifest, printing a line each."""
    if database is not None:
        from synth_spark.job.catalog import Database

        db = Database(spark, database)
        manifest = db.manifest()
        formats, tables = ["delta"], manifest["tables"]

        def check(table: str, fmt: str, entry: dict) -> Line:
            if not db.has(table):
                return Line(table, fmt, f"{database}.{table}", MISSING, f"{database}.{table} is missing")
            return judged(table, fmt, f"{database}.{table}", lambda: spark.table(db.table(table)), entry)
    else:
        manifest = manifest if manifest is not None else read_manifest(dataset)
        formats, tables = check_manifest(manifest)
        root = dataset.absolute()  # Spark resolves a relative path in its own working folder: a Connect server's is not ours

        def check(table: str, fmt: str, entry: dict) -> Line:
            return check_one(spark, root, table, fmt, entry)
    width = max(len(t) for t in tables)
    lines = []
    # A generated Delta table's log is one commit: rebuilding its snapshot over Delta's default 50
    # partitions costs seconds per table for nothing.
    previous = spark.conf.get(DELTA_SNAPSHOT_PARTITIONS, None)
    spark.conf.set(DELTA_SNAPSHOT_PARTITIONS, "1")
    try:
        # a few reads at once: each is a small Spark job whose time is mostly fixed overhead
        with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
            futures = [pool.submit(check, table, fmt, entry) for table, entry in tables.items() for fmt in formats]
            for future in futures:  # printed in manifest order
                line = future.result()
                emit(line.render(width))
                lines.append(line)
    finally:
        if previous is None:
            spark.conf.unset(DELTA_SNAPSHOT_PARTITIONS)
        else:
            spark.conf.set(DELTA_SNAPSHOT_PARTITIONS, previous)
    return lines


def main(dataset: Path | None, master: str | None, database: str | None = None,
         spark_conf: dict[str, str] | None = None) -> int:
    from synth_spark.job.session import build_session
    from synth_spark.publish.storage import check_server_sees, resolve

    if database is not None:
        started = time.monotonic()
        spark = build_session(master, app_name="synth-spark-verify", extra=spark_conf)
        lines = verify(spark, None, database=database)
        return _summary(lines, database, started)
    local = isinstance(dataset, Path)
    if local:
        if dataset.is_dir():
            settle(dataset)  # a publish a killed run left: finished or undone before anything is read
        manifest = read_manifest(dataset)  # bad input fails here, before Spark starts
        formats, _ = check_manifest(manifest)
    started = time.monotonic()
    # a URI's manifest is read through the session's file system: Delta is configured in case it lists it
    spark = build_session(master, app_name="synth-spark-verify", delta=not local or "delta" in formats,
                          extra=spark_conf)
    check_server_sees(spark, dataset)
    if not local:
        dataset = resolve(spark, dataset)
        settle(dataset)
        manifest = read_manifest(dataset)
    lines = verify(spark, dataset, manifest=manifest)
    return _summary(lines, dataset.resolve(), started)


def _summary(lines: list[Line], what, started: float) -> int:
    bad = [line for line in lines if line.status != OK]
    print(f"synth-spark: {len(lines) - len(bad)} of {len(lines)} ok, {len(bad)} failed; verified {what} "
          f"against its manifest in {time.monotonic() - started:.1f}s")
    return 1 if bad else 0
