"""The two file layouts side by side (bench.py --layouts): what ``--layout time`` costs a generate,
and what it saves a query on a range of days.

For each layout: a generate of Parquet and Delta (timed: wall and CPU seconds of the process tree),
then a query on one month of transactions (the count and the gross amount of December of the
window's first year) run QUERY_RUNS times on each format after one untimed run, the median kept;
and, from the Delta log's statistics, how many of the table's files that month can touch (Delta
skips the others: the files a query reads).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

QUERY_RUNS = 5
TABLE, COLUMN = "transactions", "transaction_at"


def month_of(cfg) -> tuple[dt.datetime, dt.datetime]:
    """December of the window's first year (11 months in: a month every creator has been billed in)."""
    first = dt.datetime(cfg.window.start.year, 12, 1)
    return first, dt.datetime(first.year + 1, 1, 1)


def _query(spark, fmt: str, path: Path, since: dt.datetime, until: dt.datetime):
    from pyspark.sql import functions as F

    df = spark.read.format(fmt).load(str(path))
    return (
        df.where((F.col(COLUMN) >= F.lit(since)) & (F.col(COLUMN) < F.lit(until)))
        .agg(F.count(F.lit(1)).alias("rows"), F.sum("gross_amount_usd").alias("gross"))
        .first()
    )


def files_touched(spark, delta_path: Path, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
    """(files whose [min, max] of the time column meet the range, all files), from the Delta log's
    per-file statistics: what Delta's data skipping reads."""
    from pyspark.sql import functions as F

    log = spark.read.json(str(delta_path / "_delta_log" / "*.json")).where("add is not null")
    stats = F.from_json(
        "add.stats", f"minValues struct<{COLUMN}: timestamp>, maxValues struct<{COLUMN}: timestamp>"
    )
    files = log.select(stats.alias("s"))
    total = files.count()
    meet = files.where(
        (F.col(f"s.minValues.{COLUMN}") < F.lit(until)) & (F.col(f"s.maxValues.{COLUMN}") >= F.lit(since))
    ).count()
    return meet, total


def measure(spark, cfg, partitions: int | None, out: Path, tree_usage) -> dict:
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    since, until = month_of(cfg)
    results = {}
    answers = set()
    for layout in ("tasks", "time"):
        folder = out / f"layout-{layout}"
        _, cpu0 = tree_usage()
        started = time.monotonic()
        generate(
            spark,
            cfg,
            folder,
            ["parquet", "delta"],
            partitions,
            Progress(quiet=True),
            overwrite=True,
            layout=layout,
        )
        seconds = time.monotonic() - started
        _, cpu1 = tree_usage()
        entry = {"generate_seconds": round(seconds, 1), "generate_cpu_seconds": round(cpu1 - cpu0, 1)}
        for fmt in ("parquet", "delta"):
            path = folder / fmt / TABLE
            answers.add(tuple(_query(spark, fmt, path, since, until)))  # untimed: caches and JIT warm
            times = []
            for _ in range(QUERY_RUNS):
                t0 = time.monotonic()
                _query(spark, fmt, path, since, until)
                times.append(time.monotonic() - t0)
            entry[f"{fmt}_query_seconds"] = round(statistics.median(times), 3)
        entry["delta_files_touched"], entry["delta_files"] = files_touched(
            spark, folder / "delta" / TABLE, since, until
        )
        results[layout] = entry
    if len(answers) != 1:
        raise AssertionError(
            f"the month's query gave different answers across layouts and formats: {answers}"
        )
    return {
        "query": (
            f"count(*), sum(gross_amount_usd) of {TABLE} where {COLUMN} in [{since:%Y-%m-%d}, "
            f"{until:%Y-%m-%d})"
        ),
        "layouts": results,
    }


def render(report: dict) -> list[str]:
    lines = [
        "",
        f"File layouts (--layout), Parquet and Delta, then {report['query']} (median of {QUERY_RUNS}):",
        "",
        "| layout | generate s | generate CPU s | Parquet query s | Delta query s | Delta files the month "
        "touches |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for layout, e in report["layouts"].items():
        lines.append(
            f"| {layout} | {e['generate_seconds']:.1f} | {e['generate_cpu_seconds']:.1f} | "
            f"{e['parquet_query_seconds']:.3f} | {e['delta_query_seconds']:.3f} | "
            f"{e['delta_files_touched']} of {e['delta_files']} |"
        )
    return lines
