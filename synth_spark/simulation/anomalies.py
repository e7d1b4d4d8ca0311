"""The five injected root-cause scenarios: resolved once on the driver into a small plan that
every executor receives with its batch, and published as the ground-truth ``anomalies`` table.

The plan only changes the simulation's inputs (who arrives, who is charged when, how likely a
pledge is to end), so every knock-on effect follows from the ordinary model: viral patrons pay,
engage and churn like any others; outage declines go through the usual retries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.rng import uniform
from synth_spark.vocabulary import CATEGORIES, DAY, NEVER, SIZE_TIERS


def _epoch(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())


@dataclass(frozen=True)
class AnomalyPlan:
    """Everything the kernels need to know about the anomalies: a few numbers and ids."""

    viral_creator: int = 0
    viral_start: int = NEVER
    viral_end: int = NEVER
    viral_patrons: int = 0
    viral_month: int = 10**6
    viral_posts: float = 0.0
    outage_start: int = NEVER
    outage_end: int = NEVER
    outage_decline: float = 0.0
    holiday_month: int = -1
    holiday_uplift: float = 0.0
    departures: dict[int, int] = field(default_factory=dict)  # creator_id -> departure time
    collapse_category: int = -1
    collapse_month: int = 10**6
    collapse_arrivals: float = 1.0
    collapse_churn: float = 1.0

    # -- vectorised views for the kernels --

    def departure_of(self, creator_id: np.ndarray) -> np.ndarray:
        out = np.full(np.shape(creator_id), NEVER, dtype=np.int64)
        for cid, t in self.departures.items():
            out[creator_id == cid] = t
        return out

    def posting_rate(self, creator_id: np.ndarray, m: np.ndarray, rate: np.ndarray) -> np.ndarray:
        """Posts per month, shape (creators, months): the viral creator posts more from the spike on."""
        boost = (np.asarray(creator_id)[:, None] == self.viral_creator) & (np.asarray(m) >= self.viral_month)
        return np.where(boost, np.maximum(rate, self.viral_posts), rate)

    def in_outage(self, t: np.ndarray) -> np.ndarray:
        return (t >= self.outage_start) & (t < self.outage_end)

    def collapsing(self, category_code: np.ndarray, m: np.ndarray | int) -> np.ndarray:
        return (category_code == self.collapse_category) & (np.asarray(m) >= self.collapse_month)


NO_ANOMALIES = AnomalyPlan()


def _pick_viral(cfg: Config, creators: dict[str, np.ndarray]) -> int:
    """An established creator that exists before the window, picked by the seed."""
    ids = creators["creator_id"]
    ok = (creators["size_code"] == SIZE_TIERS.index("established")) & (creators["joined_month"] < 0)
    if not ok.any():
        ok = creators["joined_month"] < 0
    score = uniform(cfg.seed, streams.ANOMALY_VIRAL, ids)
    return int(ids[ok][np.argmax(score[ok])])


def _pick_departing(cfg: Config, creators: dict[str, np.ndarray], n: int) -> list[int]:
    """The largest top creators by audience."""
    top = creators["size_code"] == SIZE_TIERS.index("top_creator")
    order = np.lexsort((creators["creator_id"], -creators["audience"]))
    chosen = [int(creators["creator_id"][i]) for i in order if top[i]][:n]
    return chosen


def resolve(cfg: Config, cal: Calendar, creators: dict[str, np.ndarray]) -> AnomalyPlan:
    a, seed = cfg.anomalies, cfg.seed
    ids = set(int(i) for i in creators["creator_id"])
    plan: dict = {}
    if a.viral_spike.enabled:
        vs = a.viral_spike
        creator = vs.creator_id or _pick_viral(cfg, creators)
        if creator not in ids:
            raise ValueError(f"anomalies.viral_spike.creator_id: {creator} is not a creator (1 to {len(ids)})")
        start = _epoch(vs.start)
        plan.update(viral_creator=creator, viral_start=start, viral_end=min(start + vs.days * DAY, cal.end),
                    viral_patrons=int(round(vs.new_patrons * cfg.scale)), viral_month=int(cal.month_index(start)),
                    viral_posts=vs.posts_per_month)
    if a.payment_outage.enabled:
        po = a.payment_outage
        start = _epoch(po.start)
        plan.update(outage_start=start, outage_end=min(start + po.days * DAY, cal.end), outage_decline=po.decline_rate)
    if a.holiday_churn.enabled:
        plan.update(holiday_month=int(cal.month_index(_epoch(a.holiday_churn.month))),
                    holiday_uplift=a.holiday_churn.voluntary_uplift)
    if a.creator_exodus.enabled:
        ce = a.creator_exodus
        # The count scales with --scale like the patrons they take (3 at 1x, 30 at 10x, at least 1).
        chosen = ce.creator_ids or _pick_departing(cfg, creators, max(1, round(ce.creators * cfg.scale)))
        if not chosen:
            raise ValueError(f"anomalies.creator_exodus: the plan has no top creators to leave ({len(ids)} creators at "
                             f"scale {cfg.scale:g}); give a larger --scale, name creator_ids, or disable the anomaly")
        unknown = [c for c in chosen if c not in ids]
        if unknown:
            raise ValueError(f"anomalies.creator_exodus.creator_ids: {unknown[0]} is not a creator (1 to {len(ids)})")
        month = int(cal.month_index(_epoch(ce.month)))
        start, days = int(cal.month_start(month)), int(cal.days_in_month(month))
        # Each leaves on its own day in the month, after the month's charges have run.
        day = 5 + np.floor(uniform(seed, streams.ANOMALY_EXODUS_DAY, np.array(chosen)) * (days - 6)).astype(np.int64)
        plan["departures"] = {c: start + int(d) * DAY + 12 * 3600 for c, d in zip(chosen, day)}
    if a.category_collapse.enabled:
        cc = a.category_collapse
        plan.update(collapse_category=CATEGORIES.index(cc.category), collapse_month=int(cal.month_index(_epoch(cc.start))),
                    collapse_arrivals=cc.arrival_multiplier, collapse_churn=cc.churn_multiplier)
    return AnomalyPlan(**plan)


def ground_truth(cfg: Config, cal: Calendar, plan: AnomalyPlan) -> list[dict]:
    """One record per enabled anomaly: what a root-cause tool should find."""
    a, rows = cfg.anomalies, []

    def ts(t: int) -> str:
        return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def until(t: int) -> str:  # end_at is the last second inside the anomaly
        return ts(t - 1)

    if a.viral_spike.enabled:
        rows.append(dict(
            anomaly_type="viral_spike", start_at=ts(plan.viral_start), end_at=until(plan.viral_end),
            creator_ids=str(plan.viral_creator), category=None, metric="new pledges, MRR",
            expected_effect=f"{plan.viral_patrons} extra new patrons to one creator in {a.viral_spike.days} days, about +8% platform MRR",
            investigation_question="Why did platform MRR jump 8% in Month 8?",
            expected_root_cause=f"Single creator acquisition: creator {plan.viral_creator} went viral"))
    if a.payment_outage.enabled:
        rows.append(dict(
            anomaly_type="payment_outage", start_at=ts(plan.outage_start), end_at=until(plan.outage_end),
            creator_ids=None, category=None, metric="first-attempt payment success, daily revenue",
            expected_effect=f"{plan.outage_decline:.0%} of payment attempts decline with failure_reason processor_outage; retries recover part",
            investigation_question=f"Why did revenue drop 40% on {a.payment_outage.start:%B} {a.payment_outage.start.day}?",
            expected_root_cause="Payment processor failure (failure_reason = processor_outage)"))
    if a.holiday_churn.enabled:
        m = plan.holiday_month
        rows.append(dict(
            anomaly_type="holiday_churn", start_at=ts(int(cal.month_start(m))), end_at=until(int(cal.month_end(m))),
            creator_ids=None, category=None, metric="voluntary churn",
            expected_effect=f"voluntary churn +{plan.holiday_uplift:.0%} relative in the month",
            investigation_question="Why did January churn spike?",
            expected_root_cause="Post-holiday budget cuts: more voluntary cancellations across the platform"))
    if a.creator_exodus.enabled:
        times = sorted(plan.departures.values())
        rows.append(dict(
            anomaly_type="creator_exodus", start_at=ts(times[0]), end_at=ts(times[-1]),
            creator_ids=";".join(str(c) for c in sorted(plan.departures)), category=None, metric="MRR, pledges ended",
            expected_effect="the creators depart (status departed); all their running pledges end (churn_reason creator_departed)",
            investigation_question="Why is Q2 2024 MRR declining?",
            expected_root_cause="Top creator departures"))
    if a.category_collapse.enabled:
        rows.append(dict(
            anomaly_type="category_collapse", start_at=ts(int(cal.month_start(plan.collapse_month))), end_at=until(cal.end),
            creator_ids=None, category=a.category_collapse.category, metric="category MRR",
            expected_effect=f"{a.category_collapse.category} MRR about -30% through fewer new pledges and more churn",
            investigation_question="Why is gaming category underperforming?",
            expected_root_cause=f"Market/competition shift in the {a.category_collapse.category} category"))
    for i, row in enumerate(rows, start=1):
        row["anomaly_id"] = i
    return rows
