"""A drill-down: a metric's change decomposed by one dimension, its largest contributors ranked."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


@dataclass
class Contributor:
    value: str
    contribution: float
    share: float  # of the summed contributions in the signal's direction


@dataclass
class Drilldown:
    dimension: str
    measure: str
    top: list[Contributor]


def rank(contributions: pd.Series, direction: int, n: int = 3) -> list[Contributor]:
    """The largest contributors in the signal's direction (+1 up, -1 down)."""
    c = contributions.astype(float) * direction
    positive = c[c > 0].sum()
    top = c.sort_values(ascending=False).head(n)
    return [
        Contributor(str(k), float(v * direction), float(v / positive) if positive > 0 else float("nan"))
        for k, v in top.items()
    ]


def rank_in_spark(frame: DataFrame, key: str, value: str, direction: int, n: int = 3) -> list[Contributor]:
    """``rank`` of a contribution per row of a Spark frame (one row per creator, say), with only the
    top ``n`` rows and one sum brought to the driver. A null contribution ranks last and adds nothing;
    ties go to the smaller key."""
    c = F.col(value).cast("double") * direction
    positive = frame.agg(F.sum(F.when(c > 0, c))).first()[0] or 0.0
    rows = (
        frame.select(key, c.alias("c")).orderBy(F.col("c").desc_nulls_last(), F.col(key)).limit(n).collect()
    )
    return [
        Contributor(
            str(r[key]),
            float("nan") if r["c"] is None else float(r["c"] * direction),
            float(r["c"] / positive) if positive > 0 and r["c"] is not None else float("nan"),
        )
        for r in rows
    ]
