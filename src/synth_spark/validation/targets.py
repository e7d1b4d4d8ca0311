"""The platform's statistical targets, each measured per calendar month and judged against its
tolerance. A target that cannot hold together with the target row volumes is
reported with what was achieved and never counted as a failure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_spark.config import Config
from synth_spark.validation.metrics import Dataset
from synth_spark.validation.panel import TENURE_BUCKETS
from synth_spark.validation.size_tiers import size_tier_checks
from synth_spark.validation.verdicts import FAIL, INFO, PASS, Check, _pct, _within
from synth_spark.vocabulary import CATEGORIES, SIZE_TIERS

#: the target churn by tenure (1st month, 2-3, 4-12, 13+); the model's hazards in conf/ are tuned to hit these
SEED_TENURE_CHURN = (0.25, 0.12, 0.06, 0.03)


def trend_uplift(series: pd.Series, months: pd.Series, seasonal: set[int], excluded: set[int]) -> pd.Series:
    """observed / trend - 1, with a least-squares line fitted to February-September of every year
    (minus this metric's own seasonal months and anomaly months)."""
    moy = months.dt.month
    fit = moy.between(2, 9) & ~moy.isin(seasonal) & ~series.index.isin(list(excluded))
    slope, intercept = np.polyfit(series.index[fit].astype(float), series[fit].astype(float), 1)
    trend = intercept + slope * series.index.astype(float)
    return series / trend - 1


def evaluate(
    ds: Dataset,
    cfg: Config,
    latent: dict[str, np.ndarray] | None,
    anomaly_months: set[int] = frozenset(),
    touched=None,
) -> tuple[list[Check], dict]:
    """Every check, plus the frames the charts are drawn from. ``latent``: each creator's latent size
    and joining month as the dataset's manifest records them (None for a dataset that does not:
    its size-tier checks are then reported as not measurable, never re-planned). ``touched``: the
    creator-months scenario instances act on, left out of the growth by size."""
    checks: list[Check] = []
    add = checks.append
    monthly = ds.monthly()
    monthly.index = monthly["m"]

    churn = float(monthly["churn_rate"].mean())
    add(
        Check(
            "churn",
            "monthly patron churn, average of 24 months",
            "6-8%",
            "6.0% to 8.0%",
            _pct(churn),
            _within(churn, 0.06, 0.08),
            churn,
        )
    )
    ended_all = float((monthly["ended"] / monthly["active"]).mean())
    add(
        Check(
            "churn",
            "monthly churn including pledges ended by creator departures",
            "-",
            "-",
            _pct(ended_all),
            INFO,
            ended_all,
        )
    )
    tenure = ds.churn_by_tenure().set_index("tenure")["churn_rate"]
    for bucket, target in zip(TENURE_BUCKETS, SEED_TENURE_CHURN):
        v = float(tenure.get(bucket, float("nan")))
        add(
            Check(
                "churn",
                f"churn by tenure: {bucket.replace('_', ' ')}",
                _pct(target),
                "±2 pp",
                _pct(v),
                _within(v, target - 0.02, target + 0.02),
                v,
            )
        )
    reasons = ds.churn_reasons().set_index("churn_reason")["share"]
    for reason, target in (("voluntary", 0.55), ("payment_failed", 0.35), ("creator_removed", 0.10)):
        v = float(reasons.get(reason, 0.0))
        add(
            Check(
                "churn",
                f"patron churn reason share: {reason}",
                _pct(target),
                "±5 pp",
                _pct(v),
                _within(v, target - 0.05, target + 0.05),
                v,
            )
        )

    pay = ds.payments()
    add(
        Check(
            "payments",
            "first-attempt payment success",
            "~92%",
            "91.0% to 93.0%",
            _pct(pay["first_attempt_success"]),
            _within(pay["first_attempt_success"], 0.91, 0.93),
            pay["first_attempt_success"],
        )
    )
    add(
        Check(
            "payments",
            "failed billings recovered by a retry within 7 days",
            "60%",
            "55% to 65%",
            _pct(pay["recovered_within_7_days"]),
            _within(pay["recovered_within_7_days"], 0.55, 0.65),
            pay["recovered_within_7_days"],
        )
    )
    add(
        Check(
            "payments",
            "payment transactions on days 1-3 of the month",
            "70%",
            "65% to 75%",
            _pct(pay["share_on_days_1_3"]),
            _within(pay["share_on_days_1_3"], 0.65, 0.75),
            pay["share_on_days_1_3"],
        )
    )
    expiry = ds.card_expiry_by_month().set_index("month_of_year")["card_expired_rate"]
    with np.errstate(invalid="ignore", divide="ignore"):  # no card expired at all (a tiny dataset): nan
        peak = float(expiry.loc[[12, 1]].mean() / expiry.drop([12, 1]).mean())
    add(
        Check(
            "payments",
            "card-expired declines, Dec+Jan vs other months",
            "peak in Dec/Jan",
            ">= 1.5x",
            f"{peak:.2f}x",
            PASS if peak >= 1.5 else FAIL,
            peak,
        )
    )

    mrr = monthly["mrr"].astype(float)
    growth = float(mrr.iloc[-1] / mrr.iloc[0])
    add(
        Check(
            "growth",
            "platform MRR, last month / first month",
            "~1.5x",
            "1.40 to 1.60",
            f"{growth:.3f}x",
            _within(growth, 1.40, 1.60),
            growth,
        )
    )
    revenue = ds.revenue_by_creator()
    n_top = max(1, round(0.1 * cfg.n_creators))
    top_share = float(revenue["revenue"].iloc[:n_top].sum() / revenue["revenue"].sum())
    add(
        Check(
            "growth",
            "revenue share of the top 10% of creators",
            "60%",
            "55% to 65%",
            _pct(top_share),
            _within(top_share, 0.55, 0.65),
            top_share,
        )
    )

    q4 = trend_uplift(monthly["new_pledges"].astype(float), monthly["month"], {10, 11, 12, 1}, anomaly_months)
    q4_v = float(q4[monthly["month"].dt.month.isin([10, 11, 12])].mean())
    add(
        Check(
            "seasonality",
            "Q4 new pledges vs trend",
            "+15% to +25%",
            "+15% to +25%",
            f"{100 * q4_v:+.1f}%",
            _within(q4_v, 0.15, 0.25),
            q4_v,
        )
    )
    jan = trend_uplift(
        monthly["new_patrons"].astype(float), monthly["month"], {10, 11, 12, 1}, anomaly_months
    )
    januaries = monthly["month"].dt.month == 1
    jan_v = float(jan[januaries].mean())
    # the Januaries' new patrons are Poisson counts: their sum's relative noise is 1/sqrt(sum)
    jan_se = (1 + jan_v) / np.sqrt(max(float(monthly.loc[januaries, "new_patrons"].sum()), 1.0))
    add(
        Check(
            "seasonality",
            "January new patrons vs trend",
            "+10%",
            "+5% to +15%",
            f"{100 * jan_v:+.1f}%",
            _within(jan_v, 0.05, 0.15, counting_se=jan_se),
            jan_v,
        )
    )
    summer = trend_uplift(
        monthly["engagement_rate"].astype(float), monthly["month"], {6, 7, 8}, anomaly_months
    )
    summer_v = float(summer[monthly["month"].dt.month.isin([6, 7, 8])].mean())
    add(
        Check(
            "seasonality",
            "June-August engagement rate vs trend",
            "-5% to -10%",
            "-10% to -5%",
            f"{100 * summer_v:+.1f}%",
            _within(summer_v, -0.10, -0.05),
            summer_v,
        )
    )

    by_tier = ds.engagement_by_tier().set_index("tier_group")["engagement_rate"]
    for group, target in ((1, 0.30), (2, 0.50), (3, 0.70)):
        v = float(by_tier.get(group, float("nan")))
        label = "3+" if group == 3 else str(group)
        add(
            Check(
                "engagement",
                f"monthly engagement rate, pricing tier {label}",
                _pct(target),
                "±5 pp",
                _pct(v),
                _within(v, target - 0.05, target + 0.05),
                v,
            )
        )
    ec = ds.engagement_vs_next_churn()
    add(
        Check(
            "engagement",
            "next-month churn: not engaged / engaged",
            "inverse correlation",
            ">= 1.5",
            f"{ec['ratio']:.2f}x",
            PASS if ec["ratio"] >= 1.5 else FAIL,
            ec["ratio"],
        )
    )
    add(
        Check(
            "engagement",
            "pledge-level correlation of events and next-month churn",
            "negative",
            "< 0",
            f"{ec['correlation']:+.3f}",
            PASS if ec["correlation"] < 0 else FAIL,
            ec["correlation"],
        )
    )
    posting = ds.churn_by_posting().set_index("posting")["churn_rate"]
    # a small dataset (or one quarter of it, validation/noise.py) can lack a posting group entirely
    base = np.float64(posting.get("1-3", np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        frequent, rare = (
            float(np.float64(posting.get("4+", np.nan)) / base),
            float(np.float64(posting.get("<1", np.nan)) / base),
        )
    add(
        Check(
            "engagement",
            "churn, creators posting 4+/month vs 1-3",
            "40% lower",
            "<= 0.70",
            f"{frequent:.2f}x",
            PASS if frequent <= 0.70 else FAIL,
            frequent,
        )
    )
    add(
        Check(
            "engagement",
            "churn, creators posting <1/month vs 1-3",
            "2x higher",
            ">= 1.6",
            f"{rare:.2f}x",
            PASS if rare >= 1.6 else FAIL,
            rare,
        )
    )
    by_cat = ds.engagement_by_category()
    add(
        Check(
            "engagement",
            "category with the highest engagement rate",
            "video",
            "video first",
            str(by_cat["category"].iloc[0]),
            PASS if by_cat["category"].iloc[0] == "video" else FAIL,
        )
    )

    cat = ds.category_mix().set_index("category")["share"]
    for c in CATEGORIES:
        target = cfg.creators.categories.get(c, 0.0)
        v = float(cat.get(c, 0.0))
        add(
            Check(
                "mix",
                f"creators in category {c}",
                _pct(target),
                "±3 pp",
                _pct(v),
                _within(v, target - 0.03, target + 0.03),
                v,
            )
        )
    if latent is not None:
        sizes = np.bincount(latent["size_code"], minlength=3) / len(latent["size_code"])
        for code, tier in enumerate(SIZE_TIERS):
            target = cfg.creators.size_tiers[tier].share
            add(
                Check(
                    "mix",
                    f"creators of latent size {tier}",
                    _pct(target),
                    "±2 pp",
                    _pct(sizes[code]),
                    _within(float(sizes[code]), target - 0.02, target + 0.02),
                    float(sizes[code]),
                )
            )
    mix = ds.pricing_tier_mix().set_index("tier_rank")["share"]
    for rank, target in ((1, 0.50), (2, 0.35), (3, 0.12), (4, 0.03)):
        v = float(mix.get(rank, 0.0))
        add(
            Check(
                "mix",
                f"pledges in pricing tier {rank}",
                _pct(target),
                "±4 pp",
                _pct(v),
                _within(v, target - 0.04, target + 0.04),
                v,
            )
        )

    frames = {
        "monthly": monthly,
        "revenue": revenue,
        "reasons_by_month": ds.churn_reasons_by_month(),
        "success_by_day": ds.payment_success_by_day(),
    }
    if latent is not None:
        checks += size_tier_checks(ds, latent, touched)
    else:
        add(
            Check(
                "mix",
                "latent creator sizes and growth by size",
                "-",
                "-",
                "not recorded in this dataset's manifest (generated by an older synth-spark)",
                INFO,
            )
        )
    return checks, frames
