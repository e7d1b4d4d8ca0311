"""The catalogue's scenario types, each a mechanism of the simulation: against a control run of the
same seed without the instance, it moves its KPIs in its segment and window, and leaves everything
else as it was (real kernels, no Spark)."""

from __future__ import annotations


import numpy as np
import pytest

from synth_spark.config import ConfigError, load_config
from synth_spark.simulation import identity, streams
from synth_spark.simulation.lifecycle import REASON_VOLUNTARY
from synth_spark.simulation.posts import BACK_CATALOGUE_MONTHS
from synth_spark.simulation.rng import uniform
from synth_spark.vocabulary import CATEGORIES, FAILURE_CODES, PAYMENT_METHODS

from .scenario_kpis import instance
from .scenario_kpis import run as kernel_run

SEED = 5


def run(*instances: dict):
    """A 1x kernel run of the seed with these instances and the five default anomalies off."""
    return kernel_run(1, SEED, {"instances": list(instances)}, anomalies=False)


def control():
    return run()


def _creator_rows(sim, table: dict, ids: np.ndarray) -> np.ndarray:
    return np.isin(sim.creators["creator_id"][table["creator_idx"]], ids)


def new_pledges(sim, cal, ids: np.ndarray, months: range) -> int:
    p = sim.life.pledges
    m = cal.month_index(p["start_t"])
    return int((_creator_rows(sim, p, ids) & np.isin(m, list(months))).sum())


def voluntary_ends(sim, cal, ids: np.ndarray, months: range, started_before: int | None = None) -> int:
    """Voluntary cancellations in ``months`` of the creators ``ids`` (of the pledges started before
    month ``started_before`` only, where given: a cohort that fewer arrivals cannot change)."""
    p = sim.life.pledges
    m = cal.month_index(np.minimum(p["end_t"], cal.end - 1))
    sel = _creator_rows(sim, p, ids) & (p["reason"] == REASON_VOLUNTARY) & np.isin(m, list(months))
    if started_before is not None:
        sel &= cal.month_index(p["start_t"]) < started_before
    return int(sel.sum())


def same_pledges(a, b, ids: np.ndarray) -> bool:
    """The creators ``ids`` have exactly the same pledges in both runs."""
    pa, pb = a.life.pledges, b.life.pledges
    ra, rb = _creator_rows(a, pa, ids), _creator_rows(b, pb, ids)
    return all(
        np.array_equal(pa[k][ra], pb[k][rb]) for k in ("pledge_id", "start_t", "end_t", "amount_cents")
    )


def of_category(creators, name: str) -> np.ndarray:
    return creators["creator_id"][creators["category_code"] == CATEGORIES.index(name)]


def others(creators, ids: np.ndarray) -> np.ndarray:
    return creators["creator_id"][~np.isin(creators["creator_id"], ids)]


SPRING = range(14, 17)  # March to May 2024, window months 14-16
BEFORE = range(0, 14)


@pytest.mark.parametrize("kind, size, expected", [("competitor_launch", 0.5, 0.5), ("promotion", 1.0, 2.0)])
def test_an_arrivals_scenario_scales_its_segments_new_pledges_in_its_months_and_nowhere_else(
    kind, size, expected
):
    cfg, cal, creators, _, base = control()
    *_, sim = run(instance(kind, {"category": ["music"]}, "2024-03-01", "2024-05-31", size))
    music = of_category(creators, "music")
    ratio = new_pledges(sim, cal, music, SPRING) / new_pledges(base, cal, music, SPRING)
    n = new_pledges(base, cal, music, SPRING)
    assert ratio == pytest.approx(expected, abs=4 * np.sqrt(expected / n))  # Poisson counts
    assert new_pledges(sim, cal, music, BEFORE) == new_pledges(base, cal, music, BEFORE)
    assert same_pledges(sim, base, others(creators, music))


def test_a_mix_shift_moves_new_patrons_to_its_segment_from_the_rest_and_keeps_the_total():
    """Simpson's shape: the segment gains what the rest loses, so the platform's new pledges stay as
    they were while the mix (and any average over it) moves."""
    cfg, cal, creators, _, base = control()
    *_, sim = run(instance("mix_shift", {"category": ["podcasts"]}, "2024-03-01", "2024-05-31", 0.6))
    podcasts, everyone = of_category(creators, "podcasts"), creators["creator_id"]
    rest = others(creators, podcasts)
    seg_before, seg_after = new_pledges(base, cal, podcasts, SPRING), new_pledges(sim, cal, podcasts, SPRING)
    rest_before, rest_after = new_pledges(base, cal, rest, SPRING), new_pledges(sim, cal, rest, SPRING)
    assert seg_after / seg_before == pytest.approx(1.6, abs=4 * np.sqrt(1.6 / seg_before))
    assert rest_after < rest_before
    total_before, total_after = (
        new_pledges(base, cal, everyone, SPRING),
        new_pledges(sim, cal, everyone, SPRING),
    )
    assert total_after == pytest.approx(total_before, abs=4 * np.sqrt(total_before))
    assert new_pledges(sim, cal, everyone, BEFORE) == new_pledges(base, cal, everyone, BEFORE)


def test_a_policy_change_on_nsfw_creators_cuts_their_arrivals_and_raises_their_cancellations():
    cfg, cal, creators, _, base = control()
    *_, sim = run(instance("policy_change", {"nsfw": [True]}, "2024-03-01", "2024-05-31", 0.8))
    nsfw = creators["creator_id"][creators["is_nsfw"]]
    assert new_pledges(sim, cal, nsfw, SPRING) < 0.3 * new_pledges(base, cal, nsfw, SPRING)
    # the patrons they already had cancel more (x1.8 in hazard; a few dozen pledges at 1x)
    had = voluntary_ends(sim, cal, nsfw, SPRING, started_before=14)
    assert had > 1.3 * voluntary_ends(base, cal, nsfw, SPRING, started_before=14)
    assert same_pledges(sim, base, others(creators, nsfw))


def test_a_churn_wave_raises_voluntary_cancellations_in_its_segment_and_months_only():
    cfg, cal, creators, _, base = control()
    segment = {"size": ["established"], "country": ["US"]}
    *_, sim = run(instance("churn_wave", segment, "2024-03-01", "2024-05-31", 1.0))
    us = creators["creator_id"][(creators["size_code"] == 1) & (creators["country_code"] == "US")]
    assert voluntary_ends(sim, cal, us, SPRING) > 1.6 * voluntary_ends(base, cal, us, SPRING)
    assert voluntary_ends(sim, cal, us, BEFORE) == voluntary_ends(base, cal, us, BEFORE)
    assert same_pledges(sim, base, others(creators, us))


def test_a_ramp_builds_month_by_month_to_its_full_size():
    _, _, _, job, _ = run(
        instance("posting_slump", {"category": ["video"]}, "2024-03-01", "2024-05-31", 0.6, "ramp")
    )
    (effect,) = job.anomalies.scenarios.effects
    assert effect.month_strength(np.arange(13, 18)).tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1, 0])


def test_a_posting_slump_cuts_its_creators_posts_and_their_patrons_stay_less():
    cfg, cal, creators, _, base = control()
    *_, sim = run(instance("posting_slump", {"category": ["video"]}, "2024-03-01", "2024-05-31", 0.7))
    video = np.isin(creators["creator_id"], of_category(creators, "video"))
    back = BACK_CATALOGUE_MONTHS  # the post counts' columns start this many months before the window
    window = slice(back + 14, back + 17)
    assert sim.post_counts[video, window].sum() < 0.45 * base.post_counts[video, window].sum()
    assert np.array_equal(sim.post_counts[~video], base.post_counts[~video])
    assert np.array_equal(sim.post_counts[video, : back + 14], base.post_counts[video, : back + 14])
    # fewer posts, more cancellations: the model's posting -> churn link, not a second knob
    ids = of_category(creators, "video")
    assert voluntary_ends(sim, cal, ids, range(14, 18)) > voluntary_ends(base, cal, ids, range(14, 18))


def attempts_frame(sim, cfg):
    at, p = sim.life.attempts, sim.life.pledges
    patron = p["patron_id"][at["pledge_idx"]]
    from synth_spark.simulation.billing import PatronPayment

    return dict(
        key=np.stack([p["pledge_id"][at["pledge_idx"]], at["month"], at["attempt"]], axis=1),
        t=at["t"],
        ok=at["ok"].astype(bool),
        reason=at["reason"],
        attempt=at["attempt"],
        method=PatronPayment(cfg, patron).method,
        country=identity.country_index(uniform(cfg.seed, streams.PATRON_COUNTRY, patron)),
    )


def outcomes(frame, sel) -> dict:
    return {tuple(k): (ok, r) for k, ok, r in zip(frame["key"][sel], frame["ok"][sel], frame["reason"][sel])}


def _window(cal_start: str, days: int):
    import datetime as dt

    d = dt.date.fromisoformat(cal_start)
    start = int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())
    return start, start + days * 86_400


def test_a_payment_method_failing_in_one_country_declines_only_those_payers_in_its_days():
    segment = {"payment_method": ["card"], "patron_country": ["US"]}
    cfg, *_, base = control()
    *_, sim = run(instance("payment_method_failure", segment, "2024-03-11", "2024-03-20", 0.6))
    lo, hi = _window("2024-03-11", 10)
    us = identity.country_positions(["US"])[0]
    a, b = attempts_frame(sim, cfg), attempts_frame(base, cfg)

    def payers(f):
        return (f["method"] == PAYMENT_METHODS.index("card")) & (f["country"] == us)

    def first_declines(f, who):
        sel = who & (f["attempt"] == 0) & (f["t"] >= lo) & (f["t"] < hi)
        return 1 - f["ok"][sel].mean(), sel.sum()

    before, _ = first_declines(b, payers(b))
    after, n = first_declines(a, payers(a))
    expected = before + 0.6 * (1 - before)
    assert after == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))
    hit = payers(a) & (a["attempt"] == 0) & (a["t"] >= lo) & (a["t"] < hi) & ~a["ok"]
    assert (a["reason"][hit] == FAILURE_CODES.index("processing_error")).mean() > 0.75
    # everyone else's attempts in those days, and every attempt before them, went as they did
    other = ~payers(a) & (a["t"] >= lo) & (a["t"] < hi)
    theirs, before = outcomes(a, other), outcomes(b, ~payers(b))
    assert theirs == {k: before[k] for k in theirs}
    assert outcomes(a, a["t"] < lo) == outcomes(b, b["t"] < lo)


def test_a_card_reissue_wave_declines_cards_as_expired_and_spares_paypal():
    segment = {"patron_country": ["US"]}
    cfg, *_, base = control()
    *_, sim = run(instance("card_reissue_wave", segment, "2024-05-01", "2024-05-31", 0.5))
    lo, hi = _window("2024-05-01", 31)
    a, b = attempts_frame(sim, cfg), attempts_frame(base, cfg)
    expired = FAILURE_CODES.index("card_expired")

    def expired_first(f, method):
        sel = (f["attempt"] == 0) & (f["t"] >= lo) & (f["t"] < hi) & (f["method"] == method)
        sel &= f["country"] == identity.country_positions(["US"])[0]
        return (f["reason"][sel] == expired).mean()

    card, paypal = PAYMENT_METHODS.index("card"), PAYMENT_METHODS.index("paypal")
    assert expired_first(a, card) > expired_first(b, card) + 0.35
    assert expired_first(a, paypal) == expired_first(b, paypal) == 0


def test_a_retry_schedule_change_recovers_fewer_declines_in_its_window():
    cfg, *_, base = control()
    *_, sim = run(instance("retry_degradation", {}, "2024-03-01", "2024-08-31", 0.5))
    lo, hi = _window("2024-03-01", 184)
    a, b = attempts_frame(sim, cfg), attempts_frame(base, cfg)

    def retry_success(f, inside: bool):
        window = (f["t"] >= lo) & (f["t"] < hi)
        sel = (f["attempt"] > 0) & (window if inside else f["t"] < lo)
        sel &= f["reason"] != FAILURE_CODES.index("card_expired")
        sel |= (f["attempt"] > 0) & f["ok"] & (window if inside else f["t"] < lo)
        return f["ok"][sel].mean()

    assert retry_success(a, True) < 0.75 * retry_success(b, True)
    assert retry_success(a, False) == retry_success(b, False)


def test_no_instances_leave_the_run_as_it_was():
    *_, job, _ = control()
    assert job.anomalies.scenarios.effects == ()


@pytest.mark.parametrize(
    "segment, message",
    [
        ({"country": ["ZZ"]}, r"segment\.country: \['ZZ'\] matches no creator of this run"),
        ({"creator_id": [99_999]}, r"segment\.creator_id: \[99999\] matches no creator"),
    ],
)
def test_a_segment_that_selects_no_creator_is_bad_input_before_any_work(segment, message):
    from synth_spark.simulation.plan import refuse_unplannable

    cfg = load_config(
        scale=1,
        seed=SEED,
        scenarios={"instances": [instance("churn_wave", segment, "2024-03-01", "2024-03-31", 0.5)]},
    )
    with pytest.raises(ConfigError, match=r"^scenarios\.instances\.0\." + message):
        refuse_unplannable(cfg)


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            dict(type="meteor_strike"),
            r"type: 'meteor_strike' is not a scenario type; allowed: competitor_launch",
        ),
        (dict(segment={"payment_method": ["card"]}), r"churn_wave cannot select on 'payment_method'"),
        (
            dict(segment={"category": ["cooking"]}),
            r"segment\.category: 'cooking' is not allowed; allowed: podcasts",
        ),
        (dict(start="2024-03-05"), r"start: churn_wave acts on whole months"),
        (dict(end="2026-01-31"), r"scenarios\.instances\.0\.end: 2026-01-31 is outside the window"),
        (dict(start="2023-01-01"), r"leaves no time before it to measure a baseline"),
        (dict(size=20.0), r"size: 20 is too large for churn_wave; allowed: up to 10"),
    ],
)
def test_a_bad_instance_is_refused_in_one_line_naming_its_field(changes, message):
    bad = {**instance("churn_wave", {"category": ["music"]}, "2024-03-01", "2024-03-31", 0.5), **changes}
    with pytest.raises(ConfigError, match=message) as err:
        load_config(scale=1, seed=SEED, scenarios={"instances": [bad]})
    assert "\n" not in str(err.value) and "scenarios.instances.0" in str(err.value)
