"""The five injected scenarios, caused inside the simulation: each compared with a control run of the
same seed with every anomaly disabled."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pytest

from synth_spark.config import ConfigError, load_config
from synth_spark.job.chunk_state import simulate_chunk
from synth_spark.job.emitters import RunConstants
from synth_spark.simulation import anomalies as anom
from synth_spark.simulation.ground_truth import ground_truth
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.creators import PLAN_COLUMNS, draw_creators
from synth_spark.simulation.lifecycle import REASON_REMOVED, REASON_VOLUNTARY
from synth_spark.simulation.scenario_truth import segment_json
from synth_spark.vocabulary import ANOMALY_TYPES, CATEGORIES, DAY, FAILURE_CODES

from .scenario_kpis import instance

NAMES = ("viral_spike", "payment_outage", "holiday_churn", "creator_exodus", "category_collapse")
ON = {name: {"enabled": True} for name in NAMES}
OFF = {name: {"enabled": False} for name in NAMES}


@lru_cache(maxsize=None)
def run(enabled: bool, seed: int = 5, scale: float = 1.0):
    cfg = load_config(scale=scale, seed=seed, anomalies=ON if enabled else OFF)
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    job = RunConstants.plan(cfg, cal, creators)
    sim = simulate_chunk(job, {k: creators[k] for k in PLAN_COLUMNS})
    return cfg, cal, creators, job, sim.posts, sim.life


def test_plan_is_resolved_from_the_seed_and_scales_absolute_sizes():
    cfg, cal, creators, job, *_ = run(True)
    plan = job.anomalies
    assert plan.viral_patrons == 500 and plan.outage_decline == 0.40 and plan.holiday_month == 12
    assert len(plan.departures) == 3 and plan.collapse_month == 19
    size = dict(zip(creators["creator_id"], creators["size_code"]))
    assert size[plan.viral_creator] == 1 and all(size[c] == 2 for c in plan.departures)
    assert run(True, seed=5, scale=2.0)[3].anomalies.viral_patrons == 1000
    assert run(False)[3].anomalies == anom.NO_ANOMALIES


def test_a_viral_wave_too_large_for_one_creators_pledge_ids_is_refused_as_bad_config():
    from synth_spark.config.settings import VIRAL_PATRONS_MAX

    at_the_limit = {**ON, "viral_spike": {"enabled": True, "new_patrons": VIRAL_PATRONS_MAX // 2}}
    assert load_config(scale=2, seed=5, anomalies=at_the_limit).scale == 2
    over = {**ON, "viral_spike": {"enabled": True, "new_patrons": VIRAL_PATRONS_MAX // 2 + 1}}
    with pytest.raises(
        ConfigError, match=r"^config: anomalies\.viral_spike\.new_patrons: .* at most 450000 "
    ):
        load_config(scale=2, seed=5, anomalies=over)
    with pytest.raises(ConfigError, match=r"at most 499 "):
        load_config(scale=1801, seed=5)  # the default wave, 500 per unit of scale, fits up to 1800x


def test_a_viral_wave_whose_new_accounts_would_crowd_out_the_pool_is_refused_as_bad_config():
    """Ordinary pledges redraw a patron that is one of the wave's accounts: were they most of the
    pool, redraws would run out and pledges vanish without a word."""
    from synth_spark.simulation.plan import refuse_unplannable

    refuse_unplannable(
        load_config(seed=5, anomalies={**ON, "viral_spike": {"enabled": True, "new_patrons": 5_000}})
    )
    crowded = {**ON, "viral_spike": {"enabled": True, "new_patrons": 30_000}}
    with pytest.raises(ConfigError, match=r"^anomalies\.viral_spike\.new_patrons: .* over a quarter of the "):
        refuse_unplannable(load_config(seed=5, anomalies=crowded))


def test_a_pledge_number_past_its_creators_id_space_is_never_written():
    from synth_spark.vocabulary import PLEDGES_PER_CREATOR, pledge_id

    assert pledge_id(7, np.array([1, PLEDGES_PER_CREATOR - 1]))[-1] == 8 * PLEDGES_PER_CREATOR - 1
    with pytest.raises(ValueError, match="would be another creator_id's"):
        pledge_id(7, np.array([1, PLEDGES_PER_CREATOR]))


def test_viral_wave_rises_peaks_and_fades_with_a_tail_past_its_two_weeks():
    _, _, _, job, _, life = run(True)
    _, _, _, _, _, control = run(False)
    plan = job.anomalies

    def daily(lf, days=42):
        pl = lf.pledges
        mine = (pl["pledge_id"] // 1_000_000 == plan.viral_creator) & (pl["start_t"] >= plan.viral_start)
        day = (pl["start_t"][mine] - plan.viral_start) // DAY
        return np.bincount(day[day < days], minlength=days)

    extra = daily(life) - daily(control)
    inside = extra[:14].sum()
    assert inside == pytest.approx(
        0.9 * plan.viral_patrons, rel=0.15
    )  # most of the wave inside the two weeks
    assert extra[14:].sum() > 0.04 * plan.viral_patrons  # and a tail after them
    peak = int(np.argmax(np.convolve(extra, np.ones(3) / 3, mode="same")))
    assert 1 <= peak <= 6  # not day 0: it builds up
    assert extra[0] < extra[peak] / 2 and extra[13] < extra[peak] / 3  # rises, then fades
    # a cohort brought by a viral moment leaves sooner than patrons who came on their own (a
    # quarter in their first month): about half gone in the first two months
    pl = life.pledges
    joined = (pl["pledge_id"] // 1_000_000 == plan.viral_creator) & (pl["start_t"] >= plan.viral_start)
    ended = joined & (pl["end_t"] < plan.viral_start + 62 * DAY)
    assert 0.35 < ended.sum() / joined.sum() < 0.75


def test_an_outage_is_processing_errors_between_two_hours_on_first_attempts_and_retries_alike():
    cfg, _, _, job, _, life = run(True)
    *_, control = run(False)
    plan, po = job.anomalies, cfg.anomalies.payment_outage
    assert (
        plan.outage_start % DAY == po.start_hour * 3600 and plan.outage_end % DAY == po.end_hour % 24 * 3600
    )

    def in_outage(lf, attempt_is):
        at = lf.attempts
        return attempt_is(at["attempt"]) & (at["t"] >= plan.outage_start) & (at["t"] < plan.outage_end)

    def declines(lf, attempt_is, reason=None):
        at, sel = lf.attempts, in_outage(lf, attempt_is)
        failed = ~at["ok"][sel].astype(bool)
        if reason is not None:
            failed &= at["reason"][sel] == FAILURE_CODES.index(reason)
        return failed.mean()

    first = lambda a: a == 0
    # 40% of the attempts that would have gone through decline: on top of the usual ~8% of first
    # attempts, within three binomial standard errors (a few hundred first attempts fall in the days)
    expected = declines(control, first) + 0.40 * (1 - declines(control, first))
    n = in_outage(life, first).sum()
    assert declines(life, first) == pytest.approx(expected, abs=3 * np.sqrt(expected * (1 - expected) / n))
    assert declines(life, first, "processing_error") > 0.3

    def retries_in_outage(lf):
        """Retries inside the outage, by (pledge id, month, attempt): whether each went through."""
        at = lf.attempts
        sel = (at["attempt"] > 0) & (at["t"] >= plan.outage_start) & (at["t"] < plan.outage_end)
        pid = lf.pledges["pledge_id"][at["pledge_idx"][sel]]
        return dict(
            zip(
                zip(pid.tolist(), at["month"][sel].tolist(), at["attempt"][sel].tolist()),
                at["ok"][sel].astype(bool),
            )
        )

    # The same retries with and without the outage: none goes through that would not have, and of
    # those that would have, about 40% decline.
    with_outage, without = retries_in_outage(life), retries_in_outage(control)
    both = [k for k in with_outage if k in without]
    would = [k for k in both if without[k]]
    assert not any(with_outage[k] and not without[k] for k in both)
    declined = sum(not with_outage[k] for k in would)
    assert len(would) >= 15
    assert abs(declined - 0.4 * len(would)) <= 3 * (len(would) * 0.4 * 0.6) ** 0.5  # binomial, within 3 s.d.
    # the same reason on ordinary days, at its ordinary low rate: the vocabulary gives nothing away
    at = life.attempts
    outside = (at["attempt"] == 0) & ((at["t"] < plan.outage_start) | (at["t"] >= plan.outage_end))
    assert 0 < (at["reason"][outside] == FAILURE_CODES.index("processing_error")).mean() < 0.03
    # retries after the window recover part of them
    retried = (at["attempt"] > 0) & (at["t"] >= plan.outage_end)
    assert at["ok"][retried].astype(bool).any()


def test_a_viral_cohort_is_new_accounts_on_the_entry_tier_that_drop_off_and_leave_sooner():
    cfg, cal, creators, job, _, life = run(True)
    plan, pl, pool = job.anomalies, life.pledges, job.pool
    wave = pl["wave"]
    assert wave.sum() == plan.viral_patrons  # the wave still brings its 500
    organic = ~wave & (pl["start_t"] >= cal.start)
    # mostly accounts opened for it (the accounts are a hashed share of the pool, so their number
    # is 400 on average, not exactly), which no other pledge draws: only a wave patron who left
    # and comes back to the creator has one on a later pledge
    accounts = plan.wave_account(cfg.seed, pl["patron_id"], pool)
    assert 0.65 < accounts[wave].mean() < 0.95
    came_back = organic & accounts
    left = {(p, e) for p, e, w in zip(pl["patron_id"], pl["end_t"], wave) if w}
    assert all(
        any(p == q and e < t for q, e in left)
        for p, t in zip(pl["patron_id"][came_back], pl["start_t"][came_back])
    )
    # on the cheapest tier far more often than the patrons who find a creator on their own
    assert (pl["rank"][wave] == 1).mean() > (pl["rank"][organic] == 1).mean() + 0.2

    # gone sooner: within six months, against new pledges of the platform
    def left_within(rows, days):
        return ((pl["end_t"][rows] - pl["start_t"][rows]) < days * DAY).mean()

    assert left_within(wave, 182) > left_within(organic, 182)
    # and engaged less after their first month than patrons of the same tier who came on their own
    eg = life.engaged
    age = eg["month"] - cal.month_index(pl["start_t"][eg["pledge_idx"]])

    def later_engagement(rows):
        start_m = cal.month_index(pl["start_t"][rows])
        end_m = cal.month_index(np.minimum(pl["end_t"][rows], cal.end - 1))
        engaged = (rows[eg["pledge_idx"]] & (age >= 1)).sum()
        return engaged / np.maximum(end_m - start_m, 0).sum()

    entry = pl["rank"] == 1
    assert later_engagement(wave & entry) < 0.8 * later_engagement(organic & entry)


def test_holiday_month_has_more_voluntary_churn_than_the_control():
    cfg, cal, _, job, _, life = run(True)
    *_, control = run(False)
    m = job.anomalies.holiday_month
    lo, hi = cal.month_start(m), cal.month_end(m)

    def voluntary(lf):
        pl = lf.pledges
        return ((pl["reason"] == REASON_VOLUNTARY) & (pl["end_t"] >= lo) & (pl["end_t"] < hi)).sum()

    assert voluntary(life) > 1.05 * voluntary(control)


def test_departing_creators_leave_on_different_days_and_their_audiences_end_over_weeks():
    cfg, cal, creators, job, posts, life = run(True)
    plan, ce = job.anomalies, cfg.anomalies.creator_exodus
    days = {t // DAY for t in plan.departures.values()}
    assert len(days) == len(plan.departures) == 3
    pl, at = life.pledges, life.attempts
    creator = pl["pledge_id"] // 1_000_000
    for cid, t in plan.departures.items():
        mine = creator == cid
        assert not np.any(mine & (pl["start_t"] >= t))
        running_then = mine & (pl["start_t"] < t) & (pl["end_t"] >= t)
        assert running_then.sum() > 20
        wait = (pl["end_t"][running_then] - t) / DAY
        # spread over days and weeks, all ended once the page is taken down
        closed = ce.close_days + anom.EXODUS_TAKEDOWN / DAY
        assert wait.max() <= closed and np.median(wait) > 2 and (wait < 1).mean() < 0.3
        reasons = pl["reason"][running_then]
        assert set(np.unique(reasons)) <= {REASON_VOLUNTARY, REASON_REMOVED}
        assert np.all((reasons == REASON_REMOVED) == (wait >= ce.close_days))  # left when the page closed
        # ...by a job working through them, not at one stamped instant
        removed = pl["end_t"][running_then][reasons == REASON_REMOVED]
        assert np.unique(removed).size == removed.size
        # nothing is charged once the creator has left, and no post comes after
        billed = np.isin(at["pledge_idx"], np.nonzero(mine)[0]) & (at["t"] >= t)
        assert not billed.any()
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


def test_the_category_decline_builds_over_months():
    cfg, _, _, job, *_ = run(True)
    plan = job.anomalies
    months = np.arange(plan.collapse_month - 1, plan.collapse_month + 4)
    arrivals = [float(plan.collapse_arrival_factor(np.array([plan.collapse_category]), m)[0]) for m in months]
    churn = [float(plan.collapse_churn_factor(np.array([plan.collapse_category]), m)[0]) for m in months]
    assert arrivals[0] == 1.0 and churn[0] == 1.0  # the month before: untouched
    assert (
        arrivals[1]
        > arrivals[2]
        > arrivals[3]
        == arrivals[4]
        == pytest.approx(cfg.anomalies.category_collapse.arrival_multiplier)
    )
    assert (
        churn[1]
        < churn[2]
        < churn[3]
        == churn[4]
        == pytest.approx(cfg.anomalies.category_collapse.churn_multiplier)
    )
    other = (CATEGORIES.index("games") + 1) % len(CATEGORIES)
    assert float(plan.collapse_churn_factor(np.array([other]), plan.collapse_month + 3)[0]) == 1.0


def test_an_anomaly_outside_the_window_is_refused_with_its_field():
    with pytest.raises(ConfigError, match="anomalies.viral_spike.start"):
        load_config(anomalies={"viral_spike": {"enabled": True, "start": "2021-05-01"}})
    with pytest.raises(ConfigError, match="anomalies.category_collapse.category"):
        load_config(anomalies={"category_collapse": {"enabled": True, "category": "knitting"}})


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 42])
def test_no_two_anomalies_share_a_creator(seed):
    cfg = load_config(seed=seed, anomalies=ON)
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    plan = anom.resolve(cfg, cal, creators)
    category = dict(zip(creators["creator_id"].tolist(), creators["category_code"].tolist()))
    games = CATEGORIES.index("games")
    assert category[plan.viral_creator] != games
    assert all(category[c] != games for c in plan.departures)
    assert plan.viral_creator not in plan.departures
    assert len({t // DAY for t in plan.departures.values()}) == len(
        plan.departures
    )  # each leaves on its own day
    # the exodus takes the three largest top creators outside games
    top = [
        c
        for c, s, a, k in sorted(
            zip(
                creators["creator_id"].tolist(),
                creators["size_code"].tolist(),
                creators["audience"].tolist(),
                creators["category_code"].tolist(),
            ),
            key=lambda r: (-r[2], r[0]),
        )
        if s == 2 and k != games
    ]
    assert sorted(plan.departures) == sorted(top[:3])


def test_a_configuration_that_makes_two_anomalies_share_a_creator_is_refused():
    from synth_spark.simulation.plan import refuse_unplannable

    cfg, cal, creators, job, *_ = run(True)
    viral = job.anomalies.viral_creator
    games = creators["creator_id"][creators["category_code"] == CATEGORIES.index("games")]
    cases = [
        ({"creator_exodus": {"enabled": True, "creator_ids": [viral]}}, "is also the viral_spike's creator"),
        (
            {"creator_exodus": {"enabled": True, "creator_ids": [int(games[0])]}},
            "in games, the category_collapse's category",
        ),
        (
            {"viral_spike": {"enabled": True, "creator_id": int(games[0])}},
            "in games, the category_collapse's category",
        ),
    ]
    for change, message in cases:
        setting = {**ON, **change}
        with pytest.raises(ConfigError, match=message):
            refuse_unplannable(load_config(seed=5, anomalies=setting))
    # without the collapse, a games creator may depart
    refuse_unplannable(
        load_config(
            seed=5,
            anomalies={
                **ON,
                "category_collapse": {"enabled": False},
                "creator_exodus": {"enabled": True, "creator_ids": [int(games[0])]},
            },
        )
    )


def test_ground_truth_names_each_scenario_with_its_question():
    cfg, cal, creators, job, *_ = run(True)
    rows = ground_truth(cfg, cal, job.anomalies, creators)
    assert [r["anomaly_type"] for r in rows] == list(ANOMALY_TYPES)
    assert all(r["investigation_question"] and r["expected_root_cause"] for r in rows)
    exodus = next(r for r in rows if r["anomaly_type"] == "creator_exodus")
    assert exodus["creator_ids"].count(";") == 2
    off = run(False)
    assert ground_truth(off[0], off[1], off[3].anomalies, off[2]) == []


def test_ground_truth_names_each_segment_coarse_to_fine_and_the_kpis_it_moves():
    cfg, cal, creators, job, *_ = run(True)
    rows = {r["anomaly_type"]: r for r in ground_truth(cfg, cal, job.anomalies, creators)}
    assert json.loads(rows["category_collapse"]["segment"]) == {"category": ["games"]}
    assert json.loads(rows["payment_outage"]["segment"]) == {}
    departing = json.loads(rows["creator_exodus"]["segment"])["creator_id"]
    assert departing == rows["creator_exodus"]["creator_ids"].split(";")
    assert json.loads(rows["viral_spike"]["kpis"]) == {"new_pledges": "up", "mrr": "up"}
    assert {r["family"] for r in rows.values()} == {"business"}
    assert json.loads(segment_json({"creator_id": [7], "category": ["music"], "size": ["small"]})) == {
        "size": ["small"],
        "category": ["music"],
        "creator_id": ["7"],
    }


def test_instances_acting_on_the_same_creators_or_payers_at_the_same_time_name_each_other():
    instances = [
        instance("churn_wave", {"category": ["music"]}, "2024-01-01", "2024-01-31", 0.5),
        instance("payment_method_failure", {"patron_country": ["US"]}, "2024-02-15", "2024-02-20", 0.5),
        instance("churn_wave", {"category": ["music"]}, "2024-03-01", "2024-03-31", 0.5),
    ]
    cfg = load_config(seed=5, anomalies=ON, scenarios={"instances": instances})
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    job = RunConstants.plan(cfg, cal, creators)
    rows = ground_truth(cfg, cal, job.anomalies, creators)
    overlaps = {r["anomaly_id"]: r["overlaps"] for r in rows}
    # the January wave meets the holiday's January (everyone), the February failure the outage
    assert overlaps == {1: None, 2: "7", 3: "6", 4: None, 5: None, 6: "3", 7: "2", 8: None}
