"""KPI series from the cube, and where they leave their own normal: robust residuals in units of
their spread. Daily counts: the residual of a robust seasonal-trend decomposition (statsmodels'
STL, a week's period). Daily rates: the day's numerator against its denominator times the rate of
the 28 days before, in binomial spreads. Months: each month against the median of the six before
(flows as they are, stocks by their change), in spreads of those months' own scatter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


#: a KPI as the cube sums it: its numerator column, its denominator (a rate) and whether it is a
#: stock (a level at the period's end, judged by its change) rather than a flow
@dataclass(frozen=True)
class Kpi:
    name: str
    numerator: str
    denominator: str | None = None
    stock: bool = False
    #: the cycle a daily count follows: the week (engagement), or the month (charges fall on the
    #: first days of each month, so a day is judged against the same day of the months before)
    cycle: str = "week"


DAILY = (
    Kpi("revenue", "revenue", cycle="month"),
    Kpi("decline_rate", "first_attempt_declines", "first_attempts"),
    Kpi("card_expired_declines", "declines_card_expired", "first_attempts"),
    Kpi("retry_recovery_rate", "retry_successes", "retries"),
)
MONTHLY = (
    Kpi("mrr", "mrr", stock=True),
    Kpi("new_pledges", "new_pledges"),
    Kpi("voluntary_churn", "churn_voluntary"),
    Kpi("payment_failed_churn", "churn_payment_failed"),
    Kpi("posts", "posts"),
    Kpi("engagement_events", "engagement_events"),
)
#: days of history a daily rate is judged against, and months a month is
RATE_DAYS, BASE_MONTHS = 28, 6
#: a stock's monthly change is never judged tighter than this share of its level (MRR moves by a
#: percent or two in an ordinary month: seasons, the card-expiry wave)
STOCK_FLOOR = 0.02
#: nor tighter than the noise of a count of pledges of about this much each (a small segment's MRR)
PLEDGE = 20.0
#: a spread of 1.4826 MADs is a standard deviation for normal noise
MAD_SD = 1.4826


def mad(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(MAD_SD * np.median(np.abs(x - np.median(x)))) if x.size else 0.0


def daily_z(num: pd.Series, den: pd.Series | None, cycle: str = "week", unit: float = 1.0) -> np.ndarray:
    """Each day's robust residual in spreads (NaN where there is too little history); ``num``'s
    index: the days, as dates; ``unit``: what one event adds to a sum of money (a mean charge), whose
    noise is then that of a count of charges."""
    y = num.to_numpy(dtype=float)
    if den is None and cycle == "month":
        days = pd.DatetimeIndex(num.index)
        frame = pd.DataFrame({"y": y, "dom": days.day, "month": days.year * 12 + days.month})
        table = frame.pivot_table(index="dom", columns="month", values="y", aggfunc="sum")
        past = table.T.shift(1).rolling(3, min_periods=2).median().T  # the same day of the 3 months before
        expected = past.stack().reindex(pd.MultiIndex.from_arrays([frame["dom"], frame["month"]])).to_numpy()
        resid = y - expected
        # the noise of a count of charges of ``unit`` each, or the residuals' own when larger
        return resid / np.maximum(np.sqrt(np.maximum(expected, unit) * unit), 1e-9)
    if den is None:
        from statsmodels.tsa.seasonal import STL

        if y.size < 28 or not np.any(y):
            return np.full(y.size, np.nan)
        fit = STL(y, period=7, robust=True).fit()
        spread = max(mad(fit.resid), 1e-9)
        # counts: never tighter than their Poisson noise around the trend
        floor = np.sqrt(np.maximum(fit.trend + fit.seasonal, 1.0))
        return fit.resid / np.maximum(spread, floor)
    d = den.to_numpy(dtype=float)
    past_num = pd.Series(y).shift(1).rolling(RATE_DAYS, min_periods=RATE_DAYS // 2).sum().to_numpy()
    past_den = pd.Series(d).shift(1).rolling(RATE_DAYS, min_periods=RATE_DAYS // 2).sum().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = past_num / past_den
        expected = d * rate
        z = (y - expected) / np.sqrt(expected * (1 - rate) + 1.0)
    return np.where(d > 0, z, np.nan)


def monthly_z(values: np.ndarray, stock: bool) -> np.ndarray:
    """Each month against the median of the months before, in spreads of their scatter."""
    y = np.diff(values, prepend=np.nan) if stock else values.astype(float)
    z = np.full(y.size, np.nan)
    for m in range(3, y.size):
        past = y[max(0, m - BASE_MONTHS) : m]
        past = past[np.isfinite(past)]
        if past.size < 3:
            continue
        centre = np.median(past)
        # a count is never tighter than its Poisson noise; a stock's change than a percent of its level
        level = abs(values[m - 1])
        floor = max(STOCK_FLOOR * level, np.sqrt(level * PLEDGE)) if stock else np.sqrt(max(abs(centre), 1.0))
        spread = max(mad(past), floor, 1e-9)
        z[m] = (y[m] - centre) / spread
    return z


def windows(z: np.ndarray, threshold: float, gap: int = 2) -> list[tuple[int, int, float]]:
    """Runs of periods beyond ``threshold`` in one direction (gaps of ``gap`` periods bridged): their
    first and last index and their most extreme z."""
    out: list[list] = []
    for i in np.flatnonzero(np.abs(np.nan_to_num(z)) >= threshold):
        sign = np.sign(z[i])
        if out and i - out[-1][1] <= gap + 1 and np.sign(out[-1][2]) == sign:
            out[-1][1] = i
            if abs(z[i]) > abs(out[-1][2]):
                out[-1][2] = z[i]
        else:
            out.append([int(i), int(i), float(z[i])])
    return [(a, b, float(v)) for a, b, v in out]
