"""validate's detector for the catalogue's instances: an instance is found in its segment and window,
its own segment ranks first among the values of its dimensions, and with the same ground truth the
control run (scenarios off) shows nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synth_spark.manifest import latent_creators
from synth_spark.validation import anomaly_verdicts, realised, scoring
from synth_spark.validation.metrics import Dataset
from synth_spark.validation.score_card import Score
from synth_spark.validation.segment_scoring import expected_against_rest
from synth_spark.validation.verdicts import INFO

from .helpers import read_manifest
from .scenario_kpis import OFF, instance

SCALE, SEED = 0.5, 11
#: one instance of each side and of each kind of KPI: a count of arrivals, of posts, and a rate
INSTANCES = [
    instance("promotion", {"category": ["music"]}, "2024-03-01", "2024-04-30", 1.5),
    instance(
        "posting_slump", {"category": ["podcasts"], "plan_type": ["pro"]}, "2023-10-01", "2023-11-30", 0.8
    ),
    instance("payment_method_failure", {"patron_country": ["US"]}, "2024-05-10", "2024-05-16", 0.6),
]


def _generate(spark, tmp_path_factory, name: str, **settings):
    from synth_spark.config import load_config
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    cfg = load_config(scale=SCALE, seed=SEED, anomalies=OFF, **settings)
    out = tmp_path_factory.mktemp(name) / "out"
    generate(spark, cfg, out, ["parquet"], partitions=2, progress=Progress(quiet=True))
    return cfg, out


def _scores(spark, cfg, folder, truth, latent):
    ds = Dataset.load(spark, str(folder), cfg.window.start, cfg.window.months)
    return {s.anomaly_type: s for s in scoring.score(ds, truth, latent)}


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    cfg, folder = _generate(spark, tmp_path_factory, "instances", scenarios={"instances": INSTANCES})
    ds = Dataset.load(spark, str(folder), cfg.window.start, cfg.window.months)
    truth = scoring.ground_truth(ds)
    return cfg, folder, truth, latent_creators(read_manifest(folder))


@pytest.fixture(scope="module")
def scores(spark, run):
    cfg, folder, truth, latent = run
    return _scores(spark, cfg, folder, truth, latent)


@pytest.fixture(scope="module")
def control_scores(spark, run, tmp_path_factory):
    cfg, _, truth, latent = run
    control_cfg, control = _generate(spark, tmp_path_factory, "control")
    return _scores(spark, control_cfg, control, truth, latent)


@pytest.mark.parametrize("kind", [i["type"] for i in INSTANCES])
def test_an_instance_is_found_in_its_window_with_its_own_segment_ranked_first(scores, kind):
    s = scores[kind]
    assert s.detected, s.signal
    assert s.root_cause_found, [c.value for c in s.drilldowns[0].top]


@pytest.mark.parametrize("kind", [i["type"] for i in INSTANCES])
def test_with_the_same_truth_the_control_run_shows_nothing(control_scores, kind):
    assert not control_scores[kind].detected, control_scores[kind].signal


def test_the_drill_down_ranks_single_values_and_their_pairs(scores):
    top = [c.value for c in scores["posting_slump"].drilldowns[0].top]
    assert top[0] == '{"category": ["podcasts"], "plan_type": ["pro"]}'


def test_instances_are_shown_with_hit_rates_and_never_judged(scores, control_scores):
    lines = anomaly_verdicts.judge(list(scores.values()), list(control_scores.values()))
    assert {line.verdict for line in lines} == {INFO}
    rates = [line for line in lines if line.name.startswith("catalogue instances")]
    assert [r.measured for r in rates] == [
        "3 of 3 found (100%), 3 with their segment ranked first",
        "0 of 3 found (0%), 0 with their segment ranked first",
    ]


def _poisson_months(rng, share: float, lift: float):
    rest = pd.Series(rng.poisson(1000, 24).astype(float))
    seg = pd.Series(rng.poisson(share * rest.to_numpy()).astype(float))
    seg[18:20] = rng.poisson(share * lift * rest[18:20].to_numpy())
    return seg, rest


def test_a_steady_share_lifted_by_half_stands_out_and_an_unlifted_one_does_not():
    rng = np.random.default_rng(3)
    baseline = [*range(12, 18), 20, 21, 22]
    for lift, found in ((1.5, True), (1.0, False)):
        seg, rest = _poisson_months(rng, 0.1, lift)
        observed, expected, se = expected_against_rest(seg, rest, [18, 19], baseline)
        assert bool((observed - expected) / se >= 3) is found, (observed, expected, se)


def test_each_instance_is_measured_against_its_paired_control_in_its_direction(run, scores, control_scores):
    """The realised effect is the data's, not the config's: the KPI in the segment and window moves
    the way the type moves it, by about what was asked, against the control run of the same seed."""
    _, _, truth, _ = run
    effects = realised.measured(list(scores.values()), list(control_scores.values()))
    by_type = {kind: effects[s.anomaly_id] for kind, s in scores.items()}
    assert by_type["promotion"].kpi == "new_pledges" and 1.5 < by_type["promotion"].change + 1 < 4.0
    assert by_type["posting_slump"].kpi == "posts" and -0.9 < by_type["posting_slump"].change < -0.6
    assert by_type["payment_method_failure"].kpi == "decline_rate"
    assert by_type["payment_method_failure"].observed > by_type["payment_method_failure"].control + 0.3
    assert all(abs(e.spreads) >= 3 for e in effects.values())
    rows = realised.ground_truth(truth, effects)
    assert [r["realised"]["kpi"] for r in rows] == ["new_pledges", "posts", "decline_rate"]
    lines = realised.lines(effects, truth)
    assert {line.verdict for line in lines} == {INFO}
    assert all(line.target.startswith("configured: ") for line in lines)


def test_a_count_is_put_in_spreads_of_the_controls_poisson_noise_and_a_rate_of_its_binomial():
    count = realised.realised(
        Score(1, "promotion", "", "", "", 0.0, True, "", True, observed=150.0, kpi="new_pledges"),
        Score(1, "promotion", "", "", "", 0.0, False, "", False, observed=100.0, kpi="new_pledges"),
    )
    assert count.change == pytest.approx(0.5) and count.spreads == pytest.approx(5.0)
    rate = realised.realised(
        Score(2, "retry_degradation", "", "", "", 0.0, True, "", True, observed=0.1, trials=400.0, kpi="r"),
        Score(2, "retry_degradation", "", "", "", 0.0, False, "", False, observed=0.2, trials=400.0, kpi="r"),
    )
    assert rate.spreads == pytest.approx(-0.1 / (0.4 / 20))
