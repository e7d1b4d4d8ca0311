"""What a run will cost before it runs: bytes per format, memory and time, from a sizing model fitted
to runs measured on a 2-core machine (``scripts/plan_vs_actual.py`` measures them again and prints
the model's error; docs/benchmark.md shows the table). Rows come from the plan
(``simulation/expected_rows.py``); this module turns them into bytes, seconds and memory."""

from __future__ import annotations

import math
from dataclasses import dataclass


#: bytes on disk per table: a fixed part (a file's footer and schema, Delta's log) and a part per
#: row, by format; from the 1x and 10x datasets of seed 42 (the per-row part from 10x, where files
#: are large; the fixed part from the difference of the two)
BYTES: dict[str, dict[str, float]] = {
    "creators": {"fixed": 7_300, "parquet": 54.6, "delta": 57.6, "csv": 157.3},
    "patrons": {"fixed": 23_000, "parquet": 46.5, "delta": 46.4, "csv": 106.7},
    "tiers": {"fixed": 15_000, "parquet": 16.7, "delta": 18.2, "csv": 151.2},
    "pledges": {"fixed": 0, "parquet": 29.1, "delta": 29.1, "csv": 90.3},
    "transactions": {"fixed": 0, "parquet": 22.6, "delta": 22.9, "csv": 105.3},
    "posts": {"fixed": 22_000, "parquet": 19.7, "delta": 19.3, "csv": 90.6},
    "engagement_events": {"fixed": 0, "parquet": 13.6, "delta": 13.7, "csv": 61.6},
    "anomalies": {"fixed": 6_500, "parquet": 0.0, "delta": 1_700.0, "csv": 500.0},
}
#: what Delta's log and CSV's header add to a table's fixed part
FIXED_EXTRA = {"parquet": 0, "delta": 3_000, "csv": -6_000}

#: seconds of a fresh ``synth-spark generate`` on 2 cores (Spark's start included), measured at
#: 1x, 10x, 100x (and 1000x for Parquet) with seed 42: (rows, seconds) for the Parquet tables, which
#: every run writes, and what Delta and CSV each add on top; between the points, log-log
#: interpolation, beyond the last the last segment's slope, below the first its figure
SECONDS: dict[str, tuple[tuple[float, float], ...]] = {
    "parquet": ((7.5e5, 20.6), (7.39e6, 38.6), (7.38e7, 140.2), (7.48e8, 1107.0)),
    "delta": ((7.5e5, 8.1), (7.39e6, 12.6), (7.38e7, 54.0)),
    "csv": ((7.5e5, 2.2), (7.39e6, 8.1), (7.38e7, 86.6)),
}
#: of those seconds, what does not shrink with more cores: the JVM's start, the plan, the first workers
START_SECONDS = 15.0
#: the cores the model was measured on; more cores divide the rest (Spark's tasks spread)
MEASURED_CORES = 2

#: peak resident memory of every process of a run (the driver's JVM, the Python workers), the
#: largest measured at each scale whatever the formats: (rows, GiB); log-log interpolation
MEMORY_GIB = ((7.9e4, 1.6), (7.5e5, 2.1), (7.39e6, 3.3), (7.38e7, 6.1), (7.48e8, 7.5))
#: Spark's local disk at its peak (the simulation's state, shuffles) per row written: 6.3 GiB at 1000x
LOCAL_DISK_BYTES_PER_ROW = 6.3 * 2**30 / 748e6


def _interpolated(points: tuple[tuple[float, float], ...], rows: float) -> float:
    """``points`` (rows, value) read at ``rows`` on log-log axes; flat below the first point."""
    if rows <= points[0][0]:
        return points[0][1]
    pairs = list(zip(points, points[1:]))
    (r0, v0), (r1, v1) = next(((a, b) for a, b in pairs if rows <= b[0]), pairs[-1])
    slope = math.log(v1 / v0) / math.log(r1 / r0)
    return v0 * (rows / r0) ** slope


@dataclass(frozen=True)
class Estimate:
    rows: dict[str, int]
    bytes: dict[str, dict[str, int]]  # table -> format -> bytes
    seconds: float
    memory_gib: float
    local_disk_bytes: int
    driver_memory: str

    def total_bytes(self, fmt: str | None = None) -> int:
        return sum(b for per in self.bytes.values() for f, b in per.items() if fmt in (None, f))


def table_bytes(table: str, rows: int, fmt: str) -> int:
    b = BYTES[table]
    return max(0, int(round(b["fixed"] + FIXED_EXTRA[fmt] + b[fmt] * rows)))


def seconds(rows: int, formats: list[str], cores: int) -> float:
    """A fresh run's wall seconds: Parquet always (the simulation stages it), Delta and CSV on top."""
    measured = sum(_interpolated(SECONDS[f], rows) for f in {"parquet", *formats})
    return START_SECONDS + (measured - START_SECONDS) * MEASURED_CORES / max(1, cores)


def memory_gib(rows: int) -> float:
    return _interpolated(MEMORY_GIB, rows)


def estimate(rows: dict[str, int], formats: list[str], cores: int) -> Estimate:
    total = sum(rows.values())
    return Estimate(
        rows=rows,
        bytes={t: {f: table_bytes(t, n, f) for f in formats} for t, n in rows.items()},
        seconds=seconds(total, formats, cores),
        memory_gib=memory_gib(total),
        local_disk_bytes=int(total * LOCAL_DISK_BYTES_PER_ROW),
        # Spark's default (1g) served every run up to 10x here; 1000x ran in 3g; beyond, the plan's
        # arrays of millions of creators grow on the driver (8g is the sizing table's extrapolation)
        driver_memory="Spark's default" if total < 20e6 else "3g" if total < 2e9 else "8g",
    )
