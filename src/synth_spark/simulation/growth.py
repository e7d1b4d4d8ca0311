"""Audience growth: how many new pledges each creator expects each month, and the pledges it
already has when the window opens.

Acquisition is open-loop (new patrons arrive whatever the creator's churn did), so churn spikes
show up in MRR instead of being silently refilled.
"""

from __future__ import annotations

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation.billing import expected_payment_churn
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.churn import creator_churn_multiplier, growing_base_churn

#: months a creator who joins during the window takes to reach its audience
RAMP_MONTHS = 6


def seasonal_arrivals(cfg: Config, cal: Calendar) -> np.ndarray:
    """Multiplier of new pledges per window month: the platform's Q4 giving and January surge."""
    moy = cal.month_of_year(np.arange(cal.months))
    s = cfg.seasonality
    return np.where(moy >= 10, 1 + s.q4_new_pledges, np.where(moy == 1, 1 + s.january_new_patrons, 1.0))


def audience_path(creators: dict[str, np.ndarray], cal: Calendar) -> np.ndarray:
    """Expected active pledges of each creator at the start of each window month, shape (creators, months)."""
    m = np.arange(cal.months)[None, :]
    a = creators["audience"][:, None]
    g = creators["growth"][:, None]
    joined = creators["joined_month"][:, None]
    established = a * np.power(1.0 + g, m)
    ramping = (
        a
        * np.clip((m - joined + 1) / RAMP_MONTHS, 0.0, 1.0)
        * np.power(1.0 + np.maximum(g, 0), np.maximum(m - joined - RAMP_MONTHS, 0))
    )
    return np.where(joined < 0, established, np.where(m >= joined, ramping, 0.0))


def arrival_rates(
    cfg: Config, cal: Calendar, creators: dict[str, np.ndarray], churn_norm: float = 1.0
) -> np.ndarray:
    """Expected new pledges per creator and window month, shape (creators, months), so that each
    creator's audience follows its growth path given the churn it will actually see."""
    path = audience_path(creators, cal)
    nxt = np.concatenate([path[:, 1:], path[:, -1:] * (1 + creators["growth"][:, None])], axis=1)
    # Replace what a base of this growth loses (a growing base is younger, so it churns more)
    # plus the growth itself; a creator ramping up after joining has an all-new base.
    churn = (expected_payment_churn(cfg) + voluntary_churn(cfg, creators, churn_norm))[:, None]
    lam = path * churn + np.maximum(nxt - path, 0.0)
    # Nobody pledges to a creator before the creator's page exists.
    before_joining = np.arange(cal.months)[None, :] < creators["joined_month"][:, None]
    return np.where(before_joining, 0.0, lam) * seasonal_arrivals(cfg, cal)[None, :]


def voluntary_churn(cfg: Config, creators: dict[str, np.ndarray], churn_norm: float = 1.0) -> np.ndarray:
    """Each creator's expected monthly voluntary churn: what a base growing as its audience does
    loses beyond non-payment, times the creator's own multiplier."""
    growth = np.where(creators["joined_month"] < 0, creators["growth"], 1.0 / RAMP_MONTHS)
    pay = expected_payment_churn(cfg)
    return np.maximum(growing_base_churn(cfg, growth) - pay, 0.0) * creator_churn_multiplier(
        cfg, creators, churn_norm
    )


def expected_pledge_months(cal: Calendar, creators: dict[str, np.ndarray]) -> np.ndarray:
    """Each creator's expected active pledge-months over the window."""
    return audience_path(creators, cal).sum(axis=1)


def expected_pledges(
    cfg: Config, cal: Calendar, creators: dict[str, np.ndarray], churn_norm: float = 1.0
) -> float:
    """Expected pledge rows over all creators: the stock at the window's start plus arrivals."""
    stock = np.where(creators["joined_month"] < 0, creators["audience"], 0.0).sum()
    return float(stock + arrival_rates(cfg, cal, creators, churn_norm).sum())


def patron_pool(target_patrons: int, expected: float) -> int:
    """Size of the id space patrons are drawn from so that about ``target_patrons`` distinct ids
    end up with a pledge: solves ``N * (1 - exp(-P / N)) = target`` for N."""
    if expected <= target_patrons:
        return max(target_patrons, int(np.ceil(expected)))
    lo, hi = float(target_patrons), float(target_patrons) * 50
    for _ in range(100):
        mid = (lo + hi) / 2
        if mid * (1 - np.exp(-expected / mid)) < target_patrons:
            lo = mid
        else:
            hi = mid
    return int(np.ceil(hi))
