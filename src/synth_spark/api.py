"""The library API, for notebooks and jobs that already hold a SparkSession (classic or Spark Connect).

    import synth_spark
    gen = synth_spark.Generator(spark, scale=1, seed=42)     # checks every option; no Spark job yet
    tables = gen.build()                                    # the tables as lazy DataFrames, nothing written
    tables["pledges"].groupBy("pledge_status").count().show()
    gen.write("out/1x", formats=["parquet", "delta"])        # what `synth-spark generate` writes

Options are checked like the command line's, before any work, and refused with
``synth_spark.ConfigError`` (a ``ValueError``) whose message is one line naming the option and what
is allowed. The same seed and scale give the same tables, with the same checksums, as the CLI.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from synth_spark import options
from synth_spark.changes_options import ChangesFields, changes_request, written_feed
from synth_spark.checks.verify import verified
from synth_spark.config import Config, ConfigError
from synth_spark.extras import require
from synth_spark.job.as_of import snapshots
from synth_spark.job.catalog import generate_tables
from synth_spark.job.derived import chunk_states
from synth_spark.job.emitters import CreatorsByTask
from synth_spark.job.generate import Result, generate, table_frames, task_frame
from synth_spark.manifest import MAX_PARTITIONS, Format
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.publish.claim import Claim
from synth_spark.publish.database import Database
from synth_spark.publish.opened import open_database, open_folder
from synth_spark.publish.storage import check_writable, resolve
from synth_spark.publish.truth_file import check_truth_out
from synth_spark.request import ALL_FORMATS, LIBRARY, DataRequest, ReadRequest, WriteRequest
from synth_spark.runtime.connect import check_server_sees, is_connect
from synth_spark.runtime.session import SESSION_SETTINGS, cores, own_settings
from synth_spark.simulation.plan import Plan
from synth_spark.simulation.workload import default_tasks
from synth_spark.validation.run import measured, opened_control, opened_whole
from synth_spark.vocabulary import OUTPUT_TABLES

__all__ = ["Generator", "Result", "changes", "validate", "verify"]


def _nested(settings: Mapping[str, Any]) -> dict:
    """``{"anomalies.holiday_churn.enabled": False}`` (or already nested) as the nested mapping a YAML file
    holds."""
    out: dict = {}
    for key, value in settings.items():
        node = out
        *parents, leaf = str(key).split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(
                    f"settings: {key!r} sets a value under one already given; give each key once"
                )
        node[leaf] = _nested(value) if isinstance(value, Mapping) else value
    return out


#: how the files are written, not what they hold: set for the library's own writes only, the
#: caller's session unchanged after
_WRITTEN_AS = {
    k: SESSION_SETTINGS[k]
    for k in ("spark.sql.parquet.outputTimestampType", "spark.sql.sources.partitionOverwriteMode")
}


def _delta_configured(spark: SparkSession) -> bool:
    return "DeltaSparkSessionExtension" in (spark.conf.get("spark.sql.extensions", None) or "")


@contextmanager
def workers_python(spark: SparkSession) -> Iterator[None]:
    """In local mode, the Python workers of the DataFrames made inside run this interpreter, which
    has synth-spark and its dependencies, unless the user chose one (``PYSPARK_PYTHON``,
    ``spark.pyspark.python``); the session's own is put back after (a DataFrame keeps the
    interpreter it was made with). On a cluster the executors' Python is the cluster's: ship the
    package there (docs/notebook.md)."""
    if (
        is_connect(spark)
        or os.environ.get("PYSPARK_PYTHON")
        or spark.conf.get("spark.pyspark.python", None)
        or not spark.sparkContext.master.startswith("local")
    ):
        yield
        return
    sc = spark.sparkContext
    before, sc.pythonExec = sc.pythonExec, sys.executable
    try:
        yield
    finally:
        sc.pythonExec = before


class Generator:
    """The dataset of one seed and scale, from an existing session.

    ``config``: a YAML file of settings over the defaults, or a ``synth_spark.Config``; ``settings``:
    overrides, nested or dotted (``{"anomalies.viral_spike.enabled": False}``); ``anomalies=False``
    turns every injected anomaly off (a control run); ``partitions``: simulation tasks (the
    output is the same for any value); ``as_of``: the tables as they stood at the end of that day;
    ``scenarios`` and ``difficulty``: how many more scenario instances the run seed places, and how hard
    (easy, medium, hard or mixed); ``data_incidents``: allow the catalogue's data incidents, which
    break the data contract on purpose; ``decoys``: list labelled non-incidents in the ground truth."""

    def __init__(
        self,
        spark: SparkSession,
        scale: float | None = None,
        seed: int | None = None,
        config: str | Path | Config | None = None,
        settings: Mapping[str, Any] | None = None,
        anomalies: bool = True,
        partitions: int | None = None,
        as_of: dt.date | str | None = None,
        progress: bool = False,
        scenarios: int | None = None,
        difficulty: str | None = None,
        data_incidents: bool = False,
        decoys: bool = False,
    ):
        self.spark = spark
        self.request = DataRequest.make(
            LIBRARY,
            scale=scale,
            seed=seed,
            config=config,
            settings=[_nested(settings)] if settings else [],
            anomalies=anomalies,
            scenarios=scenarios,
            difficulty=difficulty,
            data_incidents=data_incidents,
            decoys=decoys,
            partitions=partitions,
            as_of=as_of,
        )
        self.cfg, self.partitions, self.as_of = self.request.cfg, self.request.partitions, self.request.as_of
        self.progress = Progress(quiet=not progress)
        self._plan: Plan | None = None
        self._states: DataFrame | None = None

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = Plan.make(self.cfg)
        return self._plan

    def _tasks(self) -> int:
        return self.partitions or default_tasks(self.plan.expected_work(), cores(self.spark))

    def build(self, tables: Iterable[str] | None = None) -> dict[str, DataFrame]:
        """The tables (all, or those named) as DataFrames, in the published schemas; nothing runs
        until an action. The simulation runs once for all of them, kept on the executors' disks from
        the first action on: :meth:`unpersist` frees it."""
        wanted = list(OUTPUT_TABLES) if tables is None else list(tables)
        unknown = [t for t in wanted if t not in OUTPUT_TABLES]
        if unknown:
            raise ConfigError(
                f"tables: {unknown[0]!r} is not a table; give some of {', '.join(OUTPUT_TABLES)}"
            )
        with workers_python(self.spark):
            if self._states is None:
                tasks = self._tasks()
                self._states = chunk_states(
                    task_frame(self.spark, CreatorsByTask.of(self.plan, tasks), tasks), self.plan.constants
                )
            full = table_frames(self.spark, self.plan, self._states, history=self.as_of is not None)
        tables_now = full if self.as_of is None else snapshots(full, self.as_of)
        return {t: tables_now[t] for t in wanted}

    def unpersist(self) -> None:
        """Free the simulation :meth:`build` kept on the executors."""
        if self._states is not None:
            self._states.unpersist()
            self._states = None

    def write(
        self,
        path: str | Path | None = None,
        formats: Iterable[str] | str | None = None,
        overwrite: bool = False,
        database: str | None = None,
        layout: str = "tasks",
        truth_out: str | Path | None = None,
    ):
        """Write the dataset to ``path`` (a folder, or a URI such as ``s3a://bucket/prefix``) exactly as
        ``synth-spark generate`` does: staged, checksummed, published with its manifest last (``formats``:
        default all three). Or, with ``database``, as Delta tables of the session's catalog, as
        ``generate --database`` does. ``layout``: "tasks" or "time" (files for time-range queries).
        ``truth_out``: a local file outside the dataset for its ground truth, as ``--truth-out``.
        Returns the run's result (rows, checksums, manifest)."""
        asked = WriteRequest.make(
            LIBRARY, dataset=path, database=database, formats=formats, layout=layout, overwrite=overwrite
        )
        if truth_out is not None:
            if asked.database is not None:
                raise ConfigError("truth_out: not with database yet; write the dataset to a folder")
            folder = asked.folder if isinstance(asked.folder, Path) else None
            truth_out = check_truth_out(Path(truth_out), folder, asked.overwrite, "truth_out")
        fmts, where, name = list(asked.formats), asked.folder, asked.database
        if Format.DELTA in fmts and not _delta_configured(self.spark):
            raise ConfigError(
                "formats: delta needs Delta Lake configured in the session (spark.sql.extensions and "
                "spark.sql.catalog.spark_catalog, e.g. delta-spark's configure_spark_with_delta_pip); "
                "or leave delta out"
            )
        if isinstance(where, Path):
            check_writable(where)
        if name is not None and is_connect(self.spark):
            raise ConfigError(
                "database: catalog tables are not written over Spark Connect yet; write a folder"
            )
        with workers_python(self.spark), own_settings(self.spark, _WRITTEN_AS):
            if name is not None:
                started = time.monotonic()
                published = generate_tables(
                    self.spark,
                    self.cfg,
                    Database(self.spark, name),
                    self.partitions,
                    self.progress,
                    asked.overwrite,
                    self.as_of,
                    asked.layout,
                )
                tables = published["tables"]
                return Result(
                    None,
                    {t: e["rows"] for t, e in tables.items()},
                    {t: e["checksum"] for t, e in tables.items()},
                    time.monotonic() - started,
                    published,
                )
            check_server_sees(self.spark, where)
            out = resolve(self.spark, where)
            with Claim(out, asked.overwrite, self.progress) as claim:
                return generate(
                    self.spark,
                    self.cfg,
                    out,
                    fmts,
                    self.partitions,
                    self.progress,
                    claim=claim,
                    as_of=self.as_of,
                    layout=asked.layout,
                    truth_out=truth_out,
                )


def verify(
    spark: SparkSession,
    path: str | Path | None = None,
    *,
    database: str | None = None,
    formats: Iterable[str] | str | None = None,
) -> Outcome:
    """Re-read a dataset with ``spark`` and compare each table's rows and checksum with its manifest,
    as ``synth-spark verify`` does.

    Args:
        spark: the session to read with; Delta Lake must be configured in it to read Delta tables.
        path: the dataset's folder, or a Hadoop FileSystem URI such as ``s3a://bucket/prefix``.
        database: instead of ``path``, a database of the session's catalog holding a dataset.
        formats: the formats to verify, a list or a comma list (default: every format it holds).

    Returns:
        An ``Outcome``: ``code`` 0 when every table matches, 1 otherwise; ``lines`` as the command
        prints them; ``document`` as ``--json`` prints it (each table's status and detail).

    Raises:
        ConfigError: a path, database or format that is not allowed, a folder that holds no
            dataset, or a dataset another run changed while it was read.
    """
    read = ReadRequest.make(LIBRARY, dataset=path, database=database, formats=formats)
    only = None if read.formats is None else list(read.formats)
    if read.database is not None:
        opened = open_database(spark, read.database)
    else:
        where = read.folder
        opened = open_folder(where if isinstance(where, Path) else resolve(spark, where), "path")
    if Format.DELTA in (only or opened.formats) and not _delta_configured(spark):
        raise ConfigError(
            "formats: the dataset's Delta tables need Delta Lake configured in the session; "
            "or give formats without delta"
        )
    return verified(spark, opened, only)


def validate(
    spark: SparkSession,
    path: str | Path,
    *,
    control: str | Path | None = None,
    report: str | Path | None = None,
) -> Outcome:
    """Measure every statistical target of the platform on a dataset with ``spark``, score each
    injected anomaly blind against its ground truth and write the report, as ``synth-spark validate``
    does. The session's settings are as they were once it is done.

    Args:
        spark: the session to measure with.
        path: the dataset's folder (a whole window: not a snapshot).
        control: a control run (same seed and scale, generated without anomalies).
        report: the report's folder (default: ``path/report``).

    Returns:
        An ``Outcome``: ``code`` 0 when every check passes, 1 otherwise; ``document`` holds each
        check's verdict, measured value, target and tolerance, and the report's folder.

    Raises:
        ConfigError: a path that holds no whole dataset, a control that is not one of it, or a
            dataset another run changed while it was read.
    """
    require("validate")
    opened = opened_whole(ReadRequest.make(LIBRARY, dataset=path, local=True).folder, "path")
    control_opened = None if control is None else opened_control(Path(control), opened.manifest, "control")
    report_dir = Path(report) if report is not None else opened.reading.dataset / "report"
    return measured(spark, opened, control_opened, report_dir, Progress(quiet=True))


def changes(
    spark: SparkSession,
    snapshot: str | Path,
    to: dt.date | str,
    *,
    out: str | Path | None = None,
    formats: Iterable[str] | str | None = None,
    partitions: int | None = None,
    overwrite: bool = False,
) -> Outcome:
    """Write the daily change batches that continue a snapshot up to the end of ``to``, as
    ``synth-spark changes`` does: with the snapshot's seed, scale and config (from its manifest),
    published whole or not at all into ``OUT/changes``.

    Args:
        spark: the session to write with; Delta Lake must be configured in it to write Delta.
        snapshot: the folder of a snapshot (``Generator(..., as_of=DAY).write(...)``).
        to: the last day of the batches, after the snapshot's day and within its window.
        out: the folder the feed goes in (default: beside the snapshot, ``SNAPSHOT-feed``).
        formats: a list or a comma list (default: all three).
        partitions: simulation tasks (the batches are the same for any value).
        overwrite: replace a feed already in ``OUT/changes``.

    Returns:
        An ``Outcome``: ``lines`` as the command prints them; ``document`` holds the feed's folder,
        its days and, per table, rows, inserts and updates.

    Raises:
        ConfigError: a field that is not allowed, a folder that holds no snapshot, or a feed
            folder that may not be written (inside the snapshot, say).
    """
    asked = ChangesFields(
        to=options.day(to, "to"),
        snapshot=snapshot,
        out=None if out is None else options.destination(out, "out"),
        formats=ALL_FORMATS if formats is None else tuple(options.formats(formats, "formats")),
        partitions=None
        if partitions is None
        else options.positive_int(partitions, "partitions", MAX_PARTITIONS),
        overwrite=overwrite,
    )
    run = changes_request(asked, LIBRARY)
    if Format.DELTA in run.formats and not _delta_configured(spark):
        raise ConfigError("formats: delta needs Delta Lake configured in the session; or leave delta out")
    progress = Progress(quiet=True)
    with workers_python(spark), own_settings(spark, _WRITTEN_AS), Claim(run.feed, run.overwrite, progress):
        check_server_sees(spark, run.feed)
        return written_feed(spark, run, progress)
