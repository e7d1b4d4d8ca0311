"""Money in the creator's currency: tier prices at the points local pricing uses, recorded in US
dollars at a reference rate (the list price) and charged at the day's rate.

Rates are exact integers (millionths) so that a charge's US-dollar amount, rounded half up to the
cent, is the same number anywhere it is recomputed: in the simulation, and in the checks that read
the rates back from a dataset's config.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.rng import normal
from synth_spark.vocabulary import CURRENCIES, DAY

#: rates are kept in millionths
PPM = 1_000_000
#: retries of the window's last billings run past its end: the rates run on this many days more
DAYS_AFTER = 40


def half_up(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """``numerator / denominator`` rounded half up, for non-negative integers."""
    return (np.asarray(numerator, dtype=np.int64) + denominator // 2) // denominator


def reference_ppm(cfg: Config) -> np.ndarray:
    """US dollars per unit of each currency (CURRENCIES order) at its reference rate, in millionths;
    a currency without one is priced in US dollars (rate 1)."""
    return np.array([round(cfg.fx.usd_per_unit.get(c, 1.0) * PPM) for c in CURRENCIES], dtype=np.int64)


def list_price_cents(cfg: Config, currency: np.ndarray, local_cents: np.ndarray) -> np.ndarray:
    """A price in hundredths of its currency's unit, in US cents at the reference rate (half up)."""
    return half_up(np.asarray(local_cents, dtype=np.int64) * reference_ppm(cfg)[currency], PPM)


@dataclass(frozen=True)
class Rates:
    """Each currency's rate on each day from the window's start, against its reference rate, in
    millionths (1_000_000: the reference). The US dollar's is 1 on every day."""

    first_day: int  # days since the epoch of row 0
    ppm: np.ndarray  # [currency, day]

    @classmethod
    def of(cls, cfg: Config, cal: Calendar) -> "Rates":
        fx = cfg.fx
        return _rates(cfg.seed, fx.daily_sd, fx.reversion_days, fx.max_deviation, cal.start, cal.end)

    @classmethod
    def of_window(cls, cfg: Config) -> "Rates":
        """The rates of ``cfg``'s window (what a check recomputes from a dataset's config)."""
        return cls.of(cfg, Calendar(cfg.window))

    def on(self, currency: np.ndarray, t: np.ndarray) -> np.ndarray:
        day = np.clip(np.asarray(t) // DAY - self.first_day, 0, self.ppm.shape[1] - 1)
        return self.ppm[currency, day]

    def convert(self, list_cents: np.ndarray, currency: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A list price (US cents at the reference rate) charged at time ``t``: in US cents at the
        day's rate, rounded half up."""
        return half_up(np.asarray(list_cents, dtype=np.int64) * self.on(currency, t), PPM)


@lru_cache(maxsize=8)
def _rates(
    seed: int, daily_sd: float, reversion_days: float, max_deviation: float, start: int, end: int
) -> Rates:
    first_day = start // DAY
    days = end // DAY - first_day + DAYS_AFTER
    keys = np.arange(len(CURRENCIES), dtype=np.int64)
    keep = 1.0 - 1.0 / reversion_days
    # the walk starts from its long-run spread, so the window's first day is no special day
    x = daily_sd / np.sqrt(1.0 - keep**2) * normal(seed, streams.FX_START, keys)
    log_rate = np.empty((len(CURRENCIES), days))
    # held within max_deviation of the reference, so converted prices keep their tiers' bands
    bound = np.log1p(max_deviation)
    for d in range(days):
        x = np.clip(keep * x + daily_sd * normal(seed, streams.FX_DAY, keys, d), -bound, bound)
        log_rate[:, d] = x
    ppm = np.rint(np.exp(log_rate) * PPM).astype(np.int64)
    ppm[CURRENCIES.index("USD")] = PPM
    ppm.setflags(write=False)
    return Rates(first_day, ppm)


def currency_index(codes: np.ndarray) -> np.ndarray:
    """Position in CURRENCIES of each ISO code."""
    lookup = {c: i for i, c in enumerate(CURRENCIES)}
    return np.array([lookup[c] for c in np.asarray(codes, dtype=object).tolist()], dtype=np.int64)
