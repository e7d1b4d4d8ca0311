"""The five injected scenarios, caused inside the simulation: each compared with a control run of the
same seed with every anomaly disabled."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from synth_spark.config import ConfigError, load_config
from synth_spark.job.emitters import Job, _simulate
from synth_spark.simulation import anomalies as anom
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.creators import PLAN_COLUMNS, draw_creators
from synth_spark.simulation.lifecycle import REASON_DEPARTED, REASON_VOLUNTARY
from synth_spark.vocabulary import ANOMALY_TYPES, DAY, FAILURE_CODES

NAMES = ("viral_spike", "payment_outage", "holiday_churn", "creator_exodus", "category_collapse")
ON = {name: {"enabled": True} for name in NAMES}
OFF = {name: {"enabled": False} for name in NAMES}


@lru_cache(maxsize=None)
def run(enabled: bool, seed: int = 5, scale: float = 1.0):
    cfg = load_config(scale=scale, seed=seed, anomalies=ON if enabled else OFF)
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    job = Job.plan(cfg, cal, creators)
    posts, _, life = _simulate(job, {k: creators[k] for k in PLAN_COLUMNS})
    return cfg, cal, creators, job, posts, life


def test_plan_is_resolved_from_the_seed_and_scales_absolute_sizes():
    cfg, cal, creators, job, *_ = run(True)
    plan = job.anomalies
    assert plan.viral_patrons == 500 and plan.outage_decline == 0.40 and plan.holiday_month == 12
    assert len(plan.departures) == 3 and plan.collapse_month == 19
    size = dict(zip(creators["creator_id"], creators["size_code"]))
    assert size[plan.viral_creator] == 1 and all(size[c] == 2 for c in plan.departures)
    assert run(True, seed=5, scale=2.0)[3].anomalies.viral_patrons == 1000
    assert run(False)[3].anomalies == anom.NO_ANOMALIES


def test_viral_creator_gains_the_wave_of_new_patrons_in_two_weeks():
    _, _, _, job, _, life = run(True)
    _, _, _, _, _, control = run(False)
    plan = job.anomalies

    def wave(lf):
        pl = lf.pledges
        cid = pl["pledge_id"] // 1_000_000
        return ((cid == plan.viral_creator) & (pl["start_t"] >= plan.viral_start) & (pl["start_t"] < plan.viral_end)).sum()

    assert wave(life) - wave(control) == pytest.approx(plan.viral_patrons, rel=0.15)
    # the new patrons churn like any others afterwards: most losses in their first month
    pl = life.pledges
    joined = (pl["pledge_id"] // 1_000_000 == plan.viral_creator) & (pl["start_t"] >= plan.viral_start)
    ended = joined & (pl["end_t"] < plan.viral_start + 62 * DAY)
    assert 0.10 < ended.sum() / joined.sum() < 0.45


def test_outage_declines_carry_their_own_reason_and_stay_in_the_window():
    _, _, _, job, _, life = run(True)
    at = life.attempts
    plan = job.anomalies
    code = FAILURE_CODES.index("processor_outage")
    out = at["reason"] == code
    assert out.any()
    assert np.all((at["t"][out] >= plan.outage_start) & (at["t"][out] < plan.outage_end))
    first = (at["attempt"] == 0) & (at["t"] >= plan.outage_start) & (at["t"] < plan.outage_end)
    decline = 1 - at["ok"][first].astype(bool).mean()
    assert 0.33 < decline < 0.47  # 40% of attempts decline during the outage
    # retries after the window recover part of them
    retried = (at["attempt"] > 0) & (at["t"] >= plan.outage_end)
    assert at["ok"][retried].astype(bool).any()


def test_holiday_month_has_more_voluntary_churn_than_the_control():
    cfg, cal, _, job, _, life = run(True)
    *_, control = run(False)
    m = job.anomalies.holiday_month
    lo, hi = cal.month_start(m), cal.month_end(m)

    def voluntary(lf):
        pl = lf.pledges
        return ((pl["reason"] == REASON_VOLUNTARY) & (pl["end_t"] >= lo) & (pl["end_t"] < hi)).sum()

    assert voluntary(life) > 1.05 * voluntary(control)


def test_exodus_ends_every_running_pledge_of_the_departing_creators():
    _, cal, _, job, posts, life = run(True)
    pl = life.pledges
    creator = pl["pledge_id"] // 1_000_000
    for cid, t in job.anomalies.departures.items():
        mine = creator == cid
        assert not np.any(mine & (pl["start_t"] >= t))
        running_then = mine & (pl["start_t"] < t) & (pl["end_t"] >= t)
        assert running_then.sum() > 20
        assert np.all(pl["reason"][running_then] == REASON_DEPARTED)
        assert np.all(pl["end_t"][running_then] < t + 2 * 3600 + 1)
        assert not np.any((posts["creator_id"] == cid) & (posts["published_t"] >= t))


def test_collapsing_category_gets_fewer_new_pledges_and_more_churn():
    cfg, cal, creators, job, _, life = run(True)
    *_, control = run(False)
    games = set(creators["creator_id"][creators["category"] == "games"].tolist())
    start = cal.month_start(job.anomalies.collapse_month)

    def stats(lf):
        pl = lf.pledges
        mine = np.isin(pl["pledge_id"] // 1_000_000, list(games))
        new = (mine & (pl["start_t"] >= start)).sum()
        running = mine & (pl["start_t"] < start) & (pl["end_t"] >= start)
        lost = (running & (pl["end_t"] < cal.end)).sum() / running.sum()
        return new, lost

    (new, lost), (new0, lost0) = stats(life), stats(control)
    assert new < 0.7 * new0 and lost > 1.15 * lost0


def test_an_anomaly_outside_the_window_is_refused_with_its_field():
    with pytest.raises(ConfigError, match="anomalies.viral_spike.start"):
        load_config(anomalies={"viral_spike": {"enabled": True, "start": "2021-05-01"}})
    with pytest.raises(ConfigError, match="anomalies.category_collapse.category"):
        load_config(anomalies={"category_collapse": {"enabled": True, "category": "knitting"}})


def test_ground_truth_names_each_scenario_with_its_question():
    cfg, cal, _, job, *_ = run(True)
    rows = anom.ground_truth(cfg, cal, job.anomalies)
    assert [r["anomaly_type"] for r in rows] == list(ANOMALY_TYPES)
    assert all(r["investigation_question"] and r["expected_root_cause"] for r in rows)
    exodus = next(r for r in rows if r["anomaly_type"] == "creator_exodus")
    assert exodus["creator_ids"].count(";") == 2
    assert anom.ground_truth(*run(False)[:2], run(False)[3].anomalies) == []
