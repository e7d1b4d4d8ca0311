"""The churn model's building blocks: the tenure curve, a growing base's churn, normalised multipliers."""

import numpy as np
import pandas as pd
import pytest

from synth_spark.config import load_config
from synth_spark.simulation import churn
from synth_spark.validation.targets import trend_uplift


@pytest.fixture(scope="module")
def cfg():
    return load_config()


def test_tenure_curve_steps_at_the_seeds_ages(cfg):
    t = cfg.churn.by_tenure
    assert churn.tenure_hazard(cfg, np.array([0, 1, 2, 3, 11, 12, 40])).tolist() == [
        t.month_1,
        t.months_2_3,
        t.months_2_3,
        t.months_4_12,
        t.months_4_12,
        t.months_13_plus,
        t.months_13_plus,
    ]


def test_a_growing_base_churns_more_than_a_steady_one(cfg):
    steady = 1 / churn.survival(cfg).sum()
    g = np.array([-0.05, 0.0, 0.03, 0.08])
    rates = churn.growing_base_churn(cfg, g)
    assert rates[1] == pytest.approx(steady, rel=1e-3)
    assert np.all(np.diff(rates) > 0)
    assert 0.04 < steady < 0.07  # the seed's curve alone: about 6% a month


def test_engagement_multipliers_keep_the_mean_and_set_the_ratio(cfg):
    p = churn.mean_engagement_odds(cfg)
    assert 0.3 < p < 0.6
    engaged, not_engaged = churn.engagement_multipliers(cfg)
    assert p * engaged + (1 - p) * not_engaged == pytest.approx(1.0)
    assert not_engaged / engaged == pytest.approx(cfg.churn.not_engaged_churn_ratio)


def test_posting_levels_follow_the_seeds_thresholds(cfg):
    levels = churn.posting_level(np.array([0, 1, 3, 4, 9]))
    assert levels.tolist() == [0, 1, 1, 2, 2]
    mult = churn.posting_multiplier(cfg, np.array([0, 2, 5]))
    assert mult[0] > mult[1] > mult[2]


def test_population_normaliser_is_the_weighted_mean_multiplier(cfg):
    creators = {"posts_rate": np.array([0.0, 50.0]), "churn_multiplier": np.array([1.0, 1.0])}
    pm = cfg.churn.posting_multiplier
    # one creator never posts, one always posts 4+: equal weights average the two multipliers
    got = churn.population_normaliser(cfg, creators, np.array([1.0, 1.0]))
    assert got == pytest.approx((pm["none"] + pm["frequent"]) / 2)


def test_stock_ages_skip_age_zero_and_favour_old_pledges_when_not_growing(cfg):
    idx, cdf = churn.stock_age_cdf(cfg, np.array([0.0]))
    row = cdf[idx[0]]
    assert row[0] == 0.0 and np.all(np.diff(row) >= 0)
    share_over_a_year = 1 - row[12] / row[-1]
    assert share_over_a_year > 0.4


def test_trend_uplift_recovers_a_known_seasonal_bump():
    months = pd.Series(pd.date_range("2023-01-01", periods=24, freq="MS"))
    base = 100 + 2.0 * np.arange(24)
    bump = np.where(months.dt.month.isin([10, 11, 12]), 1.2, 1.0)
    series = pd.Series(base * bump)
    uplift = trend_uplift(series, months, {10, 11, 12}, set())
    np.testing.assert_allclose(uplift[months.dt.month.isin([10, 11, 12])], 0.2, atol=1e-9)
    np.testing.assert_allclose(uplift[months.dt.month.between(2, 9)], 0.0, atol=1e-9)
