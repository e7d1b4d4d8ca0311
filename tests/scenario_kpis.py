"""Kernel runs with scenario settings (no Spark), and each scenario type's KPI counted in an
instance's segment and window: what the placement tests compare with a control run."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache

import numpy as np

from synth_spark.config import load_config
from synth_spark.config.scenario_settings import MONTHLY
from synth_spark.job.chunk_state import simulate_chunk
from synth_spark.job.emitters import RunConstants
from synth_spark.simulation import identity, streams
from synth_spark.simulation.billing import PatronPayment
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.creators import PLAN_COLUMNS, draw_creators
from synth_spark.simulation.lifecycle import REASON_VOLUNTARY
from synth_spark.simulation.posts import BACK_CATALOGUE_MONTHS
from synth_spark.simulation.rng import uniform
from synth_spark.simulation.scenarios import CARD_BASED, creator_dimensions
from synth_spark.vocabulary import ANOMALY_TYPES, DAY, FAILURE_CODES, PAYMENT_METHODS

OFF = {name: {"enabled": False} for name in ANOMALY_TYPES}


def instance(kind: str, segment: dict, start: str, end: str, size: float, shape: str = "step") -> dict:
    """A scenario instance as a config gives it."""
    return dict(type=kind, segment=segment, start=start, end=end, size=size, shape=shape)


@lru_cache(maxsize=None)
def _run(scale: float, seed: int, scenarios_json: str, anomalies: bool):
    cfg = load_config(
        scale=scale,
        seed=seed,
        scenarios=json.loads(scenarios_json),
        **({} if anomalies else {"anomalies": OFF}),
    )
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    job = RunConstants.plan(cfg, cal, creators)
    return cfg, cal, creators, job, simulate_chunk(job, {k: creators[k] for k in PLAN_COLUMNS})


def run(scale: float, seed: int, scenarios: dict, anomalies: bool = True):
    """(cfg, cal, creators, run constants, simulated chunk) of a kernel run."""
    return _run(
        scale, seed, json.dumps({"instances": [], "placed": 0, **scenarios}, sort_keys=True), anomalies
    )


def epoch(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())


def creators_in(creators, segment: dict) -> np.ndarray:
    """Which creators a creator segment selects."""
    columns = creator_dimensions(creators)
    ok = np.ones(creators["creator_id"].shape, dtype=bool)
    for dim, values in segment.items():
        ok &= np.isin(columns[dim], values)
    return ok


def payer_methods(inst) -> list[str] | None:
    """The payment methods a payment instance selects (a card reissue: the card-based ones)."""
    methods = inst.segment.get("payment_method")
    return list(CARD_BASED) if inst.type == "card_reissue_wave" and methods is None else methods


def planned_sd(planner, inst, cal, creators) -> float:
    """The noise (sd) of the instance's KPI in its segment and window, as the plan gives it."""
    start, end = epoch(inst.start), epoch(inst.end) + DAY
    if inst.type in MONTHLY:
        months = list(range(int(cal.month_index(start)), int(cal.month_index(end - 1)) + 1))
        return planner.creator_kpi(inst.type, creators_in(creators, inst.segment), months)[1]
    return planner.payer_kpi(inst.type, payer_methods(inst), inst.segment.get("patron_country"), start, end)[
        1
    ]


def kpi(inst, cfg, cal, creators, sim) -> int:
    """The count the instance's type moves, in its segment and window: new pledges, voluntary
    cancellations or posts of its creators; declined first attempts or recovering retries of its payers."""
    start, end = epoch(inst.start), epoch(inst.end) + DAY
    if inst.type in MONTHLY:
        mine = creators_in(creators, inst.segment)
        p = sim.life.pledges
        of_mine = mine[p["creator_idx"]]
        if inst.type in ("competitor_launch", "promotion", "policy_change"):
            return int((of_mine & (p["start_t"] >= start) & (p["start_t"] < end)).sum())
        if inst.type == "churn_wave":
            quit = (p["reason"] == REASON_VOLUNTARY) & (p["end_t"] >= start) & (p["end_t"] < end)
            return int((of_mine & quit).sum())
        months = (
            np.arange(int(cal.month_index(start)), int(cal.month_index(end - 1)) + 1) + BACK_CATALOGUE_MONTHS
        )
        return int(sim.post_counts[mine][:, months].sum())
    at, p = sim.life.attempts, sim.life.pledges
    patron = p["patron_id"][at["pledge_idx"]]
    payers = np.ones(patron.shape, dtype=bool)
    methods = payer_methods(inst)
    if methods is not None:
        payers &= np.isin(PatronPayment(cfg, patron).method, [PAYMENT_METHODS.index(m) for m in methods])
    if "patron_country" in inst.segment:
        country = identity.country_index(uniform(cfg.seed, streams.PATRON_COUNTRY, patron))
        payers &= np.isin(country, identity.country_positions(inst.segment["patron_country"]))
    inside = payers & (at["t"] >= start) & (at["t"] < end)
    if inst.type == "retry_degradation":
        return int((inside & (at["attempt"] > 0) & at["ok"].astype(bool)).sum())
    declined = inside & (at["attempt"] == 0) & ~at["ok"].astype(bool)
    if inst.type == "card_reissue_wave":
        declined &= at["reason"] == FAILURE_CODES.index("card_expired")
    return int(declined.sum())
