"""``synth-spark verify DATASET``: re-read every table in every format the manifest lists, recompute
its row count and checksum (``runtime.tables.checksum``) and compare them with the manifest.

One line per table and format: ``ok``, ``MISMATCH`` (rows, checksum or columns differ),
``MISSING`` (the file or folder is gone) or ``UNREADABLE`` (Spark cannot read it: a truncated or
corrupt file, a Delta table whose files were removed). Exit code 0 when every line is ok, 1
otherwise; bad input (no folder, no manifest, a manifest that is not one) is a one-line error, exit 2,
and so is a dataset another run changed while it was read (``publish.readers``): the lines are
printed only once the dataset is known to be the publish its manifest describes.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pyspark.sql import DataFrame, SparkSession

from synth_spark.config import ConfigError
from synth_spark.failures import one_line
from synth_spark.manifest import Format
from synth_spark.manifest import check as check_manifest
from synth_spark.manifest import read as read_manifest
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.publish.database import Database
from synth_spark.publish.opened import Opened, open_database, open_folder
from synth_spark.publish.storage import resolve
from synth_spark.runtime.connect import check_server_sees
from synth_spark.runtime.spark_status import running_stages
from synth_spark.runtime.session import build_session
from synth_spark.runtime.tables import checksum, read_table
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


def check_one(
    spark: SparkSession, root: Path, table: str, fmt: str, entry: dict, version: int | None = None
) -> Line:
    rel = entry["paths"][fmt]
    path = root / rel
    if not path.exists():
        return Line(table, fmt, rel, MISSING, f"{rel} is missing")
    version = version if fmt == Format.DELTA else None
    return judged(table, fmt, rel, lambda: read_table(spark, fmt, path, table, version), entry)


def judged(table: str, fmt: str, rel: str, read: Callable[[], DataFrame], entry: dict) -> Line:
    """The verdict on one table as ``read`` gives it, against its manifest ``entry``."""
    try:
        df = read()
        if df.columns != columns(table):
            return Line(
                table, fmt, rel, MISMATCH, f"columns {df.columns} differ from the documented {columns(table)}"
            )
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


def verify(
    spark: SparkSession,
    dataset: Path,
    emit: Callable[[str], None] = print,
    manifest: dict | None = None,
    database: str | None = None,
    versions: dict[str, int] | None = None,
    only: list[str] | None = None,
) -> list[Line]:
    """Check every table of every format of ``dataset`` (or of the catalog's ``database``), or of the
    formats in ``only``, against its manifest, printing a line each; a Delta table at its version in
    ``versions`` when there is one."""
    versions = versions or {}
    if database is not None:
        db = Database(spark, database)
        manifest = manifest if manifest is not None else db.manifest()
        formats, tables = ["delta"], manifest["tables"]
        pinned = db.reading_versions(manifest)

        def check(table: str, fmt: str, entry: dict) -> Line:
            if not db.has(table):
                return Line(table, fmt, f"{database}.{table}", MISSING, f"{database}.{table} is missing")
            return judged(table, fmt, f"{database}.{table}", lambda: db.read(table, pinned.get(table)), entry)
    else:
        manifest = manifest if manifest is not None else read_manifest(dataset)
        formats, tables = check_manifest(manifest)
        formats = chosen(formats, only)
        root = (
            dataset.absolute()
        )  # Spark resolves a relative path in its own working folder: a Connect server's is not ours

        def check(table: str, fmt: str, entry: dict) -> Line:
            return check_one(spark, root, table, fmt, entry, versions.get(table))

    width = max(len(t) for t in tables)
    lines = []
    # A generated Delta table's log is one commit: rebuilding its snapshot over Delta's default 50
    # partitions costs seconds per table for nothing.
    previous = spark.conf.get(DELTA_SNAPSHOT_PARTITIONS, None)
    spark.conf.set(DELTA_SNAPSHOT_PARTITIONS, "1")
    try:
        # a few reads at once: each is a small Spark job whose time is mostly fixed overhead
        with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
            futures = [
                pool.submit(check, table, fmt, entry) for table, entry in tables.items() for fmt in formats
            ]
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


def chosen(formats: list[str], only: list[str] | None) -> list[str]:
    """The dataset's ``formats``, or those of ``only`` (``--format``), each of which it must hold."""
    if only is None:
        return formats
    missing = [f for f in only if f not in formats]
    if missing:
        raise ConfigError(
            f"--format: the dataset holds no {missing[0]} tables; give some of {', '.join(formats)}"
        )
    return [f for f in formats if f in only]


def main(
    dataset: Path | None,
    master: str | None,
    database: str | None = None,
    spark_conf: dict[str, str] | None = None,
    formats: list[str] | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """The command line's ``verify``: exit code 0 when every table of every format (or of
    ``formats``) holds the rows and checksum its manifest lists, 1 otherwise."""
    progress = progress or Progress()
    if database is not None:
        chosen([Format.DELTA], formats)  # a database holds Delta tables only
    opened = None
    if isinstance(dataset, Path):  # bad input refused here, before Spark starts
        opened = open_folder(dataset)
        chosen(opened.formats, formats)
    started = time.monotonic()
    progress(f"starting Spark ({master or 'spark-submit master'})")
    # a URI's manifest is read through the session's file system: Delta is configured in case it lists it
    delta = opened is None or Format.DELTA in chosen(opened.formats, formats)
    spark = build_session(master, app_name="synth-spark-verify", delta=delta, extra=spark_conf)
    progress.watch(running_stages(spark))
    if database is not None:
        opened = open_database(spark, database)
    else:
        check_server_sees(spark, dataset)
        if opened is None:
            opened = open_folder(resolve(spark, dataset))
    return verified(spark, opened, formats, progress, started)


def verified(
    spark: SparkSession,
    opened: Opened,
    formats: list[str] | None = None,
    progress: Progress | None = None,
    started: float | None = None,
) -> Outcome:
    """The verdicts on the opened dataset's tables in every format it holds, or in ``formats``,
    once the dataset is known to be still the publish that was opened."""
    progress = progress or Progress(quiet=True)
    started = time.monotonic() if started is None else started
    chosen(opened.formats, formats)
    progress(f"reading the tables of {opened.name}")
    database = None if opened.db is None else opened.db.name
    with opened.guarded():
        lines = verify(
            spark,
            opened.reading.dataset if opened.reading else None,
            emit=lambda _: None,
            manifest=opened.manifest,
            database=database,
            versions=opened.versions,
            only=formats,
        )
    opened.still()  # the lines stand only once the dataset is known to be the publish its manifest describes
    return _summary(lines, opened.reading.dataset.resolve() if opened.reading else database, started)


def _summary(lines: list[Line], what, started: float) -> Outcome:
    bad = [line for line in lines if line.status != OK]
    width = max((len(line.table) for line in lines), default=0)
    seconds = time.monotonic() - started
    text = [
        *(line.render(width) for line in lines),
        f"synth-spark: {len(lines) - len(bad)} of {len(lines)} ok, {len(bad)} failed; verified {what} "
        f"against its manifest in {seconds:.1f}s",
    ]
    document = {
        "command": "verify",
        "dataset": str(what),
        "ok": not bad,
        "seconds": round(seconds, 1),
        "tables": [
            {
                "table": line.table,
                "format": line.fmt,
                "path": line.path,
                "status": line.status,
                "detail": line.detail,
            }
            for line in lines
        ],
    }
    return Outcome(1 if bad else 0, text, document)
