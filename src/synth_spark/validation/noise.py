"""Which failed checks a dataset is too small to judge: when a check fails, validate measures every
check again on four quarters of the creators (by creator id) and takes the spread of those four
measurements as the sampling noise of the whole. A failed check whose noise (two standard errors) is
as wide as half its tolerance band is reported as too noisy at this scale, with the spread, instead
of failing. Four measurements can happen to sit close together, so a check made of counted events
is never given less noise than their counting gives it (its ``counting_se``). A month's new patrons
at 1x are a few hundred, so the January surge (+10% ± 5 pp) is such a check there; at 10x the same
noise is a third as wide and the check is judged."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from pyspark.sql import functions as F

from synth_spark.validation.metrics import Dataset
from synth_spark.validation.verdicts import FAIL, NOISY, Check

#: quarters of the creators measured apart
GROUPS = 4


def quarter(ds: Dataset, group: int) -> Dataset:
    """The dataset restricted to the creators with ``creator_id % GROUPS == group``: their rows in
    every table, and the patrons who pledged to them."""
    return ds.of_creators(F.col("creator_id") % GROUPS == group)


def measure_quarters(ds: Dataset, measure: Callable[[Dataset], list[Check]]) -> list[list[Check]]:
    """``measure`` of each quarter, the four at once: each is dozens of small Spark jobs whose time is
    the scheduler's latency, not the cores' work, so they overlap well (0.05x: 21 s one after the other)."""
    with ThreadPoolExecutor(GROUPS) as pool:
        return list(pool.map(lambda g: measure(quarter(ds, g)), range(GROUPS)))


def judge(checks: list[Check], quarters: list[list[Check]]) -> list[Check]:
    """``checks`` with each failed, banded check that its quarters show to be noise marked NOISY."""
    by_name = [{c.name: c.value for c in q} for q in quarters]
    out = []
    for c in checks:
        band = getattr(c.verdict, "band", None)
        values = [q.get(c.name) for q in by_name]
        if c.verdict == FAIL and band and all(v is not None and not math.isnan(v) for v in values):
            se = max(
                statistics.stdev(values) / math.sqrt(GROUPS), getattr(c.verdict, "counting_se", None) or 0.0
            )
            noise = 2 * se  # two standard errors of the whole
            if noise >= (band[1] - band[0]) / 2:
                shown = f"{100 * noise:.1f} pp" if abs(band[1]) <= 1.5 else f"{noise:.2f}"
                c = replace(
                    c, verdict=NOISY, tolerance=f"{c.tolerance}; measured ±{shown} (2 s.e.) at this scale"
                )
        out.append(c)
    return out
