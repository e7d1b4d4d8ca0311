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

from pyspark.sql import SparkSession

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
    try:
        df = read_table(spark, fmt, path, table)
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
           manifest: dict | None = None) -> list[Line]:
    """Check every table of every format of ``dataset`` against its manifest, printing a line each."""
    manifest = manifest if manifest is not None else read_manifest(dataset)
    formats, tables = check_manifest(manifest)
    width = max(len(t) for t in tables)
    lines = []
    root = dataset.absolute()  # Spark resolves a relative path in its own working folder: a Connect server's is not ours
    # A generated Delta table's log is one commit: rebuilding its snapshot over Delta's default 50
    # partitions costs seconds per table for nothing.
    previous = spark.conf.get(DELTA_SNAPSHOT_PARTITIONS, None)
    spark.conf.set(DELTA_SNAPSHOT_PARTITIONS, "1")
    try:
        # a few reads at once: each is a small Spark job whose time is mostly fixed overhead
        with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
            futures = [pool.submit(check_one, spark, root, table, fmt, entry)
                       for table, entry in tables.items() for fmt in formats]
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


def main(dataset: Path, master: str | None) -> int:
    from synth_spark.job.session import build_session
    from synth_spark.publish.storage import check_server_sees

    if dataset.is_dir():
        settle(dataset)  # a publish a killed run left: finished or undone before anything is read
    manifest = read_manifest(dataset)  # bad input fails here, before Spark starts
    formats, _ = check_manifest(manifest)
    started = time.monotonic()
    spark = build_session(master, app_name="synth-spark-verify", delta="delta" in formats)
    check_server_sees(spark, dataset)
    lines = verify(spark, dataset, manifest=manifest)
    bad = [line for line in lines if line.status != OK]
    print(f"synth-spark: {len(lines) - len(bad)} of {len(lines)} ok, {len(bad)} failed; verified {dataset.resolve()} "
          f"against its manifest in {time.monotonic() - started:.1f}s")
    return 1 if bad else 0
