"""One detector for every instance of the catalogue: the KPI its type moves, counted in its segment and
window, against what the rest of the platform predicts.

The count of the segment (new pledges, voluntary cancellations or posts of its creators per month;
declined first attempts or recovered retries of its payers per day) is compared with the rest of the
platform: over the baseline around the window the segment makes a steady share of the whole, so the
rest's count in the window, times that share, is what the segment would have done. The difference
is measured in standard errors: the count's own noise (Poisson, or binomial for a rate), widened by
how much more the baseline's periods scatter than that noise allows, and by the uncertainty of the
share. A signal of ``Z_DETECTED`` standard errors in the type's direction is found.

The drill-down asks the same of every value of each dimension the truth's segment names (every
category, say, or every pair of category and country) and ranks them: the root cause is found when
the instance's own segment ranks first. It is told which dimensions to look in, as the drill-downs
of the five default anomalies are; which value, and whether the single or the paired one, it is not.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from synth_spark.config.scenario_settings import MONTHLY
from synth_spark.validation.drilldown import Drilldown, rank
from synth_spark.validation.metrics import Dataset
from synth_spark.validation.panel import month_index
from synth_spark.validation.robust import Z_DETECTED, robust_spread
from synth_spark.validation.score_card import Score, month_dates
from synth_spark.vocabulary import SIZE_TIERS

#: each type's KPI (the one placement sizes it by) and the direction it moves it
KPI = {
    "competitor_launch": ("new_pledges", -1),
    "promotion": ("new_pledges", +1),
    "policy_change": ("new_pledges", -1),
    "churn_wave": ("voluntary_churn", +1),
    "posting_slump": ("posts", -1),
    "payment_method_failure": ("decline_rate", +1),
    "card_reissue_wave": ("decline_rate", +1),
    "retry_degradation": ("retry_recovery_rate", -1),
    "mix_shift": ("new_pledges", +1),
}
#: the segment's columns in the tables (size is the plan's latent size, read from the manifest)
CREATOR_COLUMNS = {
    "category": "category",
    "country": "country_code",
    "currency": "currency_code",
    "plan_type": "plan_type",
    "nsfw": "is_nsfw",
    "verified": "is_verified",
    "creator_id": "creator_id",
}
#: the KPIs counted per month (the others are rates per day)
COUNTS = ("new_pledges", "voluntary_churn", "posts")
#: periods of baseline before the window, and after it
MONTHS_BEFORE, MONTHS_AFTER = 6, 3
DAYS_BEFORE, DAYS_AFTER = 60, 30


def expected_against_rest(seg: pd.Series, rest: pd.Series, inside, baseline, trials=None) -> tuple:
    """The segment's count in the window, what the rest predicts for it, and the standard error of
    the difference. ``seg`` and ``rest`` are per period; with ``trials`` (attempts per period of the
    segment and the rest) the KPI is a rate, and a period's noise is binomial."""
    if trials is None:
        share = seg[baseline].sum() / max(rest[baseline].sum(), 1.0)
        expected_per = rest * share
        var_per = expected_per
        base_events = seg[baseline].sum()
    else:
        seg_n, rest_n = trials
        p_seg = seg[baseline].sum() / max(seg_n[baseline].sum(), 1.0)
        p_rest = rest[baseline].sum() / max(rest_n[baseline].sum(), 1.0)
        # the segment's rate moves with the rest's (a season of expired cards, say)
        p = (rest / rest_n.where(rest_n > 0)).fillna(p_rest) * (p_seg / p_rest if p_rest > 0 else 1.0)
        p = p.clip(1e-6, 1 - 1e-6)
        expected_per = seg_n * p
        var_per = seg_n * p * (1 - p)
        base_events = seg[baseline].sum()
    residual = (seg - expected_per)[baseline] / np.sqrt(var_per[baseline].where(var_per[baseline] > 0))
    widen = max(1.0, robust_spread(residual)) if residual.notna().sum() >= 3 else 1.0
    observed, expected = float(seg[inside].sum()), float(expected_per[inside].sum())
    var = float(var_per[inside].sum()) + expected**2 / max(float(base_events), 1.0)
    return observed, expected, widen * np.sqrt(max(var, 1.0))


class SegmentCounts:
    """The counts each detector reads, aggregated once in Spark by period and by the segment
    dimensions they are asked for (only a few thousand rows reach the driver at 1x)."""

    def __init__(self, ds: Dataset, latent: dict[str, np.ndarray] | None):
        self.ds, self.latent = ds, latent
        self._cache: dict[tuple, pd.DataFrame] = {}

    def _creators(self):
        c = self.ds.tables["creators"].select(*sorted(set(CREATOR_COLUMNS.values())))
        if self.latent is not None:
            sizes = pd.DataFrame(
                {
                    "creator_id": self.latent["creator_id"],
                    "size": np.asarray(SIZE_TIERS, dtype=object)[self.latent["size_code"]],
                }
            )
            c = c.join(F.broadcast(self.ds.spark.createDataFrame(sizes)), "creator_id", "left")
        # creator_id is kept as the join key, and as the dimension of the same name
        return c.select(
            "creator_id",
            *[
                F.col(col).cast("string").alias(dim)
                for dim, col in CREATOR_COLUMNS.items()
                if dim != "creator_id"
            ],
            *([F.col("size")] if self.latent is not None else []),
        )

    def _rows(self, kpi: str):
        """The KPI's rows with their period (m or day), their dimensions, and k (an event) and n
        (a trial): for a count every row is both."""
        t, start = self.ds.tables, self.ds.start
        if kpi in ("decline_rate", "retry_recovery_rate"):
            kind = "payment" if kpi == "decline_rate" else "retry"
            event = "failed" if kpi == "decline_rate" else "succeeded"
            patrons = t["patrons"].select("patron_id", F.col("country_code").alias("patron_country"))
            return (
                t["transactions"]
                .where(F.col("transaction_type") == kind)
                .join(patrons, "patron_id")
                .select(
                    F.to_date("transaction_at").alias("day"),
                    "payment_method",
                    "patron_country",
                    (F.col("transaction_status") == event).cast("int").alias("k"),
                    F.lit(1).alias("n"),
                )
            )
        if kpi == "new_pledges":
            rows = t["pledges"].select("creator_id", month_index(F.col("started_at"), start).alias("m"))
        elif kpi == "voluntary_churn":
            rows = (
                t["pledges"]
                .where(F.col("churn_reason") == "voluntary")
                .select("creator_id", month_index(F.col("ended_at"), start).alias("m"))
            )
        else:
            rows = t["posts"].select("creator_id", month_index(F.col("published_at"), start).alias("m"))
        rows = rows.where((F.col("m") >= 0) & (F.col("m") < self.ds.months))
        return rows.join(F.broadcast(self._creators()), "creator_id").select(
            "*", F.lit(1).alias("k"), F.lit(1).alias("n")
        )

    def cells(self, kpi: str, dims: tuple[str, ...], exclude: tuple[str, ...] = ()) -> pd.DataFrame:
        """Per period and value of ``dims``: the KPI's events (k) and trials (n), with ``excluded``
        marking the rows inside any of the segments ``exclude`` (JSON) names."""
        key = (kpi, dims, exclude)
        if key not in self._cache:
            period = "m" if kpi in COUNTS else "day"
            out = F.lit(False)
            for seg in exclude:
                out = out | _inside(json.loads(seg))
            self._cache[key] = (
                self._rows(kpi)
                .groupBy(period, *dims, out.alias("excluded"))
                .agg(F.sum("k").alias("k"), F.sum("n").alias("n"))
                .toPandas()
            )
        return self._cache[key]


def _text(value) -> str:
    """A segment's value as the tables' text shows it (a boolean as true or false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _inside(segment: dict):
    cond = F.lit(True)
    for dim, values in segment.items():
        column = F.col(dim).cast("string")
        if isinstance(values[0], bool):
            column = F.lower(column)
        cond = cond & column.isin([_text(v) for v in values])
    return cond


def _match(cells: pd.DataFrame, segment: dict) -> pd.Series:
    ok = pd.Series(True, index=cells.index)
    for dim, values in segment.items():
        ok &= cells[dim].astype(str).str.lower().isin([_text(v).lower() for v in values])
    return ok


def _candidates(cells: pd.DataFrame, dims: tuple[str, ...]) -> list[dict]:
    """Every value of each dimension, and every combination of values of two or more."""
    out = []
    for k in range(1, len(dims) + 1):
        for combo in itertools.combinations(dims, k):
            for values in cells[list(combo)].drop_duplicates().itertuples(index=False):
                out.append({d: [str(v)] for d, v in zip(combo, values)})
    return out


#: the five default anomalies that act on creators (the outage acts on payers)
CREATOR_SIDE = frozenset({"viral_spike", "holiday_churn", "creator_exodus", "category_collapse", *MONTHLY})


def _covers(other: dict, own: dict) -> bool:
    """Whether every creator or payer of ``own`` is in ``other`` (the whole platform covers all)."""
    return all(d in own and set(map(_text, own[d])) <= set(map(_text, other[d])) for d in other)


def _meets(a: dict, b: dict) -> bool:
    """Whether two segments may share a creator or payer: not when they name one dimension with
    no value in common."""
    return all(set(map(_text, a[d])) & set(map(_text, b[d])) for d in a.keys() & b.keys())


def _span(ds: Dataset, row, side: bool) -> set:
    if side:
        return set(range(ds.month_of(row.start_at), ds.month_of(row.end_at) + 1))
    first = pd.Timestamp(row.start_at).tz_localize(None).normalize()
    last = pd.Timestamp(row.end_at).tz_localize(None).normalize()
    return set(pd.date_range(first, last).date)


def acts(row) -> bool:
    """Whether an anomaly of the truth changed anything: every one but a decoy."""
    return getattr(row, "family", "business") != "decoy"


def others(ds: Dataset, row, truth: pd.DataFrame) -> list[tuple[dict, set]]:
    """The other anomalies acting on the same side (creators, or payers) that may share some of
    this one's creators or payers: each one's segment and periods."""
    side = row.anomaly_type in CREATOR_SIDE
    out = []
    for other in truth.itertuples():
        if other.anomaly_id == row.anomaly_id or (other.anomaly_type in CREATOR_SIDE) != side:
            continue
        if not acts(other):
            continue  # a decoy is the model's own doing: its periods are baseline like any
        seg = json.loads(other.segment) if isinstance(getattr(other, "segment", None), str) else {}
        out.append((seg, _span(ds, other, side)))
    return out


def _nearest(candidates, skip: set, n: int) -> list:
    return [c for c in candidates if c not in skip][:n]


def _periods(ds: Dataset, row, skip: set):
    """The window's periods, and the baseline's: the nearest periods before and after it that no
    other anomaly may touch (three times as far as their number is searched)."""
    if row.anomaly_type in MONTHLY:
        first, last = ds.month_of(row.start_at), ds.month_of(row.end_at)
        before = [m for m in range(first - 1, first - 1 - 3 * MONTHS_BEFORE, -1) if m >= 1]
        after = [m for m in range(last + 1, last + 1 + 3 * MONTHS_AFTER) if m < ds.months]
        return list(range(first, last + 1)), _nearest(before, skip, MONTHS_BEFORE) + _nearest(
            after, skip, MONTHS_AFTER
        )
    start = pd.Timestamp(row.start_at).tz_localize(None).normalize()
    end = pd.Timestamp(row.end_at).tz_localize(None).normalize()
    before = [(start - pd.Timedelta(days=k)).date() for k in range(1, 1 + 3 * DAYS_BEFORE)]
    after = [(end + pd.Timedelta(days=k)).date() for k in range(1, 1 + 3 * DAYS_AFTER)]
    days = list(pd.date_range(start, end).date)
    return days, _nearest(before, skip, DAYS_BEFORE) + _nearest(after, skip, DAYS_AFTER)


def _z(cells: pd.DataFrame, segment: dict, period: str, inside, baseline, rate: bool):
    # the rest leaves out the other anomalies' segments; the segment keeps all of its own rows
    hit = _match(cells, segment)
    cells, hit = cells[hit | ~cells["excluded"].astype(bool)], hit[hit | ~cells["excluded"].astype(bool)]
    index = sorted(set(cells[period]) | set(inside) | set(baseline))
    if rate:
        per = lambda mask, col: cells[mask].groupby(period)[col].sum().reindex(index, fill_value=0)  # noqa: E731
        seg_k, rest_k, seg_n, rest_n = per(hit, "k"), per(~hit, "k"), per(hit, "n"), per(~hit, "n")
        observed, expected, se = expected_against_rest(
            seg_k.astype(float), rest_k.astype(float), inside, baseline, (seg_n.astype(float), rest_n)
        )
        trials = float(seg_n[inside].sum())
        return (observed - expected) / se, observed / max(trials, 1.0), expected / max(trials, 1.0), trials
    per = lambda mask: cells[mask].groupby(period)["n"].sum().reindex(index, fill_value=0)  # noqa: E731
    observed, expected, se = expected_against_rest(
        per(hit).astype(float), per(~hit).astype(float), inside, baseline
    )
    return (observed - expected) / se, observed, expected, None


def score_instance(row, counts: SegmentCounts, around: list[tuple[dict, set]]) -> Score:
    """The signal and drill-down of one instance of a catalogue type. ``around``: the other
    anomalies of its side (:func:`others`). Those that may share some of its creators or payers
    keep their periods out of its baseline; the segments of those that act in its window or
    baseline are taken out of the rest it is compared with, unless they hold all of its own."""
    ds, kind = counts.ds, row.anomaly_type
    kpi, direction = KPI[kind]
    segment = json.loads(row.segment)
    dims = tuple(segment)
    if "size" in dims and counts.latent is None:
        dims = tuple(d for d in dims if d != "size")
        segment.pop("size")
    rate = kind not in MONTHLY
    period = "day" if rate else "m"
    skip = set().union(*[periods for seg, periods in around if _meets(seg, segment)])
    inside, baseline = _periods(ds, row, skip)
    used = set(inside) | set(baseline)
    exclude = tuple(
        sorted({json.dumps(seg) for seg, periods in around if not _covers(seg, segment) and periods & used})
    )
    cells = counts.cells(kpi, dims, exclude)
    z, observed, expected, trials = _z(cells, segment, period, inside, baseline, rate)
    own = {d: [_text(v) for v in segment[d]] for d in dims}
    # the segment itself competes too, when it names more than one value of a dimension
    candidates = {json.dumps(c): c for c in [*_candidates(cells, dims), own]}
    zs = pd.Series({key: _z(cells, c, period, inside, baseline, rate)[0] for key, c in candidates.items()})
    ranked = rank(zs, direction)
    own = json.dumps(own)
    shown = (lambda x: f"{100 * x:.2f}%") if rate else (lambda x: f"{x:,.0f}")
    change = observed / expected - 1 if expected > 0 else float("nan")
    return Score(
        int(row.anomaly_id),
        kind,
        row.investigation_question,
        row.expected_root_cause,
        f"{kpi} of {own} in the window {shown(observed)} against {shown(expected)} the rest of the platform "
        f"predicts ({100 * change:+.1f}%), z {z:+.1f}",
        float(change),
        bool(direction * z >= Z_DETECTED),
        "+".join(dims) or "platform",
        bool(ranked) and ranked[0].value == own,
        [Drilldown("+".join(dims), f"{kpi} in the window against the rest's prediction (z)", ranked)],
        _series(ds, cells, segment, kpi, rate, inside, baseline),
        observed=float(observed),
        trials=trials,
        kpi=kpi,
    )


def _series(
    ds: Dataset, cells: pd.DataFrame, segment: dict, kpi: str, rate: bool, inside, baseline
) -> pd.DataFrame:
    """What the chart draws: the segment's KPI and what the rest predicts for it (the rest's, at
    the segment's share or relative rate over the baseline); a rate by week, within four months of
    the window."""
    hit = _match(cells, segment)
    keep = hit | ~cells["excluded"].astype(bool)
    cells, hit = cells[keep], hit[keep]
    period = "day" if rate else "m"
    if rate:
        day = pd.to_datetime(cells["day"])
        first, last = pd.Timestamp(min(inside)), pd.Timestamp(max(inside))
        near = (day >= first - pd.Timedelta(days=120)) & (day <= last + pd.Timedelta(days=120))
        base = cells[period].isin(set(baseline))
        k = lambda mask, col: (
            cells[mask].groupby(day[mask] - pd.to_timedelta(day[mask].dt.dayofweek, "D"))[col].sum()
        )  # noqa: E731
        ratio = (cells[hit & base]["k"].sum() / max(cells[hit & base]["n"].sum(), 1)) / max(
            cells[~hit & base]["k"].sum() / max(cells[~hit & base]["n"].sum(), 1), 1e-9
        )
        seg = 100 * k(hit & near, "k") / k(hit & near, "n")
        expected = 100 * ratio * k(~hit & near, "k") / k(~hit & near, "n")
        unit = " (%)"
    else:
        per = lambda mask: cells[mask].groupby(period)["n"].sum().reindex(range(ds.months), fill_value=0)  # noqa: E731
        seg_n, rest_n = per(hit), per(~hit)
        share = seg_n.reindex(baseline).sum() / max(rest_n.reindex(baseline).sum(), 1)
        seg, expected, unit = seg_n.astype(float), rest_n * share, ""
        seg.index = expected.index = month_dates(ds)
    frame = pd.DataFrame(
        {f"segment {kpi}{unit}": seg, f"expected from the rest{unit}": expected}
    ).sort_index()
    return frame.rename_axis("x").reset_index()


def touched_creator_months(ds: Dataset, truth: pd.DataFrame, latent: dict | None):
    """The (creator_id, m) cells a catalogue instance acting on creators touches: its segment's
    creators in its months and the month after (a month's change shows in the next month's
    pledges), as a Spark frame; None when no instance acts on creators. The five default anomalies
    are not here: the targets are calibrated with them."""
    rows = [
        r
        for r in truth.itertuples()
        if r.anomaly_type in MONTHLY and acts(r) and isinstance(getattr(r, "segment", None), str)
    ]
    if not rows:
        return None
    counts = SegmentCounts(ds, latent)
    creators = counts._creators().toPandas()
    cells = []
    for r in rows:
        segment = json.loads(r.segment)
        if "size" in segment and "size" not in creators:
            segment.pop("size")  # a dataset without latent sizes: every creator may be touched
        who = creators["creator_id"][_match(creators, segment)].to_numpy()
        first, last = ds.month_of(r.start_at), min(ds.month_of(r.end_at) + 1, ds.months - 1)
        for m in range(max(first, 0), last + 1):
            cells.append(pd.DataFrame({"creator_id": who, "m": m}))
    frame = pd.concat(cells).drop_duplicates()
    return F.broadcast(ds.spark.createDataFrame(frame.astype({"creator_id": "int64", "m": "int32"})))
