"""The generation job: plan on the driver, simulate on executors, derive, write, publish."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from synth_spark import manifest
from synth_spark.config import Config
from synth_spark.job.as_of import snapshots
from synth_spark.job.chunk_keys import BrokenKeys, check_chunks, planned_rows
from synth_spark.job.chunk_keys import one_line as chunk_failure
from synth_spark.job.derived import (
    anomalies_frame,
    chunk_states,
    creators_frame,
    emitted_table,
    patrons_frame,
    tiers_frame,
)
from synth_spark.job.emitters import TASK, CreatorsByTask
from synth_spark.job.ingestion import REPEATS, TABLE_OF
from synth_spark.job.keys import check_keys, made_by_table, made_rows
from synth_spark.job.layout import arranged
from synth_spark.job.writers import Staging, read_parquet
from synth_spark.manifest import MANIFEST, Format
from synth_spark.progress import Progress
from synth_spark.publish import truth_file
from synth_spark.publish.claim import Claim
from synth_spark.runtime.connect import is_connect
from synth_spark.runtime.session import cores
from synth_spark.simulation.plan import Plan
from synth_spark.simulation.workload import default_tasks
from synth_spark.vocabulary import EVENT_TIME, GROUND_TRUTH, OUTPUT_TABLES, TABLE_ORDER

T = TypeVar("T")
#: in the order they start: what the creators need first (pledges and posts), so they can be
#: derived while the larger tables are written
SIMULATED = ("pledges", "posts", "transactions", "engagement_events")
#: the pledges' pauses and tier changes, written only for runs that cut the history (as_of, changes)
HISTORY = "history"
#: Spark jobs in flight at once: each stage leaves cores idle at its start and tail (and the
#: single-file tables use one core), which another table's job can use
CONCURRENT_JOBS = 2


@dataclass
class Result:
    """What a run published: ``out``, the dataset's folder (a local path or a ``HadoopPath`` for a
    URI; None for catalog tables); ``rows`` and ``checksums`` per table (``synth-spark verify``
    compares these); ``seconds`` the run took; ``manifest``, the manifest as written."""

    out: Path | None
    rows: dict[str, int]
    checksums: dict[str, str]
    seconds: float
    manifest: dict


def task_frame(spark: SparkSession, spread: CreatorsByTask, tasks: int) -> DataFrame:
    """One row per generation task, task ``i`` in partition ``i``, with the chunks of creators it
    simulates. The chunks are a small table broadcast-joined to the task numbers: the task side is
    never shuffled (so balance is the workload's), and no ``sparkContext`` is needed (Spark Connect)."""
    chunks = spark.createDataFrame(spread.task_rows(tasks))
    return spark.range(0, tasks, 1, tasks).withColumnRenamed("id", TASK).join(F.broadcast(chunks), TASK)


def concurrently(
    spark: SparkSession,
    progress: Progress,
    steps: dict[str, Callable[[], T]],
    after: dict[str, tuple[str, ...]] | None = None,
    at_once: int = CONCURRENT_JOBS,
) -> dict[str, T]:
    """Run the steps (functions submitting Spark jobs) in order, ``at_once`` at a time, each in
    a driver thread; a step named in ``after`` waits for the steps it needs, which must come before
    it. Results by name. The first failure cancels the other jobs and is raised once they have
    stopped."""
    after = after or {}
    # Every job of these steps carries this tag (a session's tags work in classic Spark and over
    # Spark Connect alike), so a failure stops exactly them, not a notebook user's other jobs.
    tag = f"synth-spark-{uuid.uuid4().hex[:12]}"
    # A step waiting for its inputs holds a thread, but its inputs were dequeued before it (the pool
    # starts steps in order), so they are running or done: no deadlock.
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="synth-spark") as pool:
        futures: dict[str, Future] = {}
        for name, step in steps.items():
            needs = [futures[n] for n in after.get(name, ())]
            futures[name] = pool.submit(_announced, spark, tag, progress, name, step, needs)
        try:
            for done in as_completed(futures.values()):
                done.result()
        except BaseException:
            for f in futures.values():
                f.cancel()
            spark.interruptTag(tag)
            raise
        return {name: f.result() for name, f in futures.items()}


def _announced(
    spark: SparkSession, tag: str, progress: Progress, name: str, step: Callable[[], T], needs: list[Future]
) -> T:
    for need in needs:
        need.result()  # a failed input fails this step too
    progress(f"writing {name}")
    started = time.monotonic()
    # Tags and the description belong to this thread's jobs: the Spark UI and event log show
    # which table each job writes.
    spark.addTag(tag)
    spark.addTag(f"synth-spark-{name.replace('/', '-')}")
    if not is_connect(spark):
        spark.sparkContext.setJobDescription(f"synth-spark: {name}")
    try:
        with progress.doing(name):
            result = step()
    finally:
        spark.clearTags()
    progress(f"wrote {name} in {time.monotonic() - started:.1f}s")
    return result


def generate(
    spark: SparkSession,
    cfg: Config,
    out: Path,
    formats: list[str],
    partitions: int | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    claim: Claim | None = None,
    as_of: dt.date | None = None,
    layout: str = "tasks",
    truth_out: Path | None = None,
) -> Result:
    """Generate every table into ``out``. ``partitions`` is the number of generation tasks; by
    default it follows the expected rows and the cores Spark has (``workload.default_tasks``).
    ``out`` must be empty, missing, or (with ``overwrite``) one of our datasets; the run holds the
    folder's lock throughout (``claim``, when the caller took it already). ``as_of``: the tables as
    they stood at the end of that day instead of the window's end. ``layout``: how the large tables'
    rows are spread over files (job/layout.py). ``truth_out``: a file outside ``out`` for the ground
    truth (publish/truth_file.py), which the dataset then does not hold."""
    progress = progress or Progress()
    if claim is None:
        with Claim(out, overwrite, progress) as claim:
            return _generate(spark, cfg, out, formats, partitions, progress, as_of, layout, truth_out)
    return _generate(spark, cfg, out, formats, partitions, progress, as_of, layout, truth_out)


def table_frames(
    spark: SparkSession, plan: Plan, states: DataFrame, history: bool = False, tally=None
) -> dict[str, DataFrame]:
    """Every output table (and, with ``history``, the pledges' pauses and tier changes) as a
    DataFrame over the :func:`chunk_states`'s states, in the published schemas; nothing runs yet.
    ``tally``: the accumulator each chunk adds its simulated tables' rows to (job/keys.py). The
    tables of a whole dataset pass through its data incidents; with ``history`` (the platform's own
    rows, cut as of a day) they do not."""
    job = plan.constants
    frames = {table: emitted_table(states, job, table, tally, ingest=not history) for table in SIMULATED}
    frames["patrons"] = patrons_frame(job, emitted_table(states, job, "patron_parts"))
    frames["tiers"] = tiers_frame(spark, plan.tiers)
    frames["creators"] = creators_frame(spark, job, plan.creators, frames["pledges"], frames["posts"])
    frames[GROUND_TRUTH] = anomalies_frame(spark, list(plan.published_truth))
    if history:
        frames[HISTORY] = emitted_table(states, job, HISTORY)
    return frames


def stage_simulation(
    spark: SparkSession,
    plan: Plan,
    staging: Staging,
    partitions: int,
    progress: Progress,
    fmt: str = "parquet",
    history: bool = False,
    layout: str = "tasks",
    tally=None,
) -> dict[str, Path]:
    """Simulate every table and write its final rows to ``staging``'s ``fmt`` folder (checksums
    kept for "parquet"), with the pledges' history when asked: where each table went. Each chunk
    checks its simulated tables' keys as it makes them (rows counted in ``tally`` when given)."""
    job, creators = plan.constants, plan.creators
    spread = CreatorsByTask.of(plan, partitions)
    check_chunks(
        (
            spread.creators["creator_id"][rows]
            for task in range(partitions)
            for rows in spread.workload.chunks_of(task)
        ),
        len(creators["creator_id"]),
    )
    progress(
        f"simulating the creators in {partitions} tasks (the largest expected at "
        f"{spread.workload.imbalance:.2f}x the average)"
    )
    states = chunk_states(task_frame(spark, spread, partitions), job)
    try:

        def write(df: DataFrame, table: str) -> Path:
            return staging.write_parquet(df, table, fmt)

        def staged_table(table: str) -> DataFrame:
            return read_parquet(spark, staging.path(fmt, table))

        frames = table_frames(spark, plan, states, history, tally)
        # files per table as the published layout has them; the creators from the staged pledges and
        # posts, not from a second pass over the states
        steps: dict[str, Callable[[], object]] = {
            table: (
                lambda t=table: write(arranged(frames[t], t, partitions, layout, plan.cfg.window.months), t)
            )
            for table in SIMULATED
        }
        if history:
            steps[HISTORY] = lambda: write(frames[HISTORY], HISTORY)
        steps["tiers"] = lambda: write(frames["tiers"].coalesce(1), "tiers")
        steps[GROUND_TRUTH] = lambda: write(frames[GROUND_TRUTH].coalesce(1), GROUND_TRUTH)
        steps["patrons"] = lambda: write(frames["patrons"].repartition(partitions, "patron_id"), "patrons")
        steps["creators"] = lambda: write(
            creators_frame(spark, job, creators, staged_table("pledges"), staged_table("posts")).coalesce(1),
            "creators",
        )
        return concurrently(spark, progress, steps, after={"creators": ("pledges", "posts")})
    finally:
        states.unpersist()


def planned(spark: SparkSession, cfg: Config, partitions: int | None, progress: Progress) -> tuple[Plan, int]:
    """The run's plan and its number of generation tasks."""
    progress(
        f"planning: {cfg.n_creators:,} creators, {cfg.n_patrons:,} patrons target, seed {cfg.seed}, scale "
        f"{cfg.scale:g}"
    )
    plan = Plan.make(cfg)
    return plan, partitions or default_tasks(plan.expected_work(), cores(spark))


def stage(
    spark: SparkSession,
    plan: Plan,
    staging: Staging,
    partitions: int,
    progress: Progress,
    as_of: dt.date | None,
    layout: str,
) -> dict[str, Path]:
    """Every output table's final rows in ``staging``'s Parquet folder, their checksums kept, and
    their keys checked (job/keys.py: a dataset that breaks them is never published)."""
    # the chunks count what they made where the session has accumulators (not over Spark Connect),
    # and not for a snapshot, whose cut rows are checked on the staged files
    tally = made_rows(spark) if as_of is None else None
    try:
        staged = _staged(spark, plan, staging, partitions, progress, as_of, layout, tally)
    except Exception as err:  # noqa: BLE001 - a chunk's check fails its Spark task; its one line is inside
        line = chunk_failure(err)
        if line is None:
            raise
        raise BrokenKeys(line) from None
    started = time.monotonic()
    made = None
    if tally is not None:
        made = {
            **made_by_table(tally),
            **planned_rows(
                plan.creators["creator_id"],
                plan.tiers["tier_id"],
                plan.tiers["creator_id"],
                [a["anomaly_id"] for a in plan.published_truth],
            ),
        }
    repeated = frozenset(
        TABLE_OF[e.kind] for e in plan.constants.anomalies.scenarios.incidents if e.kind in REPEATS
    )
    with progress.doing("checking every table's keys"):
        check_keys(
            spark,
            staged,
            {t: n for t, (n, _) in staging.checksums.items()},
            made=made,
            repeated_on_purpose=repeated if as_of is None else frozenset(),
        )
    progress(f"checked every table's keys in {time.monotonic() - started:.1f}s")
    return staged


def _staged(
    spark: SparkSession,
    plan: Plan,
    staging: Staging,
    partitions: int,
    progress: Progress,
    as_of: dt.date | None,
    layout: str,
    tally=None,
) -> dict[str, Path]:
    if as_of is None:
        return stage_simulation(spark, plan, staging, partitions, progress, layout=layout, tally=tally)
    # the whole history first, then each table cut at the end of the day
    full = {
        t: read_parquet(spark, p)
        for t, p in stage_simulation(
            spark, plan, staging, partitions, progress, "history", history=True
        ).items()
    }
    cut = snapshots(full, as_of)
    steps = {
        t: (
            lambda t=t: staging.write_parquet(
                _files(cut[t], t, partitions, layout, plan.cfg.window.months), t
            )
        )
        for t in TABLE_ORDER
    }
    steps[GROUND_TRUTH] = lambda: staging.write_parquet(cut[GROUND_TRUTH], GROUND_TRUTH)
    progress(f"cutting every table at the end of {as_of.isoformat()}")
    return concurrently(spark, progress, steps)


def _generate(
    spark: SparkSession,
    cfg: Config,
    out: Path,
    formats: list[str],
    partitions: int | None,
    progress: Progress,
    as_of: dt.date | None,
    layout: str,
    truth_out: Path | None = None,
) -> Result:
    plan, partitions = planned(spark, cfg, partitions, progress)
    if truth_out is not None:
        plan = plan.kept_apart()
    staging, staged_truth = Staging(out), None
    try:
        staged = stage(spark, plan, staging, partitions, progress, as_of, layout)
        rows, sums = staging.counts(OUTPUT_TABLES)
        paths: dict[str, dict[str, str]] = {t: {} for t in OUTPUT_TABLES}
        copies: dict[str, Callable[[], str]] = {}
        for table in OUTPUT_TABLES:
            if Format.PARQUET in formats:
                paths[table]["parquet"] = f"parquet/{table}"
            # a copy reads the staged files packed into fewer tasks: laid out again
            df = arranged(read_parquet(spark, staged[table]), table, partitions, layout, cfg.window.months)
            if Format.DELTA in formats:
                copies[f"delta/{table}"] = lambda df=df, t=table: str(
                    staging.write_delta(df, t).relative_to(staging.root)
                )
            if Format.CSV in formats:
                copies[f"csv/{table}"] = lambda df=df, t=table: str(
                    staging.write_csv(df, t, rows[t]).relative_to(staging.root)
                )
        for name, path in concurrently(spark, progress, copies).items():
            fmt, table = name.split("/", 1)
            paths[table][fmt] = path

        published = manifest.build(plan, formats, partitions, rows, sums, paths, as_of, layout)
        if truth_out is not None:  # whole on disk before the dataset it answers is published
            doc = truth_file.document(published, list(plan.truth))
            staged_truth = truth_file.StagedTruth(truth_out, doc)
        staging.publish([paths[t][f] for t in OUTPUT_TABLES for f in formats], manifest.text(published))
    except BaseException:
        staging.discard()
        if staged_truth is not None:
            staged_truth.discard()
        raise
    if staged_truth is not None:
        staged_truth.commit()
        progress(f"wrote the ground truth to {truth_out}, apart from the dataset")
    progress(f"published {out / MANIFEST}")
    # the publish included: on an object store its copies are a good part of the run
    return Result(out, rows, sums, time.monotonic() - progress.started, published)


def _files(df: DataFrame, table: str, partitions: int, layout: str, months: int) -> DataFrame:
    """A cut table in as many files as the full one would have, laid out as asked."""
    if table in ("tiers", "creators"):
        return df.coalesce(1)
    if layout == "time" and table in EVENT_TIME:
        return arranged(df, table, partitions, layout, months)
    return df.repartition(partitions, df.columns[0])
