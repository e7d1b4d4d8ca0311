"""What each instance of the catalogue did to the data, measured against its paired control: the
same seed and scale with the anomalies off, so that every difference inside the instance's
segment and window is the instance's own (or its confounders', which the truth lists).

The ground truth in the dataset states what was asked for (``configured: ...``); this is what the
data shows, next to it. A count's change is put in spreads of the control's Poisson noise (its
square root), a rate's in spreads of the control's binomial noise over the window's trials: the
same yardstick placement sizes instances by, read off the data instead of the plan.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from synth_spark.validation.score_card import Score
from synth_spark.validation.verdicts import INFO, Check
from synth_spark.vocabulary import ANOMALY_TYPES


#: the KPIs in US dollars, and the rates
MONEY, RATES = ("mrr", "revenue"), ("decline_rate", "retry_recovery_rate")


@dataclass(frozen=True)
class Realised:
    anomaly_id: int
    kpi: str
    observed: float  # in the dataset (a count, or a rate)
    control: float  # in the control run, same segment and window
    change: float  # relative to the control (nan for a control of 0)
    spreads: float  # the difference, in spreads of the control's noise

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}

    def words(self, rate: bool) -> str:
        shown = (lambda x: f"{100 * x:.2f}%") if rate else (lambda x: f"{x:,.0f}")
        if self.kpi in MONEY:
            shown = lambda x: f"${x:,.0f}"  # noqa: E731
        parts = [] if math.isnan(self.change) else [f"{100 * self.change:+.1f}%"]
        if not math.isnan(self.spreads):
            parts.append(f"{self.spreads:+.1f} spreads")
        return f"{self.kpi} {shown(self.observed)} against {shown(self.control)} in the control run" + (
            f" ({', '.join(parts)})" if parts else ""
        )


def realised(data: Score, control: Score) -> Realised | None:
    """The instance's KPI in its segment and window, against the same in the control run."""
    if data.observed is None or control.observed is None:
        return None
    x, c = data.observed, control.observed
    if control.trials is not None:  # a rate over the window's attempts
        n = max(control.trials, 1.0)
        sd = math.sqrt(max(c * (1 - c), 1.0 / n) / n)
    else:
        sd = math.sqrt(max(c, 1.0))
    change = x / c - 1 if c > 0 else float("nan")
    return Realised(data.anomaly_id, data.kpi or "", x, c, change, (x - c) / sd)


def measured(scores: list[Score], control: list[Score] | None) -> dict[int, Realised]:
    """Each catalogue instance's realised effect, by anomaly id (none without a control run)."""
    if not control:
        return {}
    by_id = {sc.anomaly_id: sc for sc in control}
    out = {}
    for sc in scores:
        other = by_id.get(sc.anomaly_id)
        got = None if other is None else realised(sc, other)
        if got is not None:
            out[sc.anomaly_id] = got
    return out


def _count(anomaly_id: int, kpi: str, x: float, c: float) -> Realised:
    return Realised(
        anomaly_id, kpi, x, c, x / c - 1 if c > 0 else float("nan"), (x - c) / math.sqrt(max(c, 1.0))
    )


def _money(anomaly_id: int, kpi: str, x: float, c: float) -> Realised:
    # money has no Poisson noise of its own: its spread is left out (nan), its change is the number
    return Realised(anomaly_id, kpi, x, c, x / c - 1 if c > 0 else float("nan"), float("nan"))


def defaults(data, control, truth) -> dict[int, Realised]:
    """The five default anomalies against the control run, each at the grain its question names:
    platform MRR at the end of the viral month, revenue on the outage's first day, January's
    voluntary cancellations, platform MRR at the end of the departures' quarter and of the month
    after, the collapsing category's MRR at the window's end (``data``, ``control``: the runs'
    validation.aggregates.Aggregates)."""
    out: dict[int, Realised] = {}
    ds = data.ds
    for row in truth.itertuples():
        kind, aid, m = row.anomaly_type, int(row.anomaly_id), ds.month_of(row.start_at)
        if kind == "viral_spike":
            out[aid] = _money(aid, "mrr", *(a.platform()["mrr"].iloc[m] for a in (data, control)))
        elif kind == "payment_outage":
            day = pd.Timestamp(row.start_at).date()
            out[aid] = _money(aid, "revenue", *(_revenue_on(a, day) for a in (data, control)))
        elif kind == "holiday_churn":
            out[aid] = _count(aid, "voluntary_churn", *(_voluntary_in(a, m) for a in (data, control)))
        elif kind == "creator_exodus":
            quarter_end = min(3 * (m // 3) + 2, ds.months - 1)
            out[aid] = _money(aid, "mrr", *(a.platform()["mrr"].iloc[quarter_end] for a in (data, control)))
        elif kind == "category_collapse" and isinstance(row.category, str):
            out[aid] = _money(
                aid, "mrr", *(_category_mrr(a, row.category, ds.months - 1) for a in (data, control))
            )
    return out


def _revenue_on(agg, day) -> float:
    d = agg.daily_payments()
    return float(d[(d["day"] == day) & (d["transaction_status"] == "succeeded")]["gross"].sum())


def _voluntary_in(agg, m: int) -> float:
    e = agg.ends()
    return float(e[e["m"] == m]["voluntary"].sum())


def _category_mrr(agg, category: str, m: int) -> float:
    c = agg.by_month_and_category()
    return float(c[(c["m"] == m) & (c["category"] == category)]["mrr"].sum())


def lines(effects: dict[int, Realised], truth) -> list[Check]:
    """One line per measured anomaly, shown and never judged: what the data shows, against what
    was asked (a default anomaly's question; an instance's configured ``expected_effect``)."""
    out = []
    for row in truth.itertuples():
        got = effects.get(int(row.anomaly_id))
        if got is None:
            continue
        asked = row.investigation_question if row.anomaly_type in ANOMALY_TYPES else row.expected_effect
        out.append(
            Check(
                "anomalies",
                f"{row.anomaly_type} (anomaly {row.anomaly_id}): realised effect against the control run",
                str(asked),
                "shown, not judged",
                got.words(got.kpi in RATES),
                INFO,
                None if math.isnan(got.spreads) else got.spreads,
            )
        )
    return out


def ground_truth(truth, effects: dict[int, Realised]) -> list[dict]:
    """The ground truth's rows with the realised effect of each measured instance (``null`` for
    the others, and for all without a control run): what the report writes as ``ground_truth``."""
    rows = []
    for row in truth.to_dict(orient="records"):
        got = effects.get(int(row["anomaly_id"]))
        rows.append({**row, "realised": None if got is None else got.to_dict()})
    return rows
