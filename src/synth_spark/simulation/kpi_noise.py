"""Each scenario type's KPI as the plan expects it, in a segment and window, at this scale: what a
size of 1 moves it by, and its natural noise (Poisson, plus the drift the model gives a creator's
arrivals and posting, or the measured dispersion of a day's rows). Placement sizes instances by it
(simulation/placement.py); the ground truth asks it how many events a day a window holds."""

from __future__ import annotations

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import identity
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.growth import arrival_rates, audience_path, voluntary_churn
from synth_spark.simulation.scenarios import creator_dimensions
from synth_spark.vocabulary import DAY, PAYMENT_METHODS

#: lognormal sd of a creator's month-to-month posting drift (posts.monthly_post_counts)
POSTING_DRIFT = 0.35
#: a day's rows of engagement events and of payments (retries included) per running pledge, and the
#: dispersion of a day's count (variance over mean): events come in bursts after posts, payments on
#: billing days. Measured on the 1x seed-42 dataset, July 2023 to December 2024 (the robust spread
#: of each day's count around the median of the fifteen days about it): 705 events and 316 payment
#: rows a day over 7,522 running pledges, spreads of 110 and 24
EVENTS_PER_PLEDGE_DAY, EVENTS_DISPERSION = 0.094, 17.0
PAYMENT_ROWS_PER_PLEDGE_DAY, PAYMENTS_DISPERSION = 0.042, 1.8


class Planner:
    """The plan's expected counts, and the draws of one placement."""

    def __init__(self, cfg: Config, cal: Calendar, creators: dict[str, np.ndarray], churn_norm: float):
        self.cfg, self.cal, self.cre = cfg, cal, creators
        self.arrivals = arrival_rates(cfg, cal, creators, churn_norm)
        self.active = audience_path(creators, cal)
        self.voluntary = self.active * voluntary_churn(cfg, creators, churn_norm)[:, None]
        self.posts = np.broadcast_to(creators["posts_rate"][:, None], self.active.shape)
        self.columns = creator_dimensions(creators)
        pc = cfg.payments
        self.p_decline = pc.first_attempt_failure
        recovered, left = 0.0, 1.0
        for s in pc.retry_success:
            recovered, left = recovered + left * s, left * (1 - s)
        self.p_recovered = recovered
        self.method_share = {m: pc.methods[m] for m in PAYMENT_METHODS}
        codes, cum = identity.country_codes(), identity.country_cumulative()
        self.country_share = dict(zip(codes, np.diff(np.concatenate([[0.0], cum]))))

    # -- each type's KPI in a segment and window: what a size of 1 moves it by, and its noise (sd)
    def creator_kpi(self, kind: str, mask: np.ndarray, months: list[int]) -> tuple[float, float]:
        cols = np.asarray(months)
        if kind in ("competitor_launch", "promotion", "policy_change"):  # new pledges
            lam = self.arrivals[mask][:, cols]
            vol = self.cre["volatility"][mask][:, None]
            mean, var = lam.sum(), (lam + lam**2 * np.expm1(vol**2)).sum()
        elif kind == "churn_wave":  # voluntary cancellations
            mean = var = self.voluntary[mask][:, cols].sum()
        else:  # posts
            lam = self.posts[mask][:, cols]
            mean, var = lam.sum(), (lam + lam**2 * np.expm1(POSTING_DRIFT**2)).sum()
        return float(mean), float(np.sqrt(var))

    def payer_kpi(self, kind: str, methods, countries, start: int, end: int) -> tuple[float, float]:
        share = sum(self.method_share[m] for m in (methods or PAYMENT_METHODS))
        share *= sum(self.country_share[c] for c in countries) if countries else 1.0
        days = np.arange(start, end, DAY)
        m = self.cal.month_index(days)
        attempts = share * float((self.active.sum(axis=0)[m] / self.cal.days_in_month(m)).sum())
        if kind == "retry_degradation":  # retries that recover a decline
            recovered = attempts * self.p_decline * self.p_recovered
            return recovered, float(np.sqrt(recovered))
        # declined first attempts: a size of 1 declines every one that would have gone through
        return (1 - self.p_decline) * attempts, float(np.sqrt(self.p_decline * attempts))

    def data_kpi(self, kind: str, methods, start: int, end: int) -> tuple[float, float, float]:
        """A data incident's KPI (the day's engagement events, payment rows, or revenue in mean
        payments): what a size of 1 moves it by, its noise (sd), and the rows a size of 1 touches."""
        days = np.arange(start, end, DAY)
        pledge_days = float(self.active.sum(axis=0)[self.cal.month_index(days)].sum())
        if kind == "events_lost":
            rows = EVENTS_PER_PLEDGE_DAY * pledge_days
            return rows, float(np.sqrt(EVENTS_DISPERSION * rows)), rows
        share = sum(self.method_share[m] for m in (methods or PAYMENT_METHODS))
        rows = share * PAYMENT_ROWS_PER_PLEDGE_DAY * pledge_days
        sd = float(np.sqrt(PAYMENTS_DISPERSION * rows))
        # a row written in cents adds 99 times its amount to the day's revenue
        return (99 * rows if kind == "amounts_in_cents" else rows), sd, rows

    def size_for(self, spreads: float, per_size: float, sd: float) -> float:
        return spreads * sd / per_size if per_size > 0 else np.inf

    def events_per_day(self, start: int, end: int) -> float:
        """The engagement events a day of [start, end) holds, as the plan expects."""
        days = np.arange(start, end, DAY)
        active = self.active.sum(axis=0)[self.cal.month_index(days)]
        return float(EVENTS_PER_PLEDGE_DAY * active.mean()) if days.size else 0.0
