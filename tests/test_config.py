"""synth_spark.config: the seed's numbers load from conf/default.yaml, and a wrong value fails on
load with a one-line ConfigError that names the field (design principle 6)."""

import datetime as dt
import math

import pytest

from synth_spark.config import Config, ConfigError, load_config
from synth_spark.vocabulary import CATEGORIES, SIZE_TIERS


def _error(tmp_path, yaml_text: str | None = None, **overrides) -> str:
    path = None
    if yaml_text is not None:
        path = tmp_path / "user.yaml"
        path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, **overrides)
    msg = str(info.value)
    assert "\n" not in msg.strip(), f"message must be one line: {msg!r}"
    return msg


# ---------------------------------------------------------------------------------------------
# the defaults are the seed's numbers


def test_defaults_load_with_the_seeds_numbers():
    cfg = load_config()
    assert isinstance(cfg, Config)
    assert cfg.seed == 42 and cfg.scale == 1.0
    assert cfg.window.start == dt.date(2023, 1, 1) and cfg.window.months == 24
    assert cfg.window.end == dt.date(2025, 1, 1)
    assert cfg.n_creators == 500 and cfg.n_patrons == 15_000
    assert cfg.creators.categories == {
        "podcasts": 0.25,
        "video": 0.20,
        "visual_art": 0.18,
        "education": 0.15,
        "writing": 0.10,
        "music": 0.07,
        "games": 0.05,
    }
    assert set(cfg.creators.categories) == set(CATEGORIES)
    assert [cfg.creators.size_tiers[t].share for t in SIZE_TIERS] == [0.60, 0.30, 0.10]
    c = cfg.churn.by_tenure
    # model hazards, tuned so the measured churn by tenure is the seed's 25/12/6/3% with the anomalies on
    hazards = (c.month_1, c.months_2_3, c.months_4_12, c.months_13_plus)
    assert all(abs(h - seed) <= 0.2 * seed for h, seed in zip(hazards, (0.25, 0.12, 0.06, 0.03)))
    assert all(cfg.anomalies.model_dump()[name]["enabled"] for name in cfg.anomalies.model_dump())
    assert cfg.payments.first_attempt_failure == 0.08
    # engagement odds are calibrated so measured rates hit 30/50/70% (checked by validate at 1x)
    odds = [cfg.engagement.by_tier[r] for r in (1, 2, 3)]
    assert odds[0] == 0.30 and odds == sorted(odds) and 0.50 <= odds[1] < 0.6 and 0.70 <= odds[2] < 0.85


def test_default_price_points_sit_in_the_seeds_bands():
    bands = {1: (2, 5), 2: (7, 15), 3: (20, 50), 4: (75, 150)}
    prices = load_config().tiers.prices
    for rank, (lo, hi) in bands.items():
        assert prices[rank] and all(lo <= p <= hi for p in prices[rank]), (rank, prices[rank])


def test_default_shares_sum_to_one():
    cfg = load_config()
    groups = [
        cfg.creators.categories.values(),
        [t.share for t in cfg.creators.size_tiers.values()],
        [p.share for p in cfg.creators.plan_types.values()],
        cfg.payments.failure_reasons.values(),
        cfg.payments.methods.values(),
        cfg.payments.billing_day_weights,
        cfg.engagement.event_types.values(),
        cfg.posts.access.values(),
        *cfg.tiers.patron_share_by_tier_count.values(),
    ]
    for g in groups:
        assert math.isclose(sum(g), 1.0, abs_tol=1e-9), g


def test_overrides_scale_the_counts():
    cfg = load_config(scale=0.1, seed=7)
    assert (cfg.seed, cfg.scale, cfg.n_creators, cfg.n_patrons) == (7, 0.1, 50, 1_500)
    assert load_config(scale=10).n_creators == 5_000
    assert load_config(scale=1e-6).n_creators == 1  # never zero creators
    # None means "not given on the command line"
    assert load_config(seed=None).seed == 42


def test_config_is_immutable():
    cfg = load_config()
    with pytest.raises(Exception):
        cfg.seed = 1  # type: ignore[misc]


def test_user_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "user.yaml"
    path.write_text("seed: 9\npayments:\n  first_attempt_failure: 0.1\n", encoding="utf-8")
    cfg = load_config(path)
    default = load_config()
    assert cfg.seed == 9 and cfg.payments.first_attempt_failure == 0.1
    assert cfg.payments.retry_days == default.payments.retry_days  # deep merge keeps siblings
    assert cfg.creators == default.creators
    # command-line overrides win over the file
    assert load_config(path, seed=3).seed == 3


def test_empty_user_file_means_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert load_config(path) == load_config()


# ---------------------------------------------------------------------------------------------
# errors: one line, a ConfigError, naming the field


def test_unknown_top_level_key(tmp_path):
    msg = _error(tmp_path, colour="blue")
    assert "unknown key" in msg and "colour" in msg


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        pytest.param(
            "payments:\n  retry_dayz: [1, 2]\n",
            ("unknown key", "payments.retry_dayz"),
            id="unknown-nested-key",
        ),
        pytest.param(
            "payments:\n  first_attempt_failure: 1.5\n",
            ("payments.first_attempt_failure", "1.5"),
            id="probability-above-one",
        ),
        pytest.param(
            "churn:\n  by_tenure:\n    month_1: -0.1\n",
            ("churn.by_tenure.month_1",),
            id="negative-probability",
        ),
        pytest.param(
            "creators:\n  categories:\n    podcasts: 0.35\n",
            ("categories", "sum to 1", "1.1"),
            id="weights-not-one",
        ),
        pytest.param(
            "creators:\n  categories:\n    anime: 0.0\n", ("categories", "anime"), id="unknown-category"
        ),
        pytest.param(
            "tiers:\n  prices:\n    2: [4, 8, 10]\n", ("prices", "tier 1", "tier 2"), id="prices-out-of-order"
        ),
        pytest.param(
            "tiers:\n  patron_share_by_tier_count:\n    3: [0.5, 0.5]\n",
            ("patron_share_by_tier_count.3",),
            id="shares-wrong-length",
        ),
        pytest.param("scale: -2.5\n", ("scale", "-2.5"), id="negative-scale-in-file"),
        pytest.param(
            "window:\n  start: 2023-01-15\n", ("window.start", "first day"), id="window-not-on-first"
        ),
        pytest.param(
            "payments:\n  retry_days: [3, 1, 5, 12]\n", ("retry_days",), id="retry-days-not-increasing"
        ),
        pytest.param("volumes:\n  creators: lots\n", ("volumes.creators", "lots"), id="wrong-type"),
    ],
)
def test_bad_value_is_named_in_one_line(tmp_path, yaml_text, expected):
    msg = _error(tmp_path, yaml_text)
    assert all(part in msg for part in expected), msg


@pytest.mark.parametrize("scale", [-1, 0])
def test_scale_must_be_positive(tmp_path, scale):
    msg = _error(tmp_path, scale=scale)
    assert msg.startswith("config: scale") and repr(scale) in msg


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    msg = _error(tmp_path, "seed: 1\npayments: [unclosed\n")
    assert "user.yaml" in msg and "not valid YAML" in msg and "line" in msg


def test_missing_conf_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    msg = str(info.value)
    assert "\n" not in msg and "--conf" in msg and "nope.yaml" in msg and "cannot read" in msg


def test_conf_path_that_is_a_directory(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    msg = str(info.value)
    assert "\n" not in msg and "cannot read" in msg and str(tmp_path) in msg


def test_conf_file_that_is_not_a_mapping(tmp_path):
    msg = _error(tmp_path, "- 1\n- 2\n")
    assert "mapping" in msg and "list" in msg


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)
