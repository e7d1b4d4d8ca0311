"""Where synth-spark's CPU goes (``bench.py --profile``): the generation taken apart, one step at a time.

Measured in the bench's session after its stages, each step alone (no two Spark jobs at once, unlike
``generate``), with the CPU seconds of the whole process tree (driver JVM, Python workers, this process):

* on the driver, no Spark: the plan, the simulation kernels (posts and lifecycle) and each table's
  emitter over every chunk, and pickling a chunk's state (CPU of this process only);
* a fresh Python interpreter importing the executor code: what each new Python worker pays;
* Spark: the simulating pass (states kept on disk); then per simulated table the same rows to Spark's
  ``noop`` sink (unpickle, emit, Arrow into the JVM's rows), to Parquet, and to Parquet with the
  checksum observed: the differences are the Parquet encoding and the checksum; the derived tables;
  a Python task that does nothing (the fixed cost per task); Delta and CSV written from the staged
  Parquet against reading it;
* the JVM's warm-up: the CPU of a first 1x generate in this session against a second one.
"""

from __future__ import annotations

import pickle
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _cpu_of_child(argv: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def driver_kernels(plan, partitions: int) -> list[dict]:
    """CPU seconds of each kernel over every chunk of the run, on the driver (one chunk at a time)."""
    from synth_spark.job import emitters as E

    shared = E.CreatorsByTask.of(plan, partitions)
    emit = {
        "emit posts": E.posts_batch,
        "emit pledges": E.pledges_batch,
        "emit transactions": E.transactions_batch,
        "emit engagement_events": E.events_batch,
        "emit patron parts": E.patron_parts_batch,
    }
    cpu = {
        "simulate (posts, lifecycle)": 0.0,
        **{k: 0.0 for k in emit},
        "pickle + unpickle a chunk's state": 0.0,
    }
    state_bytes = 0
    for task in range(partitions):
        for creators in shared.chunks(task):
            t = time.process_time()
            sim = E.simulate_chunk(plan.constants, creators)
            cpu["simulate (posts, lifecycle)"] += time.process_time() - t
            for name, f in emit.items():
                t = time.process_time()
                f(plan.constants, sim)
                cpu[name] += time.process_time() - t
            t = time.process_time()
            blob = pickle.dumps(sim, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(blob)
            cpu["pickle + unpickle a chunk's state"] += time.process_time() - t
            state_bytes += len(blob)
    out = [{"step": f"driver: {k}", "cpu": round(v, 2)} for k, v in cpu.items()]
    out.append(
        {"step": "driver: state of every chunk (MiB)", "cpu": None, "note": f"{state_bytes / 2**20:,.0f} MiB"}
    )
    return out


def profile(
    spark, cfg, partitions: int, scratch: Path, usage: Callable[[], tuple[int, float]], warm_cfg=None
) -> list[dict]:
    """The steps with their wall and CPU seconds, in the order measured."""
    from synth_spark.job.derived import chunk_states, creators_frame, emitted_table, patrons_frame
    from synth_spark.job.emitters import CreatorsByTask
    from synth_spark.job.generate import SIMULATED, generate, task_frame
    from synth_spark.job.writers import Staging, read_parquet
    from synth_spark.progress import Progress
    from synth_spark.runtime.tables import checksum
    from synth_spark.simulation.plan import Plan
    from synth_spark.vocabulary import OUTPUT_TABLES

    steps: list[dict] = []

    def timed(step: str, action: Callable[[], object]) -> None:
        wall, (_, cpu) = time.monotonic(), usage()
        action()
        _, cpu_after = usage()
        steps.append(
            {"step": step, "wall": round(time.monotonic() - wall, 2), "cpu": round(cpu_after - cpu, 2)}
        )
        print(f"[profile] {step}: {steps[-1]['wall']:.1f}s wall, {steps[-1]['cpu']:.1f}s CPU", flush=True)

    shutil.rmtree(scratch, ignore_errors=True)
    if warm_cfg is not None:
        timed(
            "JVM warm: a second generate at the warm-up scale (against the warm-up's first, below)",
            lambda: generate(
                spark, warm_cfg, scratch / "warm", ["parquet"], partitions, Progress(quiet=True)
            ),
        )
    t = time.process_time()
    plan = Plan.make(cfg)
    steps.append(
        {"step": "driver: plan (creators, tiers, anomalies)", "cpu": round(time.process_time() - t, 2)}
    )
    steps += driver_kernels(plan, partitions)
    steps.append(
        {
            "step": "a fresh Python importing the executor code (per Python worker)",
            "cpu": round(_cpu_of_child([sys.executable, "-c", "import synth_spark.job.derived"]), 2),
        }
    )

    job = plan.constants
    tasks = task_frame(spark, CreatorsByTask.of(plan, partitions), partitions)
    states = chunk_states(tasks, job)
    staging = Staging(scratch / "staging")
    try:
        timed("spark: simulating pass (states kept on disk)", states.count)
        for table in SIMULATED:
            timed(
                f"spark: {table} to noop (unpickle, emit, Arrow to JVM rows)",
                lambda: emitted_table(states, job, table).write.format("noop").mode("overwrite").save(),
            )
            timed(
                f"spark: {table} to Parquet",
                lambda: staging.write_parquet(emitted_table(states, job, table), table, "plain"),
            )
            timed(
                f"spark: {table} to Parquet + checksum",
                lambda: staging.write_parquet(emitted_table(states, job, table), table),
            )
        timed(
            "spark: patrons (parts, totals, identity, unique emails) + checksum",
            lambda: staging.write_parquet(
                patrons_frame(job, emitted_table(states, job, "patron_parts")).repartition(
                    partitions, "patron_id"
                ),
                "patrons",
            ),
        )
        pledges, posts = (read_parquet(spark, staging.path("parquet", t)) for t in ("pledges", "posts"))
        timed(
            "spark: creators + checksum",
            lambda: staging.write_parquet(
                creators_frame(spark, job, plan.creators, pledges, posts).coalesce(1), "creators"
            ),
        )
        timed(
            "spark: a Python task doing nothing, per generation task",
            lambda: (
                tasks.select("task")
                .mapInArrow(lambda batches: batches, "task long")
                .write.format("noop")
                .mode("overwrite")
                .save()
            ),
        )
        staged = [t for t in OUTPUT_TABLES if staging.path("parquet", t).exists()]
        timed(
            "spark: read the staged Parquet (noop)",
            lambda: [
                read_parquet(spark, staging.path("parquet", t)).write.format("noop").mode("overwrite").save()
                for t in staged
            ],
        )
        timed(
            "spark: Delta from the staged Parquet",
            lambda: [staging.write_delta(read_parquet(spark, staging.path("parquet", t)), t) for t in staged],
        )
        timed(
            "spark: CSV from the staged Parquet",
            lambda: [
                staging.write_csv(read_parquet(spark, staging.path("parquet", t)), t, staging.checksums[t][0])
                for t in staged
            ],
        )
        timed(
            "spark: checksum alone, every staged table (read + hash)",
            lambda: [checksum(read_parquet(spark, staging.path("parquet", t))) for t in staged],
        )
    finally:
        states.unpersist()
        staging.discard()
        shutil.rmtree(scratch, ignore_errors=True)
    return steps


def render(steps: list[dict], generate_cpu: float, warmup_cpu: float | None) -> list[str]:
    lines = [
        "",
        "Profile (`--profile`): each step alone, after the stages; CPU of the whole process tree "
        "(driver steps: this process). Shares are of the synth-spark stage's CPU.",
        "",
        "| step | wall s | CPU s | share |",
        "|---|---:|---:|---:|",
    ]
    for s in steps:
        cpu = s.get("cpu")
        share = f"{cpu / generate_cpu:.0%}" if cpu is not None and generate_cpu else "-"
        # the tree's CPU counts a Python worker's once its daemon reaps it; a daemon that exits takes its
        # reaped workers' seconds along, and the step's difference can come out negative: not a figure
        cpu_text = s.get("note") or (
            "-" if cpu is None else "n/a (a Python daemon exited)" if cpu < 0 else f"{cpu:.2f}"
        )
        share = "-" if cpu is not None and cpu < 0 else share
        wall = "-" if s.get("wall") is None else f"{s['wall']:.1f}"
        lines.append(f"| {s['step']} | {wall} | {cpu_text} | {share} |")
    if warmup_cpu is not None:
        lines.append(
            f"| JVM cold: the session's first generate at the warm-up scale (in the warm-up round) | - | "
            f"{warmup_cpu:.2f} | - |"
        )
    return lines
