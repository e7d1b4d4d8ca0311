"""The ground truth of a run: one record per enabled default anomaly and per instance of the
catalogue, as a root-cause tool should find it, with the overlaps between them; then, when asked
for, the decoys (simulation/decoys.py) it should leave alone."""

from __future__ import annotations

import datetime as dt

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import decoys
from synth_spark.simulation.anomalies import EXODUS_TAKEDOWN, AnomalyPlan
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.kpi_noise import Planner
from synth_spark.simulation.scenario_truth import (
    Footprint,
    instance_footprints,
    kpis_json,
    overlaps,
    segment_json,
    truth_rows,
)
from synth_spark.vocabulary import DAY


def ground_truth(
    cfg: Config, cal: Calendar, plan: AnomalyPlan, creators: dict[str, np.ndarray], churn_norm: float = 1.0
) -> list[dict]:
    """One record per enabled anomaly: what a root-cause tool should find; then, when asked for,
    the decoys it should leave alone."""
    a, rows, marks = cfg.anomalies, [], []
    ids = creators["creator_id"]

    def ts(t: int) -> str:
        return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def until(t: int) -> str:  # end_at is the last second inside the anomaly
        return ts(t - 1)

    if a.viral_spike.enabled:
        rows.append(
            dict(
                anomaly_type="viral_spike",
                family="business",
                start_at=ts(plan.viral_start),
                end_at=until(plan.viral_end),
                creator_ids=str(plan.viral_creator),
                category=None,
                metric="new pledges, MRR",
                segment=segment_json({"creator_id": [plan.viral_creator]}),
                expected_effect=(
                    f"{plan.viral_patrons} extra new patrons to one creator, rising to a peak on day "
                    f"{a.viral_spike.peak_day:g} and fading, most inside {a.viral_spike.days} days; "
                    "platform MRR higher from that month"
                ),
                # no size in the question: what the data shows against a control run is for
                # 'validate --control' to measure, not for the config to claim
                investigation_question="Why did platform MRR jump in Month 8?",
                expected_root_cause=f"Single creator acquisition: creator {plan.viral_creator} went viral",
            )
        )
    if a.payment_outage.enabled:
        rows.append(
            dict(
                anomaly_type="payment_outage",
                family="business",
                start_at=ts(plan.outage_start),
                end_at=until(plan.outage_end),
                creator_ids=None,
                category=None,
                metric="first-attempt payment success, daily revenue",
                segment=segment_json({}),
                expected_effect=(
                    f"{plan.outage_decline:.0%} of the payment attempts (first attempts and retries) that "
                    "would have gone through decline as processing errors; the usual retries recover part "
                    "of them afterwards"
                ),
                investigation_question=(
                    f"Why did revenue drop on {a.payment_outage.start:%B} {a.payment_outage.start.day}?"
                ),
                expected_root_cause=(
                    "Payment processor failure: processing-error declines on every payment method for "
                    f"{(plan.outage_end - plan.outage_start) / 3600:.0f} hours"
                ),
            )
        )
    if a.holiday_churn.enabled:
        m = plan.holiday_month
        rows.append(
            dict(
                anomaly_type="holiday_churn",
                family="business",
                start_at=ts(int(cal.month_start(m))),
                end_at=until(int(cal.month_end(m))),
                creator_ids=None,
                category=None,
                metric="voluntary churn",
                segment=segment_json({}),
                expected_effect=f"voluntary churn +{plan.holiday_uplift:.0%} relative in the month",
                investigation_question="Why did January churn spike?",
                expected_root_cause=(
                    "Post-holiday budget cuts: more voluntary cancellations across the platform"
                ),
            )
        )
    if a.creator_exodus.enabled:
        ce_close = a.creator_exodus.close_days
        times = sorted(plan.departures.values())
        rows.append(
            dict(
                # from the first departure until the last page closes: the audiences end over those weeks
                anomaly_type="creator_exodus",
                family="business",
                start_at=ts(times[0]),
                end_at=ts(min(times[-1] + int(ce_close * DAY) + EXODUS_TAKEDOWN, cal.end - 1)),
                creator_ids=";".join(str(c) for c in sorted(plan.departures)),
                category=None,
                metric="MRR, pledges ended",
                segment=segment_json({"creator_id": sorted(plan.departures)}),
                expected_effect=(
                    "each creator leaves on its own day: billing stops, patrons cancel over the following "
                    "days "
                    f"and weeks, and the pledges left when the page closes {ce_close:g} days later end as "
                    "creator_removed"
                ),
                investigation_question="Why is Q2 2024 MRR declining?",
                expected_root_cause="Top creator departures",
            )
        )
    if a.category_collapse.enabled:
        rows.append(
            dict(
                anomaly_type="category_collapse",
                family="business",
                start_at=ts(int(cal.month_start(plan.collapse_month))),
                end_at=until(cal.end),
                creator_ids=None,
                category=a.category_collapse.category,
                metric="category MRR",
                segment=segment_json({"category": [a.category_collapse.category]}),
                expected_effect=(
                    f"{a.category_collapse.category} MRR about -30% through fewer new pledges and more churn"
                ),
                investigation_question="Why is gaming category underperforming?",
                expected_root_cause=(
                    f"Market/competition shift in the {a.category_collapse.category} category"
                ),
            )
        )
    for row in rows:
        row["kpis"], row["difficulty"] = kpis_json(row["anomaly_type"]), None
        marks.append(_default_footprint(row["anomaly_type"], cal, plan, creators))
    rows += truth_rows(plan.scenarios, _events_per_day(cfg, cal, creators, churn_norm, plan))
    marks += instance_footprints(plan.scenarios, ids, cal)
    confounders = overlaps(marks)
    if cfg.scenarios.decoys:
        busy = _busy_creator_months(cal, plan, creators, marks)
        rows += decoys.seasons(cfg, cal) + decoys.spurts(cfg, cal, creators, churn_norm, busy)
    for i, row in enumerate(rows, start=1):
        # a decoy confounds nothing: it is what the model does anyway
        row["anomaly_id"], row["overlaps"] = i, confounders[i - 1] if i <= len(confounders) else None
    return rows


def _busy_creator_months(cal: Calendar, plan: AnomalyPlan, creators, marks: list[Footprint]) -> np.ndarray:
    """Creators by window months, True where an anomaly acts on the creator's month or the creator
    is one an anomaly singles out (the viral creator, the departing ones) at any time."""
    ids = creators["creator_id"]
    busy = np.zeros((ids.size, cal.months), dtype=bool)
    for f in marks:
        if f.side != "creator":
            continue
        first, last = int(cal.month_index(f.start)), int(cal.month_index(f.end - 1))
        who = np.ones(ids.size, dtype=bool) if f.creators is None else np.asarray(f.creators, dtype=bool)
        busy[np.ix_(who, np.arange(first, last + 1))] = True
    busy[ids == plan.viral_creator] = True
    busy[np.isin(ids, list(plan.departures))] = True
    return busy


def _default_footprint(kind: str, cal: Calendar, plan: AnomalyPlan, creators) -> Footprint:
    """Whom each of the five default anomalies acts on, and when."""
    ids = creators["creator_id"]
    if kind == "payment_outage":
        return Footprint("payer", plan.outage_start, plan.outage_end)
    if kind == "viral_spike":
        m = int(cal.month_index(plan.viral_start))
        return Footprint(
            "creator", int(cal.month_start(m)), plan.viral_end, creators=ids == plan.viral_creator
        )
    if kind == "holiday_churn":
        m = plan.holiday_month
        return Footprint("creator", int(cal.month_start(m)), int(cal.month_end(m)))
    if kind == "creator_exodus":
        first = int(cal.month_index(min(plan.departures.values())))
        mask = np.isin(ids, list(plan.departures))
        return Footprint(
            "creator",
            int(cal.month_start(first)),
            int(cal.month_end(min(first + 2, cal.months - 1))),
            creators=mask,
        )
    mask = creators["category_code"] == plan.collapse_category
    return Footprint("creator", int(cal.month_start(plan.collapse_month)), int(cal.end), creators=mask)


def _events_per_day(
    cfg: Config, cal: Calendar, creators, churn_norm: float, plan: AnomalyPlan
) -> dict[int, float]:
    """By instance number, the events a day of each lost-events incident's window holds."""
    lost = [(i, e) for i, e in enumerate(plan.scenarios.effects) if e.kind == "events_lost"]
    if not lost:
        return {}
    planner = Planner(cfg, cal, creators, churn_norm)
    return {i: planner.events_per_day(e.start, e.end) for i, e in lost}
