"""Decoys: labelled non-incidents. Asking for them changes the ground truth only; each is something the
data shows that looks like an incident (a season the model has every year, a creator's organic
spurt) and none is an effect of an anomaly."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from synth_spark.config import load_config
from synth_spark.request import LIBRARY, requested_config
from synth_spark.simulation.plan import Plan
from synth_spark.vocabulary import DECOY_TYPES

from .scenario_kpis import creators_in, epoch, run

SCALE, SEED = 0.5, 7


def _plan(**scenarios) -> Plan:
    return Plan.make(load_config(scale=SCALE, seed=SEED, scenarios=scenarios))


@pytest.fixture(scope="module")
def with_decoys() -> Plan:
    return _plan(decoys=True)


def test_decoys_add_rows_to_the_ground_truth_and_change_nothing_else(with_decoys):
    without = _plan()
    a, b = with_decoys.constants, without.constants
    assert (a.pool, a.churn_norm, a.anomalies) == (b.pool, b.churn_norm, b.anomalies)
    for key in without.creators:
        assert np.array_equal(with_decoys.creators[key], without.creators[key])
    truth = list(with_decoys.truth)

    def answers(rows):  # the question ids are numbered over every question, decoys' included
        return [{k: v for k, v in r.items() if k != "question_id"} for r in rows]

    assert answers(truth[: len(without.truth)]) == answers(without.truth)
    added = truth[len(without.truth) :]
    assert added and {r["family"] for r in added} == {"decoy"}
    assert {r["anomaly_type"] for r in added} == set(DECOY_TYPES)
    assert all(r["expected_root_cause"].startswith("Not an incident: ") for r in added)
    assert [r["anomaly_id"] for r in truth] == list(range(1, len(truth) + 1))


def test_an_organic_spurt_is_the_creators_own_new_pledges_of_that_month_and_no_anomalys(with_decoys):
    cfg, cal, creators, job, sim = run(SCALE, SEED, {"decoys": True})
    spurts = [r for r in with_decoys.truth if r["anomaly_type"] == "organic_spurt"]
    assert spurts
    p = sim.life.pledges
    for row in spurts:
        (creator,) = json.loads(row["segment"])["creator_id"]
        start = epoch(dt.date.fromisoformat(row["start_at"][:10]))
        month = int(cal.month_index(start))
        mine = creators["creator_id"][p["creator_idx"]] == int(creator)
        per_month = np.bincount(
            cal.month_index(p["start_t"][mine & (p["start_t"] >= cal.start)]), minlength=cal.months
        )
        # the count the truth states is the data's, and it stands out from the creator's other months
        assert f"({per_month[month]} where" in row["expected_root_cause"]
        others = np.delete(per_month[5:], month - 5)
        assert per_month[month] > np.median(others) * 1.4
        # and no anomaly acts on that creator's month (the outage acts on payments, not arrivals)
        for other in with_decoys.truth:
            if other["family"] == "decoy" or other["anomaly_type"] == "payment_outage":
                continue
            if other["start_at"] > row["end_at"] or other["end_at"] < row["start_at"]:
                continue
            acted_on = creators_in(creators, json.loads(other["segment"]))
            assert not acted_on[creators["creator_id"] == int(creator)].any(), other


def test_a_season_the_config_does_not_have_is_no_decoy():
    plan = Plan.make(
        load_config(
            scale=SCALE, seed=SEED, scenarios={"decoys": True}, seasonality={"summer_engagement": 0.0}
        )
    )
    kinds = {r["anomaly_type"] for r in plan.truth}
    assert "summer_engagement_dip" not in kinds and "card_expiry_season" in kinds


def test_a_control_run_of_a_config_with_decoys_lists_none(tmp_path):
    conf = tmp_path / "decoys.yaml"
    conf.write_text("scenarios:\n  decoys: true\n")
    assert requested_config(LIBRARY, config=str(conf)).scenarios.decoys
    assert not requested_config(LIBRARY, config=str(conf), anomalies=False).scenarios.decoys
