"""Local rhythm: people act at the times of day and on the days of the week that suit them where
they live, and timestamps are stored in UTC.

A timestamp first drawn without rhythm (uniform in an interval, or a wait after a post) keeps its
rough place in time: its local day moves by at most three days, to a day of the week chosen by the
actor's day weights, and its time of day is drawn from the actor's daily curve (one for weekdays,
one for weekends) in the actor's time zone, daylight saving included. Where that would leave the
interval the timestamp must stay in (a pledge's month, the life of a post), the first draw stands,
so every rule about order and activity still holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from synth_spark.simulation import streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.identity import COUNTRIES, country_index
from synth_spark.simulation.rng import uniform
from synth_spark.vocabulary import DAY

#: time zones of each country, with the share of its people in each (US by population)
COUNTRY_ZONES: dict[str, tuple[tuple[str, float], ...]] = {
    "US": (
        ("America/New_York", 0.47),
        ("America/Chicago", 0.29),
        ("America/Denver", 0.07),
        ("America/Los_Angeles", 0.17),
    ),
    "GB": (("Europe/London", 1.0),),
    "CA": (("America/Toronto", 0.62), ("America/Vancouver", 0.22), ("America/Edmonton", 0.16)),
    "AU": (
        ("Australia/Sydney", 0.58),
        ("Australia/Brisbane", 0.22),
        ("Australia/Perth", 0.11),
        ("Australia/Adelaide", 0.09),
    ),
    "DE": (("Europe/Berlin", 1.0),),
    "FR": (("Europe/Paris", 1.0),),
    "ES": (("Europe/Madrid", 1.0),),
    "IT": (("Europe/Rome", 1.0),),
    "NL": (("Europe/Amsterdam", 1.0),),
    "SE": (("Europe/Stockholm", 1.0),),
    "PL": (("Europe/Warsaw", 1.0),),
    "BR": (("America/Sao_Paulo", 1.0),),
    "MX": (("America/Mexico_City", 1.0),),
    "JP": (("Asia/Tokyo", 1.0),),
    "IN": (("Asia/Kolkata", 1.0),),
}
ZONES = tuple(dict.fromkeys(z for c, _, _, _ in COUNTRIES for z, _ in COUNTRY_ZONES[c]))
#: days a timestamp's local day may move to reach a better day of the week
DAY_REACH = 3
#: 1970-01-01 was a Thursday: day number + this, mod 7, is 0 on Mondays
_THURSDAY = 3


@dataclass(frozen=True)
class Rhythm:
    """An actor's week: weights of the 24 local hours on weekdays and at weekends, and of the
    seven days (Monday first)."""

    weekday_hours: np.ndarray
    weekend_hours: np.ndarray
    days: np.ndarray

    @classmethod
    def of(cls, cfg_rhythm) -> "Rhythm":
        return cls(
            *(
                np.asarray(v, dtype=np.float64)
                for v in (cfg_rhythm.weekday_hours, cfg_rhythm.weekend_hours, cfg_rhythm.days)
            )
        )


def zone_of(u_country: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index in ZONES of each actor, from the uniform that drew its country and one more."""
    country_idx = country_index(u_country)
    out = np.zeros(country_idx.size, dtype=np.int64)
    for k, (code, _, _, _) in enumerate(COUNTRIES):
        rows = np.nonzero(country_idx == k)[0]
        if rows.size == 0:
            continue
        zones = COUNTRY_ZONES[code]
        cum = np.cumsum([w for _, w in zones]) / sum(w for _, w in zones)
        pick = np.minimum(np.searchsorted(cum, u[rows], side="right"), len(zones) - 1)
        out[rows] = np.array([ZONES.index(z) for z, _ in zones])[pick]
    return out


@lru_cache(maxsize=4)
def _offsets(first_day: int, days: int) -> np.ndarray:
    """UTC offset in seconds of each zone on each UTC day, shape (zones, days). Taken at noon: on the
    two days a year the clocks change, a time near the change can land an hour off."""
    out = np.empty((len(ZONES), days), dtype=np.int64)
    noon = [dt.datetime.fromtimestamp((first_day + d) * DAY + DAY // 2, dt.timezone.utc) for d in range(days)]
    for z, name in enumerate(ZONES):
        tz = ZoneInfo(name)
        out[z] = [int(n.astimezone(tz).utcoffset().total_seconds()) for n in noon]
    return out


class Clock:
    """UTC offsets of the zones over a span of days, looked up per timestamp."""

    def __init__(self, first_t: int, last_t: int):
        self.first_day = int(first_t // DAY) - DAY_REACH - 2
        self.days = int(last_t // DAY) + DAY_REACH + 2 - self.first_day
        self.table = _offsets(self.first_day, self.days)

    def offset(self, zone: np.ndarray, t: np.ndarray) -> np.ndarray:
        d = np.clip(t // DAY - self.first_day, 0, self.days - 1)
        return self.table[zone, d]


def _hour_draw(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Seconds into the local day: an hour by its weight, then a place inside it from the rest of u."""
    cum = np.cumsum(weights) / weights.sum()
    hour = np.minimum(np.searchsorted(cum, u, side="right"), 23)
    below = np.where(hour > 0, cum[np.maximum(hour - 1, 0)], 0.0)
    inside = np.clip((u - below) / np.maximum(cum[hour] - below, 1e-12), 0.0, 1.0 - 1e-9)
    return hour * 3600 + (inside * 3600).astype(np.int64)


@lru_cache(maxsize=16)
def _day_choices(days: tuple[float, ...]) -> np.ndarray:
    """Running sums of the day weights over the 2 * DAY_REACH + 1 candidate days, one row per day of
    the week of the first draw (the candidates' weights depend on nothing else)."""
    w = np.asarray(days, dtype=np.float64)
    offsets = np.arange(-DAY_REACH, DAY_REACH + 1)
    return np.stack([np.cumsum(w[(weekday + offsets) % 7]) for weekday in range(7)])


def in_rhythm(
    t0: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    zone: np.ndarray,
    rhythm: Rhythm,
    clock: Clock,
    u_day: np.ndarray,
    u_time: np.ndarray,
) -> np.ndarray:
    """``t0`` moved to the actor's rhythm, kept in [lo, hi) (else left as it was)."""
    t0 = np.asarray(t0, dtype=np.int64)
    local_day = (t0 + clock.offset(zone, t0)) // DAY
    cum = _day_choices(tuple(rhythm.days))[(local_day + _THURSDAY) % 7]
    pick = (cum < (u_day * cum[:, -1])[:, None]).sum(axis=1)
    day = local_day + np.minimum(pick, 2 * DAY_REACH) - DAY_REACH
    seconds = _time_of_day(day, rhythm, np.broadcast_to(u_time, t0.shape))
    t = _utc(day * DAY + seconds, zone, clock)
    # near the interval's edges: the drawn time of day on the first draw's own day, else the first draw
    lo, hi = np.broadcast_to(lo, t0.shape), np.broadcast_to(hi, t0.shape)
    out = (t < lo) | (t >= hi)
    if out.any():
        zone = np.broadcast_to(zone, t0.shape)
        t[out] = _utc(local_day[out] * DAY + seconds[out], zone[out], clock)
        t = np.where((t >= lo) & (t < hi), t, t0)
    return t


def on_local_day(
    t0: np.ndarray, zone: np.ndarray, rhythm: Rhythm, clock: Clock, u_time: np.ndarray
) -> np.ndarray:
    """The actor's local day of ``t0``, at a time of day drawn from the rhythm's hours (the day is
    kept: for things that happen on a schedule, at the hour that suits the actor)."""
    t0 = np.asarray(t0, dtype=np.int64)
    local_day = (t0 + clock.offset(zone, t0)) // DAY
    return _utc(local_day * DAY + _time_of_day(local_day, rhythm, np.asarray(u_time)), zone, clock)


def _time_of_day(day: np.ndarray, rhythm: Rhythm, u_time: np.ndarray) -> np.ndarray:
    """Seconds into each local day from the rhythm's weekday or weekend hours."""
    weekend = (day + _THURSDAY) % 7 >= 5
    seconds = np.empty(day.shape, dtype=np.int64)
    seconds[weekend] = _hour_draw(rhythm.weekend_hours, u_time[weekend])
    seconds[~weekend] = _hour_draw(rhythm.weekday_hours, u_time[~weekend])
    return seconds


def _utc(local: np.ndarray, zone: np.ndarray, clock: Clock) -> np.ndarray:
    return local - clock.offset(zone, local)


def clock_for(cal: Calendar) -> Clock:
    """The offsets from the earliest month a pledge or creator may start to the window's end."""
    return Clock(int(cal.month_start(-Calendar.HISTORY)), int(cal.end))


def patron_zone(seed: int, patron_id: np.ndarray) -> np.ndarray:
    return zone_of(
        uniform(seed, streams.PATRON_COUNTRY, patron_id), uniform(seed, streams.RHYTHM_PATRON_ZONE, patron_id)
    )


def creator_zone(seed: int, creator_id: np.ndarray) -> np.ndarray:
    return zone_of(
        uniform(seed, streams.CREATOR_COUNTRY, creator_id),
        uniform(seed, streams.RHYTHM_CREATOR_ZONE, creator_id),
    )


def utc_hours(weights, u: np.ndarray) -> np.ndarray:
    """Seconds into a UTC day drawn from 24 hourly weights (a processor's working day)."""
    return _hour_draw(np.asarray(weights, dtype=np.float64), u)
