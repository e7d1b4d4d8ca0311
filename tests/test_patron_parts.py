"""Each chunk of creators contributes a part of every patron's derived columns; Spark adds the parts up.

The parts must add up whatever the split of creators into chunks, and a pledge's spend must follow the
rule the published tables are checked against (dbt: patrons__lifetime_spend_usd__matches_transactions).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from synth_spark.config import load_config
from synth_spark.job.chunk_state import simulate_chunk
from synth_spark.job.emitters import RunConstants
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.creators import PLAN_COLUMNS, draw_creators
from synth_spark.simulation.patron_parts import patron_parts, pledge_spend


@lru_cache(maxsize=None)
def plan(scale: float = 0.3, seed: int = 3):
    cfg = load_config(scale=scale, seed=seed)
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    return cal, RunConstants.plan(cfg, cal, creators), {k: creators[k] for k in PLAN_COLUMNS}


def parts_of(rows: slice) -> dict[str, np.ndarray]:
    cal, job, creators = plan()
    return patron_parts(cal, simulate_chunk(job, {k: v[rows] for k, v in creators.items()}).life)


def test_parts_from_any_split_of_creators_add_up_to_the_whole():
    whole = parts_of(slice(None))
    halves = [parts_of(slice(None, 40)), parts_of(slice(40, None))]
    ids = np.concatenate([h["patron_id"] for h in halves])
    assert set(ids) == set(whole["patron_id"])
    for column, add in (
        ("first_t", np.minimum),
        ("any_active", np.maximum),
        ("any_paused", np.maximum),
        ("spend_cents", np.add),
    ):
        combined = dict(zip(whole["patron_id"], [None] * whole["patron_id"].size))
        for half in halves:
            for pid, value in zip(half["patron_id"], half[column]):
                combined[pid] = value if combined[pid] is None else add(combined[pid], value)
        assert np.array_equal([combined[p] for p in whole["patron_id"]], whole[column]), column


def test_a_pledge_spends_its_successful_charges_and_before_the_window_its_first_charge_each_month():
    cal, job, creators = plan()
    life = simulate_chunk(job, creators).life
    spend = pledge_spend(cal, life)
    pl, at = life.pledges, life.attempts
    older = np.nonzero(pl["start_t"] < cal.start)[0]
    assert older.size > 0
    for i in [*older[:20], *np.nonzero(pl["start_t"] >= cal.start)[0][:20]]:
        mine = (at["pledge_idx"] == i) & (at["t"] < cal.end)
        charged = int(at["amount_cents"][mine & at["ok"].astype(bool)].sum())
        expected = charged
        if pl["start_t"][i] < cal.start:
            first = (
                at["amount_cents"][mine][np.argmin(at["t"][mine])] if mine.any() else pl["amount_cents"][i]
            )
            start = np.datetime64(int(pl["start_t"][i]), "s").astype("datetime64[M]")
            months = int((np.datetime64(int(cal.start), "s").astype("datetime64[M]") - start).astype(int))
            expected += int(first) * months
        assert spend[i] == expected
