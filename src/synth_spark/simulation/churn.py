"""Churn: the platform's tenure curve, and the multipliers that make some pledges churn more than
others (creator size, how often the creator posts, whether the patron engaged last month).

The multipliers are normalised so that they move churn *between* pledges without moving the
platform's average away from the tenure curve in the config: the engagement effect per pledge
(its expected multiplier is 1 given its own engagement odds), the size and posting effects over
the whole creator population (computed once on the driver from the plan, then broadcast).
"""

from __future__ import annotations

from math import factorial

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import streams
from synth_spark.simulation.rng import uniform

#: ages (whole calendar months since the pledge started) the curves are tabulated over
MAX_AGE = 240
_GROWTH_GRID = np.linspace(-0.15, 0.25, 161)


def tenure_hazard(cfg: Config, ages: np.ndarray) -> np.ndarray:
    """Total monthly churn by age in whole calendar months since the pledge started (0 = 1st month)."""
    t = cfg.churn.by_tenure
    ages = np.asarray(ages)
    return np.select(
        [ages <= 0, ages <= 2, ages <= 11], [t.month_1, t.months_2_3, t.months_4_12], t.months_13_plus
    )


def survival(cfg: Config) -> np.ndarray:
    """Share of pledges still running at the start of each age 0..MAX_AGE."""
    ages = np.arange(MAX_AGE + 1)
    return np.concatenate([[1.0], np.cumprod(1 - tenure_hazard(cfg, ages))[:-1]])


def growing_base_churn(cfg: Config, growth: np.ndarray) -> np.ndarray:
    """Monthly churn of an audience growing at ``growth`` per month in steady state: a growing base
    is younger, and young pledges churn more (so it is above the no-growth 1/sum(survival))."""
    s = survival(cfg)
    discount = np.power(1.0 + _GROWTH_GRID[:, None], -np.arange(MAX_AGE + 1)[None, :])
    table = 1.0 / (s[None, :] * discount).sum(axis=1)
    return np.interp(np.clip(growth, _GROWTH_GRID[0], _GROWTH_GRID[-1]), _GROWTH_GRID, table)


def stock_age_cdf(cfg: Config, growth: np.ndarray, bins: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative age distribution (ages 0..MAX_AGE, age 0 excluded) of the pledges a creator growing
    at ``growth`` has when the window opens; tabulated on ``bins`` growth values.
    Returns (bin of each creator, table of shape (bins, MAX_AGE + 1))."""
    grid = np.linspace(_GROWTH_GRID[0], _GROWTH_GRID[-1], bins)
    w = survival(cfg)[None, :] * np.power(1.0 + grid[:, None], -np.arange(MAX_AGE + 1)[None, :])
    w[:, 0] = 0.0  # age 0 would be a pledge starting in the window's first month: an arrival
    idx = np.clip(np.searchsorted(grid, growth), 0, bins - 1)
    return idx, np.cumsum(w, axis=1)


def posting_level(post_counts: np.ndarray) -> np.ndarray:
    """0: under one post in the month, 1: one to three, 2: four or more."""
    return np.select([post_counts == 0, post_counts >= 4], [0, 2], 1)


def _posting_multipliers(cfg: Config) -> np.ndarray:
    pm = cfg.churn.posting_multiplier
    return np.array([pm["none"], pm["some"], pm["frequent"]])


def posting_multiplier(cfg: Config, post_counts: np.ndarray) -> np.ndarray:
    return _posting_multipliers(cfg)[posting_level(post_counts)]


def _poisson_levels(rate: np.ndarray) -> np.ndarray:
    """P(0), P(1-3), P(4+) posts for a Poisson rate; shape (n, 3)."""
    p = [np.exp(-rate) * rate**k / factorial(k) for k in range(4)]
    return np.stack([p[0], p[1] + p[2] + p[3], np.clip(1 - sum(p), 0, 1)], axis=1)


def creator_churn_multiplier(cfg: Config, creators: dict[str, np.ndarray], churn_norm: float) -> np.ndarray:
    """Each creator's expected voluntary-churn multiplier (size and posting habit, normalised)."""
    expected_post = _poisson_levels(creators["posts_rate"]) @ _posting_multipliers(cfg)
    return creators["churn_multiplier"] * expected_post / churn_norm


def population_normaliser(cfg: Config, creators: dict[str, np.ndarray], weight: np.ndarray) -> float:
    """Mean of (size multiplier x posting multiplier) over the pledges the plan expects, so the
    voluntary hazard can be divided by it. ``weight`` is each creator's expected pledge-months."""
    mult = creator_churn_multiplier(cfg, creators, 1.0)
    total = weight.sum()
    return float((mult * weight).sum() / total) if total > 0 else 1.0


def mean_engagement_odds(cfg: Config) -> float:
    """The platform's typical monthly engagement odds, from the config alone (tier mix of a
    four-tier creator times each tier's odds)."""
    shares = cfg.tiers.patron_share_by_tier_count[4]
    return float(sum(s * cfg.engagement.by_tier[r] for r, s in zip((1, 2, 3, 4), shares)))


def engagement_multipliers(cfg: Config) -> tuple[float, float]:
    """Churn multipliers after a month with and without engagement: their ratio is the config's,
    and over the platform's typical engagement odds their mean is 1. One pair for every pledge, so
    disengaged pledges churn more than engaged ones across the platform, not only within a pledge."""
    ratio = cfg.churn.not_engaged_churn_ratio
    p = mean_engagement_odds(cfg)
    engaged = 1.0 / (p + (1.0 - p) * ratio)
    return engaged, engaged * ratio


def quits_in_time(
    seed: int,
    m: int,
    pid: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    turn: np.ndarray,
    month_len: int,
    hazard_before: np.ndarray,
    hazard_from: np.ndarray,
    free: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which of month ``m``'s pledges quit (rows of ``pid``), and when, before the patron's own rhythm
    places it. The tenure curve is a hazard in time: each day of ``[lo, hi)`` carries the risk of the
    month of tenure it falls in, ``hazard_before`` until the pledge's monthly anniversary ``turn``
    and ``hazard_from`` after it, each a month's risk. Counted in calendar months instead, a pledge
    started late in a month had its whole first month's risk squeezed into the days left, and
    cancellations piled up at every month's end. ``free``: pledges that may quit this month."""
    risk_before = hazard_before * (turn - lo) / month_len
    risk_from = hazard_from * (hi - turn) / month_len
    churned = free & (uniform(seed, streams.CHURN_EVENT, pid, m) < risk_before + risk_from)
    rows = np.nonzero(churned)[0]
    # where in the month: by the risk of each part, evenly within it
    x = uniform(seed, streams.CHURN_TIME, pid[rows], m) * (risk_before[rows] + risk_from[rows])
    before = x < risk_before[rows]
    part_lo = np.where(before, lo[rows], turn[rows])
    part_hi = np.where(before, turn[rows], hi[rows])
    share = np.where(
        before,
        x / np.maximum(risk_before[rows], 1e-300),
        (x - risk_before[rows]) / np.maximum(risk_from[rows], 1e-300),
    )
    t_quit = part_lo + (np.clip(share, 0.0, 1.0) * np.maximum(part_hi - part_lo - 1, 0)).astype(np.int64)
    return rows, t_quit
