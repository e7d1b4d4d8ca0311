"""The robust statistics a signal is judged by: a spread from the median absolute deviation, a
count's spread never below its Poisson noise, and the robust z-score, so that one wild month among
the ordinary ones neither hides a signal nor makes one."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: robust z-score a signal needs to count as detected
Z_DETECTED = 3.0


def robust_spread(values: pd.Series) -> float:
    """The standard deviation a normal sample with this median absolute deviation would have."""
    values = values.dropna().astype(float)
    return float((values - values.median()).abs().median()) * 1.4826


def count_ratio_spread(ordinary: pd.Series, expected: float) -> float:
    """The spread of a count's ratio to its expectation (observed / expected - 1): the robust spread
    of the ordinary months, but never below the Poisson noise of a count with this expectation
    (1 / sqrt(expected)). With a dozen ordinary months their spread can come out far smaller than
    any month's sampling noise allows, and a random month would then look like a signal."""
    return max(robust_spread(ordinary), 1.0 / np.sqrt(max(expected, 1.0)))


def robust_z(value: float, others: pd.Series) -> float:
    others = others.dropna().astype(float)
    med, mad = float(others.median()), robust_spread(others)
    return (value - med) / mad if mad > 0 else float("inf") * np.sign(value - med)
