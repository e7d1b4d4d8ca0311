"""The generation job: plan on the driver, simulate on executors, derive, write, publish."""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from . import __version__
from .anomalies import ground_truth
from .batches import Job
from .calendar import Calendar
from .config import Config
from .creators import PLAN_COLUMNS, draw_creators, draw_tiers
from .derive import anomalies_frame, creators_frame, patrons_frame, simulated, tiers_frame
from .schemas import GROUND_TRUTH, OUTPUT_TABLES
from .writers import MANIFEST, Staging, checksum, read_parquet

SIMULATED = ("posts", "pledges", "transactions", "engagement_events")


@dataclass
class Progress:
    """One line per step with the time since the start, so long runs show where they are."""

    quiet: bool = False
    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.monotonic() - self.started:7.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Result:
    out: Path
    rows: dict[str, int]
    checksums: dict[str, str]
    seconds: float
    manifest: dict


def plan_frame(spark: SparkSession, creators: dict, partitions: int) -> DataFrame:
    """Creators' simulation parameters, spread over ``partitions`` tasks. Rows depend only on the
    creator, so how they are spread changes nothing in the output."""
    table = pa.table({k: creators[k] for k in PLAN_COLUMNS})
    return spark.createDataFrame(table).repartition(partitions, "creator_id")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "synth-spark": __version__}
    for pkg in ("pyspark", "delta-spark", "numpy", "pyarrow", "faker", "pydantic"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def generate(spark: SparkSession, cfg: Config, out: Path, formats: list[str], partitions: int,
             progress: Progress | None = None) -> Result:
    progress = progress or Progress()
    cal = Calendar(cfg.window)
    progress(f"planning: {cfg.n_creators:,} creators, {cfg.n_patrons:,} patrons target, seed {cfg.seed}, scale {cfg.scale:g}")
    creators = draw_creators(cfg, cal)
    tiers = draw_tiers(cfg, creators)
    job = Job.plan(cfg, cal, creators)
    creators["departed_t"] = np.minimum(job.anomalies.departure_of(creators["creator_id"]), cal.end + 1)
    truth = ground_truth(cfg, cal, job.anomalies)
    plan = plan_frame(spark, creators, partitions)

    out.mkdir(parents=True, exist_ok=True)
    staging = Staging(out)
    for folder in staging.removed_stale:
        progress(f"removed {folder.name}, left in {out} by a run that did not finish")
    try:
        staged: dict[str, Path] = {}
        for table in SIMULATED:
            progress(f"simulating and writing {table}")
            staged[table] = staging.write_parquet(simulated(plan, job, table), table)
        read = {t: read_parquet(spark, p) for t, p in staged.items()}
        progress("deriving patrons")
        staged["patrons"] = staging.write_parquet(
            patrons_frame(job, read["pledges"], read["transactions"]).repartition(partitions, "patron_id"), "patrons")
        progress("deriving creators and tiers")
        staged["creators"] = staging.write_parquet(
            creators_frame(spark, job, creators, read["pledges"], read["posts"]).coalesce(1), "creators")
        staged["tiers"] = staging.write_parquet(tiers_frame(spark, tiers).coalesce(1), "tiers")
        staged[GROUND_TRUTH] = staging.write_parquet(anomalies_frame(spark, truth).coalesce(1), GROUND_TRUTH)

        rows, sums, paths = {}, {}, {}
        for table in OUTPUT_TABLES:
            df = read_parquet(spark, staged[table])
            rows[table], sums[table] = checksum(df)
            paths[table] = {}
            if "parquet" in formats:
                paths[table]["parquet"] = f"parquet/{table}"
            if "delta" in formats:
                progress(f"writing delta/{table}")
                staging.write_delta(df, table)
                paths[table]["delta"] = f"delta/{table}"
            if "csv" in formats:
                progress(f"writing csv/{table}")
                written = staging.write_csv(df, table, rows[table])
                paths[table]["csv"] = str(written.relative_to(staging.root))
            progress(f"{table}: {rows[table]:,} rows, checksum {sums[table]}")

        seconds = time.monotonic() - progress.started
        manifest = {
            "generator": "synth-spark",
            "generator_version": __version__,
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "seed": cfg.seed,
            "scale": cfg.scale,
            "window": {"start": cfg.window.start.isoformat(), "end": (cfg.window.end - dt.timedelta(days=1)).isoformat(),
                       "months": cfg.window.months, "timezone": "UTC"},
            "formats": formats,
            "partitions": partitions,
            "patron_id_pool": job.pool,
            "churn_normaliser": round(job.churn_norm, 6),
            "tables": {t: {"rows": rows[t], "checksum": sums[t], "paths": paths[t]} for t in OUTPUT_TABLES},
            "anomalies": truth,
            "versions": _versions(),
            "config": cfg.fingerprint(),
        }
        staging.publish(formats, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    except BaseException:
        staging.discard()
        raise
    progress(f"published {out / MANIFEST}")
    return Result(out, rows, sums, seconds, manifest)
