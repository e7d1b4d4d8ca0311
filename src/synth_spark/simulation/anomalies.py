"""The five injected root-cause scenarios: resolved once on the driver into a small plan that
every executor receives with its batch (their ground truth is simulation/ground_truth.py's).

The plan only changes the simulation's inputs (who arrives, who is charged when, how likely a
pledge is to end), so every knock-on effect follows from the ordinary model: viral patrons pay,
engage and churn like any others; outage declines go through the usual retries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import rhythm, streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.growth import arrival_rates
from synth_spark.simulation.rng import uniform
from synth_spark.simulation.placement import place
from synth_spark.simulation.scenarios import NO_SCENARIOS, Scenarios, compile_instances
from synth_spark.vocabulary import CATEGORIES, DAY, NEVER, SIZE_TIERS


def _epoch(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())


#: how long the platform's job takes to end the pledges of a page it takes down
EXODUS_TAKEDOWN = 2 * 3600


@dataclass(frozen=True)
class AnomalyPlan:
    """Everything the kernels need to know about the anomalies: a few numbers and ids."""

    viral_creator: int = 0
    viral_start: int = NEVER
    viral_end: int = NEVER
    viral_patrons: int = 0
    viral_month: int = 10**6
    viral_posts: float = 0.0
    viral_peak_days: float = 1.0
    viral_accounts: int = 0  # of the wave's patrons, those who open their account for it
    viral_entry_share: float = 0.0
    viral_churn: float = 1.0
    viral_later_engagement: float = 1.0
    outage_start: int = NEVER
    outage_end: int = NEVER
    outage_decline: float = 0.0
    holiday_month: int = -1
    holiday_uplift: float = 0.0
    departures: dict[int, int] = field(default_factory=dict)  # creator_id -> departure time
    exodus_notice_days: float = 1.0
    exodus_close_days: float = 1.0
    collapse_category: int = -1
    collapse_month: int = 10**6
    collapse_arrivals: float = 1.0
    collapse_churn: float = 1.0
    collapse_ramp: int = 1
    scenarios: Scenarios = NO_SCENARIOS  # the catalogue's other instances

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

    def wave_account(self, seed: int, patron_id: np.ndarray, pool: int) -> np.ndarray:
        """Whether each patron id is an account opened for the viral wave: a share of the pool the
        size of the wave's new accounts, picked by a hash of the id (no range of ids, no pattern an
        analyst could read), which ordinary pledges never draw."""
        if not self.viral_accounts:
            return np.zeros(np.shape(patron_id), dtype=bool)
        return uniform(seed, streams.ANOMALY_VIRAL_ACCOUNT, patron_id) < self.viral_accounts / pool

    def in_outage(self, t: np.ndarray) -> np.ndarray:
        return (t >= self.outage_start) & (t < self.outage_end)

    def collapse_strength(self, category_code: np.ndarray, m: np.ndarray | int) -> np.ndarray:
        """0 before the collapse, then building month by month to 1 over ``collapse_ramp`` months:
        a market shifts over a season, not overnight."""
        ramp = np.clip((np.asarray(m) - self.collapse_month + 1) / self.collapse_ramp, 0.0, 1.0)
        return np.where(category_code == self.collapse_category, ramp, 0.0)

    def collapse_arrival_factor(self, category_code: np.ndarray, m: np.ndarray | int) -> np.ndarray:
        return 1.0 - self.collapse_strength(category_code, m) * (1.0 - self.collapse_arrivals)

    def collapse_churn_factor(self, category_code: np.ndarray, m: np.ndarray | int) -> np.ndarray:
        return 1.0 + self.collapse_strength(category_code, m) * (self.collapse_churn - 1.0)


NO_ANOMALIES = AnomalyPlan()


def _collapsing(cfg: Config, creators: dict[str, np.ndarray]) -> np.ndarray:
    """Creators of the category that collapses: no other anomaly may pick them, so each anomaly
    has one cause an analyst can find."""
    cc = cfg.anomalies.category_collapse
    if not cc.enabled:
        return np.zeros(creators["creator_id"].shape, dtype=bool)
    return creators["category_code"] == CATEGORIES.index(cc.category)


def _pick_viral(cfg: Config, creators: dict[str, np.ndarray]) -> int:
    """An established creator that exists before the window, outside the collapsing category, picked by the
    seed."""
    ids = creators["creator_id"]
    free = ~_collapsing(cfg, creators)
    ok = (creators["size_code"] == SIZE_TIERS.index("established")) & (creators["joined_month"] < 0) & free
    if not ok.any():
        ok = (creators["joined_month"] < 0) & free
    score = uniform(cfg.seed, streams.ANOMALY_VIRAL, ids)
    return int(ids[ok][np.argmax(score[ok])])


def _pick_departing(cfg: Config, creators: dict[str, np.ndarray], n: int, taken: set[int]) -> list[int]:
    """The largest top creators by audience, outside the collapsing category and not already another
    anomaly's."""
    top = (creators["size_code"] == SIZE_TIERS.index("top_creator")) & ~_collapsing(cfg, creators)
    order = np.lexsort((creators["creator_id"], -creators["audience"]))
    return [
        int(creators["creator_id"][i])
        for i in order
        if top[i] and int(creators["creator_id"][i]) not in taken
    ][:n]


def _refuse_shared_causes(cfg: Config, creators: dict[str, np.ndarray], plan: dict) -> None:
    """No two anomalies act on the same creator: a viral creator that also departs, or a departing
    creator in the collapsing category, would give one question two answers."""
    collapsing = set(creators["creator_id"][_collapsing(cfg, creators)].tolist())
    viral = plan.get("viral_creator")
    departing = set(plan.get("departures", {}))
    category = cfg.anomalies.category_collapse.category
    if viral in departing:
        raise ValueError(
            f"anomalies.creator_exodus.creator_ids: creator {viral} is also the viral_spike's creator; "
            "no two anomalies may share a creator"
        )
    if viral in collapsing:
        raise ValueError(
            f"anomalies.viral_spike.creator_id: creator {viral} is in {category}, the category_collapse's "
            "category; no two anomalies may share a creator"
        )
    shared = sorted(departing & collapsing)
    if shared:
        raise ValueError(
            f"anomalies.creator_exodus.creator_ids: creator {shared[0]} is in {category}, the "
            "category_collapse's category; no two anomalies may share a creator"
        )


def resolve(
    cfg: Config, cal: Calendar, creators: dict[str, np.ndarray], churn_norm: float = 1.0
) -> AnomalyPlan:
    a, seed = cfg.anomalies, cfg.seed
    ids = set(int(i) for i in creators["creator_id"])
    plan: dict = {}
    if a.viral_spike.enabled:
        vs = a.viral_spike
        creator = vs.creator_id or _pick_viral(cfg, creators)
        if creator not in ids:
            raise ValueError(
                f"anomalies.viral_spike.creator_id: {creator} is not a creator (1 to {len(ids)})"
            )
        start = _epoch(vs.start)
        plan.update(
            viral_creator=creator,
            viral_start=start,
            viral_end=min(start + vs.days * DAY, cal.end),
            viral_patrons=vs.patrons_at(cfg.scale),
            viral_month=int(cal.month_index(start)),
            viral_posts=vs.posts_per_month,
            viral_peak_days=vs.peak_day,
            viral_accounts=int(round(vs.patrons_at(cfg.scale) * vs.new_accounts)),
            viral_entry_share=vs.entry_tier_share,
            viral_churn=vs.churn_multiplier,
            viral_later_engagement=vs.later_engagement,
        )
    if a.payment_outage.enabled:
        po = a.payment_outage
        # From an hour of its first day to an hour of its last: processors fail and recover mid-day.
        start = _epoch(po.start) + po.start_hour * 3600
        end = _epoch(po.start) + (po.days - 1) * DAY + po.end_hour * 3600
        plan.update(outage_start=start, outage_end=min(end, cal.end), outage_decline=po.decline_rate)
    if a.holiday_churn.enabled:
        plan.update(
            holiday_month=int(cal.month_index(_epoch(a.holiday_churn.month))),
            holiday_uplift=a.holiday_churn.voluntary_uplift,
        )
    if a.creator_exodus.enabled:
        ce = a.creator_exodus
        # The count scales with --scale like the patrons they take (3 at 1x, 30 at 10x, at least 1).
        taken = {plan["viral_creator"]} if "viral_creator" in plan else set()
        chosen = ce.creator_ids or _pick_departing(
            cfg, creators, max(1, round(ce.creators * cfg.scale)), taken
        )
        if not chosen:
            raise ValueError(
                f"anomalies.creator_exodus: the plan has no top creators to leave ({len(ids)} creators at "
                f"scale {cfg.scale:g}); give a larger --scale, name creator_ids, or disable the anomaly"
            )
        unknown = [c for c in chosen if c not in ids]
        if unknown:
            raise ValueError(
                f"anomalies.creator_exodus.creator_ids: {unknown[0]} is not a creator (1 to {len(ids)})"
            )
        month = int(cal.month_index(_epoch(ce.month)))
        start, days = int(cal.month_start(month)), int(cal.days_in_month(month))
        # Each leaves on a day of its own in the month (after the month-start charges have run):
        # the days after the 5th in a seeded order, repeating only when there are more creators than days.
        candidates = np.arange(5, days - 1)
        order = candidates[
            np.argsort(uniform(seed, streams.ANOMALY_EXODUS_DAY, candidates + 100 * month), kind="stable")
        ]
        day = order[np.arange(len(chosen)) % order.size]
        # ...at an hour of its own working day, where it lives
        who = np.asarray(chosen, dtype=np.int64)
        when = rhythm.on_local_day(
            start + day.astype(np.int64) * DAY + DAY // 2,
            rhythm.creator_zone(seed, who),
            rhythm.Rhythm.of(cfg.rhythm.creators),
            rhythm.clock_for(cal),
            uniform(seed, streams.ANOMALY_EXODUS_TIME, who),
        )
        plan["departures"] = {int(c): int(t) for c, t in zip(who, when)}
        plan.update(exodus_notice_days=ce.notice_days, exodus_close_days=ce.close_days)
    if a.category_collapse.enabled:
        cc = a.category_collapse
        plan.update(
            collapse_category=CATEGORIES.index(cc.category),
            collapse_month=int(cal.month_index(_epoch(cc.start))),
            collapse_arrivals=cc.arrival_multiplier,
            collapse_churn=cc.churn_multiplier,
            collapse_ramp=cc.ramp_months,
        )
    _refuse_shared_causes(cfg, creators, plan)
    placed = place(cfg, cal, creators, churn_norm, AnomalyPlan(**plan))
    instances = [*cfg.scenarios.instances, *(p.instance for p in placed)]
    if instances:
        origins = [("given", None)] * len(cfg.scenarios.instances) + [(p.level, p.spreads) for p in placed]
        rates = (
            arrival_rates(cfg, cal, creators, churn_norm)
            if any(x.type == "mix_shift" for x in instances)
            else None
        )
        plan["scenarios"] = compile_instances(cal, creators, instances, origins, rates)
    return AnomalyPlan(**plan)
