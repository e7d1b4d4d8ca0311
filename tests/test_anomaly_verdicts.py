"""How a scored anomaly is judged: a miss fails unless the injected effect is smaller than what the
dataset's own noise lets any blind detector see, and a signal found with the wrong root cause fails."""

from __future__ import annotations

import pytest

from synth_spark.validation.anomaly_verdicts import judge
from synth_spark.validation.verdicts import FAIL, NOISY, PASS


def _holiday(z_detected: bool, root_cause_found: bool, noise_floor: float | None):
    from synth_spark.validation.score_card import Score

    return Score(
        3,
        "holiday_churn",
        "Why did January churn spike?",
        "budget cuts",
        "voluntary churn +9%",
        0.09,
        z_detected,
        "churn_reason",
        root_cause_found,
        noise_floor=noise_floor,
    )


def _verdict(score, injected=0.15):
    return judge([score], None, {"holiday_churn": injected})[0]


def test_a_found_anomaly_passes():
    assert _verdict(_holiday(True, True, noise_floor=0.20)).verdict == PASS


def test_a_miss_below_the_noise_floor_is_too_noisy_to_judge_and_says_why():
    check = _verdict(_holiday(False, True, noise_floor=0.20))
    assert check.verdict == NOISY
    assert "+15%" in check.tolerance and "+20%" in check.tolerance


def test_a_miss_the_noise_would_have_shown_fails():
    assert _verdict(_holiday(False, True, noise_floor=0.06)).verdict == FAIL


def test_a_found_signal_with_the_wrong_root_cause_fails():
    assert _verdict(_holiday(True, False, noise_floor=0.20)).verdict == FAIL
    assert _verdict(_holiday(True, False, noise_floor=0.06)).verdict == FAIL


def test_below_the_noise_floor_a_miss_is_not_judged_on_its_drilldown():
    # no spike was found, so there is nothing for the ranking of churn reasons to explain
    assert _verdict(_holiday(False, False, noise_floor=0.20)).verdict == NOISY
    assert _verdict(_holiday(False, False, noise_floor=0.06)).verdict == FAIL


def test_without_a_known_size_or_noise_floor_a_miss_fails():
    assert judge([_holiday(False, True, noise_floor=0.20)], None)[0].verdict == FAIL
    assert _verdict(_holiday(False, True, noise_floor=None)).verdict == FAIL


def test_the_control_run_fails_on_any_signal():
    control = judge([], [_holiday(True, True, noise_floor=0.20)])
    assert [c.verdict for c in control] == [FAIL]


def test_a_count_ratio_is_never_spread_less_than_its_poisson_noise():
    import pandas as pd

    from synth_spark.validation.robust import count_ratio_spread

    calm = pd.Series([-0.01, 0.0, 0.01, -0.005, 0.004, 0.0, -0.01, 0.012, 0.003, -0.002])
    assert count_ratio_spread(calm, expected=300) == pytest.approx(1 / 300**0.5)  # ~5.8%, not ~1%
    wide = pd.Series([-0.2, 0.15, -0.1, 0.2, 0.05, -0.15, 0.1, -0.05])
    assert count_ratio_spread(wide, expected=3_000) > 0.1  # the months' own spread when it is wider
