"""Scores each injected anomaly of the ground-truth table the way a root-cause tool would meet it.

For every anomaly two questions are answered from the data alone (the ground truth is used only to
know where to look and what the right answer is):

* signal: is the metric the anomaly moves out of line in its window, against the same metric
  outside it?  Measured as a robust z-score (median and MAD of the other months or days), or for
  the persistent category collapse as the shortfall against the category's own trend.
* drill-down: decompose the metric's change by dimension (creator, category, failure reason, churn
  reason, day) against a baseline, rank the contributors, and check that the injected root cause is
  the largest.

Run on a control dataset (same seed, anomalies off) with the ground truth of the real one, the same
scoring must find no signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from synth_spark.validation import segment_scoring
from synth_spark.validation.aggregates import PATRON_REASONS, Aggregates
from synth_spark.validation.drilldown import Drilldown, rank, rank_in_spark
from synth_spark.validation.metrics import Dataset
from synth_spark.validation.robust import Z_DETECTED, count_ratio_spread, robust_z
from synth_spark.validation.score_card import Score, month_dates, monthly_series, mrr_moves
from synth_spark.validation.shapes import shape

#: how a failing payment processor shows in the data: a decline reason the platform sees on any day
OUTAGE_SIGNATURE = "processing_error"


# -- one scorer per anomaly type ------------------------------------------------------------------


def score_viral(row, agg: Aggregates, skip: set[int]) -> Score:
    ds = agg.ds
    m = ds.month_of(row.start_at)
    moves = mrr_moves(agg)
    # New pledges are the anomaly's first footprint; MRR follows with what the new patrons keep.
    new_all = agg.platform()["new_pledges"].astype(float)
    steady = [x for x in range(1, ds.months) if x not in skip | {m} and 2 <= x % 12 + 1 <= 9]
    growth = new_all.pct_change()
    z = robust_z(growth[m], growth.loc[steady])
    delta = agg.creator_delta(m)
    by_cat = (
        delta.groupBy("category")
        .agg(F.sum("delta").alias("delta"))
        .toPandas()
        .set_index("category")["delta"]
        .fillna(0.0)
    )
    creators = rank_in_spark(delta, "creator_id", "delta", +1)
    return Score(
        int(row.anomaly_id),
        row.anomaly_type,
        row.investigation_question,
        row.expected_root_cause,
        f"new pledges {100 * growth[m]:+.1f}% on the month before (steady months: median "
        f"{100 * growth.loc[steady].median():+.1f}%), robust z {z:.1f}; platform MRR month-over-month "
        f"{100 * moves[m]:+.1f}% (other months: median {100 * moves.drop([0, m]).median():+.1f}%)",
        float(moves[m]),
        bool(z >= Z_DETECTED),
        "creator",
        creators[0].value == str(row.creator_ids),
        [
            Drilldown(
                "creator",
                "MRR change from the start month to the end's vs its prior average change (USD)",
                creators,
            ),
            Drilldown(
                "creator",
                "new pledges vs its prior 3-month average",
                rank_in_spark(agg.new_pledges_change(m), "creator_id", "change", +1),
            ),
            Drilldown("category", "MRR change vs prior average (USD)", rank(by_cat, +1)),
        ],
        monthly_series(agg, {"platform MRR": None, f"creator {row.creator_ids} MRR": [str(row.creator_ids)]}),
    )


def score_outage(row, agg: Aggregates, skip: set[int]) -> Score:
    d = agg.daily_payments()
    first = d[d["transaction_type"] == "payment"]
    per_day = first.groupby("day")["n"].sum()
    failed = first[first["transaction_status"] == "failed"]
    fail_rate = failed.groupby("day")["n"].sum().reindex(per_day.index, fill_value=0) / per_day
    days = pd.date_range(pd.Timestamp(row.start_at).normalize(), pd.Timestamp(row.end_at).normalize()).date
    inside = [x for x in per_day.index if x in set(days)]
    # Days with few attempts are noisy: compare against days with at least as many attempts as the
    # window's lightest day has.
    floor = max(20, int(per_day.loc[inside].min() * 0.5)) if inside else 20
    others = fail_rate[(per_day >= floor) & ~fail_rate.index.isin(inside)]
    window_rate = (
        float(failed[failed["day"].isin(inside)]["n"].sum() / per_day.loc[inside].sum())
        if inside
        else float("nan")
    )
    z = robust_z(window_rate, others)
    base = (
        failed[~failed["day"].isin(inside)].groupby("failure_reason")["n"].sum() / per_day.drop(inside).sum()
    )
    win = failed[failed["day"].isin(inside)].groupby("failure_reason")["n"].sum() / per_day.loc[inside].sum()
    reasons = rank(
        (
            win.reindex(base.index.union(win.index), fill_value=0)
            - base.reindex(base.index.union(win.index), fill_value=0)
        ),
        +1,
    )
    # Days by how far their declines exceed the usual rate, in binomial standard errors, so that
    # neither a quiet day's noise nor a billing day's volume wins by itself.
    p0 = float(others.median())
    excess_days = rank((fail_rate - p0) * per_day / np.sqrt(per_day * p0 * (1 - p0)), +1)
    return Score(
        int(row.anomaly_id),
        row.anomaly_type,
        row.investigation_question,
        row.expected_root_cause,
        f"first-attempt decline rate {100 * window_rate:.1f}% on {len(inside)} day(s) "
        f"(other days: median {100 * float(others.median()):.1f}%), robust z {z:.1f}; "
        "revenue on {0} {1:+.0%} against the same day of the 3 months before and after".format(
            *_first_day_revenue_change(d, days)
        ),
        window_rate,
        bool(z >= Z_DETECTED),
        "failure_reason",
        reasons[0].value == OUTAGE_SIGNATURE,
        [
            Drilldown(
                "failure_reason",
                "decline rate in the window minus outside (share of first attempts)",
                reasons,
            ),
            Drilldown("day", "declines above the usual rate (binomial z)", excess_days),
        ],
        pd.DataFrame(
            {
                "x": pd.to_datetime(pd.Series(per_day.index)),
                "first-attempt decline rate (%)": 100 * fail_rate.to_numpy(),
                "first attempts": per_day.to_numpy(),
            }
        ).pipe(lambda f: f[f["first attempts"] >= floor]),
    )


def _first_day_revenue_change(daily: pd.DataFrame, days) -> tuple[str, float]:
    """The outage's first day: successful gross against the same day of month in the three months
    before and after it (near months, so the platform's growth hardly counts); the question asked
    asks about that day."""
    ok = daily[daily["transaction_status"] == "succeeded"].groupby("day")["gross"].sum()
    ok.index = pd.to_datetime(pd.Series(ok.index))
    first = pd.Timestamp(min(days))
    near = [first + pd.DateOffset(months=k) for k in (-3, -2, -1, 1, 2, 3)]
    base = [float(ok[d]) for d in near if d in ok.index]
    label = f"{first:%b} {first.day}"
    return label, (float(ok.get(first, 0.0)) / float(np.mean(base)) - 1) if base else float("nan")


def score_holiday(row, agg: Aggregates, skip: set[int]) -> Score:
    ds, e = agg.ds, agg.ends()
    m = ds.month_of(row.start_at)
    cells = ["tenure", "engaged_before", "posting"]
    base = e[~e["m"].isin(skip | {m})].groupby(cells)[["active", *PATRON_REASONS]].sum()

    def against_expected(reason: str) -> tuple[pd.Series, pd.Series]:
        """A reason's churn in each month against what the month's pledges (their ages, engagement
        and creators' posting) predict at the rates of the months no anomaly touches."""
        rate = (base[reason] / base["active"]).rename("rate")
        x = e.join(rate, on=cells)
        by_month = x.assign(expected=x["active"] * x["rate"]).groupby("m")[[reason, "expected"]].sum()
        return by_month[reason] / by_month["expected"] - 1, by_month["expected"]

    fitted = {r: against_expected(r) for r in PATRON_REASONS}
    ratios = {r: f[0] for r, f in fitted.items()}
    others = lambda s: s.drop(list(skip | {m}), errors="ignore")  # noqa: E731
    ordinary = others(ratios["voluntary"])
    spread = count_ratio_spread(ordinary, float(fitted["voluntary"][1][m]))
    z = (float(ratios["voluntary"][m]) - float(ordinary.median())) / spread
    # Which reason made the spike: each reason's excess over the month before, which shares the
    # card-expiry season (December-January) and the pledge base, in pledges.
    prev = m - 1 if m - 1 in ratios["voluntary"].index else m + 1
    excess = pd.Series({r: (ratios[r][m] - ratios[r][prev]) * fitted[r][1][m] for r in PATRON_REASONS})
    reasons = rank(excess, +1)
    ratio = ratios["voluntary"]
    return Score(
        int(row.anomaly_id),
        row.anomaly_type,
        row.investigation_question,
        row.expected_root_cause,
        f"voluntary churn {100 * ratio[m]:+.1f}% against what the month's pledges predict "
        f"(other months: median {100 * others(ratio).median():+.1f}%), robust z {z:.1f}",
        float(ratio[m]),
        bool(z >= Z_DETECTED),
        "churn_reason",
        reasons[0].value == "voluntary",
        [
            Drilldown(
                "churn_reason",
                "pledges ended beyond the month before, each against what the month's pledges predict",
                reasons,
            )
        ],
        pd.DataFrame(
            {
                "x": month_dates(ds),
                "voluntary churn vs expected (%)": 100 * ratio.reindex(range(ds.months)).to_numpy(),
                "payment-failed churn vs expected (%)": 100
                * ratios["payment_failed"].reindex(range(ds.months)).to_numpy(),
            }
        ),
        noise_floor=Z_DETECTED * spread,
    )


def _months_named(ds, first: int, last: int) -> str:
    """Window months by name ("June 2024", "June to July 2024"), never by a number counted from 0 or 1."""
    at = [pd.Timestamp(ds.start) + pd.DateOffset(months=k) for k in (first, last)]
    if first == last:
        return f"{at[0]:%B %Y}"
    return f"{at[0]:%B} to {at[1]:%B %Y}" if at[0].year == at[1].year else f"{at[0]:%B %Y} to {at[1]:%B %Y}"


def score_exodus(row, agg: Aggregates, skip: set[int]) -> Score:
    ds = agg.ds
    m = ds.month_of(row.start_at)
    last = min(ds.month_of(row.end_at), ds.months - 1)
    # Over the months the audiences end in (a creator leaving late in a month loses most of its MRR
    # the next): the platform's MRR change across them, against every other span of as many months.
    mrr = agg.platform()["mrr"]
    span = last - m + 1
    moves = mrr / mrr.shift(span) - 1  # indexed by the span's last month
    z = robust_z(
        moves[last], moves.drop([k for k in range(last - span + 1, last + span) if k in moves.index])
    )
    delta = agg.creator_delta(m, last=last)
    expected = set(str(row.creator_ids).split(";"))
    creators = rank_in_spark(delta, "creator_id", "delta", -1, n=max(3, len(expected)))
    # Pledges ended this month against the creator's prior 3-month average: the departures show
    # as whole audiences ending, whatever reason each pledge records.
    ended_rank = rank_in_spark(agg.ended_change(m), "creator_id", "change", +1, n=max(3, len(expected)))
    return Score(
        int(row.anomaly_id),
        row.anomaly_type,
        row.investigation_question,
        row.expected_root_cause,
        f"platform MRR {100 * moves[last]:+.1f}% over {_months_named(ds, m, last)} (other spans of {span}: median "
        f"{100 * moves.drop([last]).median():+.1f}%), robust z {z:.1f}",
        float(moves[last]),
        bool(z <= -Z_DETECTED),
        "creator",
        {c.value for c in creators[: len(expected)]} == expected,
        [
            Drilldown(
                "creator",
                "MRR change from the start month to the end's vs its prior average change (USD)",
                creators,
            ),
            Drilldown("creator", "pledges ended vs its prior 3-month average", ended_rank),
        ],
        monthly_series(agg, {"platform MRR": None, "departing creators' MRR": sorted(expected)}),
    )


def score_collapse(row, agg: Aggregates, skip: set[int]) -> Score:
    ds, bmc, e = agg.ds, agg.by_month_and_category(), agg.ends()
    m0, last = ds.month_of(row.start_at), ds.months - 1
    before, after = range(max(0, m0 - 12), m0), range(m0, last + 1)

    def did(frame: pd.DataFrame, events: str, exposure: str) -> pd.Series:
        """Each category's events after the start against what its own rate before, moved by the
        other categories' change, predicts: a Poisson z-score."""
        g = frame.groupby([frame["m"] >= m0, "category"])[[events, exposure]].sum()
        pre = g.loc[False]
        # a category with no pledges left after the start has no rows there: zero events, zero exposure
        post = (
            g.loc[True].reindex(pre.index, fill_value=0) if True in g.index.get_level_values(0) else pre * 0
        )
        out = {}
        for cat in pre.index:
            rest_pre, rest_post = pre.drop(cat).sum(), post.drop(cat).sum()
            drift = (rest_post[events] / rest_post[exposure]) / (rest_pre[events] / rest_pre[exposure])
            expected = post.loc[cat, exposure] * pre.loc[cat, events] / pre.loc[cat, exposure] * drift
            out[cat] = (post.loc[cat, events] - expected) / np.sqrt(max(expected, 1.0))
        return pd.Series(out)

    window = lambda f: f[f["m"].isin(list(before) + list(after))]  # noqa: E731
    churn_z = did(window(e), "churned", "active")
    new = bmc[["m", "category", "new_pledges", "active"]].rename(columns={"active": "exposure"})
    arrivals_z = did(window(new), "new_pledges", "exposure")
    # The size of the effect: the category's MRR in the last month against its log-linear trend before.
    mrr = (
        bmc[bmc["category"] == row.category]
        .groupby("m")["mrr"]
        .sum()
        .reindex(range(ds.months), fill_value=0.0)
    )
    x = np.array(before, dtype=float)
    slope, icpt = np.polyfit(x, np.log(np.maximum(mrr.loc[list(before)].to_numpy(float), 1.0)), 1)
    gap = float(mrr.loc[last] / np.exp(icpt + slope * last) - 1)
    combined = (churn_z - arrivals_z) / np.sqrt(2)
    categories = rank(combined, +1)
    return Score(
        int(row.anomaly_id),
        row.anomaly_type,
        row.investigation_question,
        row.expected_root_cause,
        f"{row.category} from {_months_named(ds, m0, m0)}: churn z {churn_z.get(row.category, float('nan')):+.1f}, new "
        "pledges z "
        f"{arrivals_z.get(row.category, float('nan')):+.1f} against its rates before and the other "
        "categories; "
        f"last month's MRR {100 * gap:+.1f}% against its trend",
        float(combined.get(row.category, float("nan"))),
        bool(combined.get(row.category, 0.0) >= Z_DETECTED),
        "category",
        categories[0].value == str(row.category),
        [
            Drilldown("category", "more churn and fewer new pledges than predicted (combined z)", categories),
            Drilldown("category", "churn after the start vs predicted (z)", rank(churn_z, +1)),
            Drilldown("category", "new pledges after the start vs predicted (z)", rank(arrivals_z, -1)),
        ],
        pd.DataFrame(
            {
                "x": month_dates(ds),
                f"{row.category} MRR": mrr.to_numpy(),
                "trend before the start": np.exp(icpt + slope * np.arange(ds.months)),
            }
        ),
    )


SCORERS = {
    "viral_spike": score_viral,
    "payment_outage": score_outage,
    "holiday_churn": score_holiday,
    "creator_exodus": score_exodus,
    "category_collapse": score_collapse,
}


def ground_truth(ds: Dataset) -> pd.DataFrame:
    """The dataset's ground truth (its anomalies table, or the truth file put in its place by
    :func:`with_truth_apart`), one row per instance."""
    return ds.tables["anomalies"].orderBy("anomaly_id").toPandas()


def with_truth_apart(ds: Dataset, rows: list[dict]) -> None:
    """Put the ``rows`` of a truth kept apart (generate --truth-out) where the dataset's own empty
    anomalies table is, so every measure that leaves an instance's rows out (the departed creators'
    audiences, the viral cohort) reads the same truth as the scoring; the data stay as they are."""
    import datetime as dt

    from synth_spark.vocabulary import GROUND_TRUTH, columns, ddl

    def ts(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)

    data = [
        tuple(ts(r[c]) if c in ("start_at", "end_at") else r.get(c) for c in columns(GROUND_TRUTH))
        for r in rows
    ]
    ds.tables[GROUND_TRUTH] = ds.spark.createDataFrame(data, ddl(GROUND_TRUTH))


def anomaly_months(ds: Dataset, truth: pd.DataFrame) -> set[int]:
    """Window months an anomaly touches: left out of the trends of the seasonality checks."""
    out: set[int] = set()
    for row in truth.itertuples():
        if not segment_scoring.acts(row):
            continue  # a decoy's months are ordinary ones
        out.update(range(max(0, ds.month_of(row.start_at)), min(ds.months - 1, ds.month_of(row.end_at)) + 1))
    return out


def scored(row) -> bool:
    """Whether ``validate`` has a detector for this anomaly: one of its own for each of the five
    default types, and the segment detector for an instance of the catalogue whose truth names
    its segment (a dataset from before the column has none)."""
    return row.anomaly_type in SCORERS or (
        row.anomaly_type in segment_scoring.KPI and isinstance(getattr(row, "segment", None), str)
    )


def score(
    ds: Dataset, truth: pd.DataFrame, latent: dict | None = None, agg: Aggregates | None = None
) -> list[Score]:
    """Each anomaly of ``truth`` scored on ``ds``; ``agg``: its aggregates, when the caller reads
    them too (validate's realised effects), so that they are computed once."""
    agg, counts = agg or Aggregates(ds), segment_scoring.SegmentCounts(ds, latent)
    out = []
    for row in truth.itertuples():
        if not scored(row):
            continue  # anomaly_verdicts.unscored says so
        if row.anomaly_type not in SCORERS:
            sc = segment_scoring.score_instance(row, counts, segment_scoring.others(ds, row, truth))
            level = getattr(row, "difficulty", None)
            sc.difficulty = level if isinstance(level, str) else None
            sc.window = (
                pd.Timestamp(row.start_at).tz_localize(None),
                pd.Timestamp(row.end_at).tz_localize(None),
            )
            out.append(sc)
            continue
        # The other anomalies' months are no baseline for this one.
        skip = anomaly_months(ds, truth[truth["anomaly_id"] != row.anomaly_id])
        sc = SCORERS[row.anomaly_type](row, agg, skip)
        sc.window = (pd.Timestamp(row.start_at).tz_localize(None), pd.Timestamp(row.end_at).tz_localize(None))
        sc.shape = shape(ds, row)
        out.append(sc)
    return out
