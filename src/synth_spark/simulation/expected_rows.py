"""The rows a run is expected to write per table, from its plan alone (nothing simulated): what
``synth-spark plan`` shows before any work. The tables the plan draws itself (creators, tiers, the
ground truth) are exact; each simulated table is a measured number of its rows per unit of what the
plan expects (pledges started, active pledge-months, posts), so the estimate follows the creators
the seed drew rather than only the scale."""

from __future__ import annotations

import numpy as np

from synth_spark.simulation.growth import expected_pledges
from synth_spark.simulation.plan import Plan

#: rows of a simulated table per unit of the plan's expectation, measured at seed 42 on the 0.3x,
#: 1x and 10x datasets (their rows over the plan's figures; docs/benchmark.md, "plan")
ROWS_PER_UNIT = {
    "patrons": 0.99,  # per target patron: a few pool ids end with no pledge
    "pledges": 1.0,  # per expected pledge start (the stock at the window's start and every arrival)
    "transactions": 1.373,  # per expected active pledge-month: renewals, retries, refunds
    "engagement_events": 3.10,  # per expected active pledge-month
    "posts": 1.24,  # per expected post at the creators' own rates: slumps, waves and campaigns on top
}


def expected_posts(plan: Plan) -> float:
    """Posts at each creator's own monthly rate over the months it is on the platform."""
    c, months = plan.creators, plan.cal.months
    on = np.minimum(c["departed_t"], months) - np.maximum(c["joined_month"], 0)
    return float((c["posts_rate"] * np.maximum(on, 0)).sum())


def expected_rows(plan: Plan) -> dict[str, int]:
    """Each output table's expected rows, in the order the dataset lists them."""
    cfg = plan.cfg
    units = {
        "patrons": cfg.n_patrons,
        "pledges": expected_pledges(cfg, plan.cal, plan.creators, plan.constants.churn_norm),
        "transactions": float(plan.expected_work().sum()),
        "engagement_events": float(plan.expected_work().sum()),
        "posts": expected_posts(plan),
    }
    simulated = {t: int(round(ROWS_PER_UNIT[t] * units[t])) for t in ROWS_PER_UNIT}
    return {
        "creators": len(plan.creators["creator_id"]),
        "patrons": simulated["patrons"],
        "tiers": len(plan.tiers["tier_id"]),
        "pledges": simulated["pledges"],
        "transactions": simulated["transactions"],
        "posts": simulated["posts"],
        "engagement_events": simulated["engagement_events"],
        "anomalies": len(plan.published_truth),
    }
