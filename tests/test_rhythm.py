"""Local rhythm: actions happen at the local hours and on the days of the week that suit the actor,
in the actor's time zone, and stay inside the interval the rules allow them."""

from __future__ import annotations

import numpy as np
import pytest

from synth_spark.simulation import rhythm
from synth_spark.vocabulary import DAY

from .simulated_world import world


@pytest.fixture(scope="module")
def w():
    return world(1, 42)


def _local(t: np.ndarray, zone: np.ndarray, clock: rhythm.Clock) -> tuple[np.ndarray, np.ndarray]:
    local = t + clock.offset(zone, t)
    return (local % DAY) // 3600, (local // DAY + 3) % 7  # hour, weekday (0 = Monday)


def test_the_clock_follows_daylight_saving():
    clock = rhythm.Clock(1672531200, 1735689600)
    ny, tokyo = rhythm.ZONES.index("America/New_York"), rhythm.ZONES.index("Asia/Tokyo")
    jan, jul = np.array([1673784000]), np.array([1689422400])  # mid-January, mid-July 2023
    assert (
        clock.offset(np.array([ny]), jan)[0] == -5 * 3600
        and clock.offset(np.array([ny]), jul)[0] == -4 * 3600
    )
    assert clock.offset(np.array([tokyo]), jan)[0] == clock.offset(np.array([tokyo]), jul)[0] == 9 * 3600


def test_a_moved_time_stays_inside_its_interval():
    rng = np.random.default_rng(5)
    n = 100_000
    lo = 1672531200 + (rng.random(n) * 700 * DAY).astype(np.int64)
    hi = lo + 1 + (rng.random(n) ** 3 * 20 * DAY).astype(np.int64)
    t0 = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    zone = (rng.random(n) * len(rhythm.ZONES)).astype(np.int64)
    afternoons = np.r_[np.zeros(12), np.ones(12)]
    week = rhythm.Rhythm(afternoons, afternoons, np.ones(7))
    t = rhythm.in_rhythm(
        t0, lo, hi, zone, week, rhythm.Clock(int(lo.min()), int(hi.max())), rng.random(n), rng.random(n)
    )
    assert np.all((t >= lo) & (t < hi))
    moved = t != t0
    assert moved.mean() > 0.5
    hour, _ = _local(t[moved], zone[moved], rhythm.Clock(int(lo.min()), int(hi.max())))
    # only afternoon hours have weight; a zone's offset is taken at noon UTC of each day, so on the two
    # days a year that daylight saving changes a time can land an hour off
    assert (hour < 12).mean() < 0.001


def test_patrons_engage_in_their_evenings_and_more_at_weekends(w):
    e, clock = w.events, rhythm.clock_for(w.cal)
    hour, weekday = _local(e["event_t"], rhythm.patron_zone(w.cfg.seed, e["patron_id"]), clock)
    by_hour = np.bincount(hour, minlength=24)
    assert by_hour[19:22].mean() > 4 * by_hour[2:6].mean()
    assert by_hour[12] > by_hour[10]  # a lunch peak
    per_day = np.bincount(weekday, minlength=7)
    assert per_day[5:].mean() > 1.03 * per_day[:5].mean()
    utc = np.bincount((e["event_t"] % DAY) // 3600, minlength=24)
    assert utc.max() > 1.5 * utc.min()  # no longer flat over the UTC day


def test_pledges_start_when_patrons_are_awake(w):
    pl, clock = w.life.pledges, rhythm.clock_for(w.cal)
    hour, _ = _local(pl["start_t"], rhythm.patron_zone(w.cfg.seed, pl["patron_id"]), clock)
    by_hour = np.bincount(hour, minlength=24)
    assert by_hour[18:23].mean() > 3 * by_hour[2:6].mean()


def test_creators_post_in_working_hours_on_weekdays(w):
    p, clock = w.posts, rhythm.clock_for(w.cal)
    hour, weekday = _local(
        p["published_t"], rhythm.creator_zone(w.cfg.seed, w.plan["creator_id"][p["creator_idx"]]), clock
    )
    assert ((hour >= 8) & (hour < 18)).mean() > 0.6
    assert (weekday < 5).mean() > 0.78


def test_renewal_charges_run_all_day_without_a_cliff(w):
    at = w.life.attempts
    renewals = (at["attempt"] == 0) & ~w.life.pledges["start_t"][at["pledge_idx"]].__eq__(at["t"])
    hours = np.bincount((at["t"][renewals] % DAY) // 3600, minlength=24)
    assert hours.min() > 0.5 * hours.mean()
    assert hours[:4].mean() > hours[20:].mean()  # busiest as the run starts at midnight UTC
