"""Instances placed by the seed: the same seed places the same instances, no two share a segment
and a window (nor with the five default anomalies), and a difficulty is a size measured in spreads
of the KPI's noise: the effect found against a control run falls from easy to hard."""

from __future__ import annotations

import numpy as np
import pytest

from synth_spark.config import ConfigError, load_config
from synth_spark.config.scenario_settings import MONTHLY, family_of
from synth_spark.simulation.kpi_noise import Planner
from synth_spark.simulation.placement import FEWEST_ROWS, LEVELS
from synth_spark.simulation.plan import Plan, refuse_unplannable
from synth_spark.vocabulary import DATA_INCIDENT_TYPES

from .scenario_kpis import creators_in, epoch, kpi, payer_methods, planned_sd, run


def placed(scale: float, seed: int, n: int, difficulty: str):
    return Plan.make(load_config(scale=scale, seed=seed, scenarios={"placed": n, "difficulty": difficulty}))


def test_the_seed_places_the_instances_and_another_seed_places_others():
    a, b, other = (placed(1, s, 12, "mixed").constants.anomalies.scenarios for s in (3, 3, 4))
    assert a.instances == b.instances and a.origins == b.origins
    assert a.instances != other.instances
    assert len(a.instances) == 12 and {o for o, _ in a.origins} <= set(LEVELS)


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_each_instance_is_sized_for_its_levels_spreads_of_its_kpis_noise(difficulty):
    plan = placed(1, 2, 20, difficulty)
    job, lo, hi = plan.constants, *LEVELS[difficulty]
    planner = Planner(plan.cfg, plan.cal, plan.creators, job.churn_norm)
    for inst, (level, spreads) in zip(job.anomalies.scenarios.instances, job.anomalies.scenarios.origins):
        assert level == difficulty and lo <= spreads <= hi
        start, end = epoch(inst.start), epoch(inst.end) + 86_400
        if inst.type in MONTHLY:
            months = list(range(int(plan.cal.month_index(start)), int(plan.cal.month_index(end - 1)) + 1))
            per_size, sd = planner.creator_kpi(inst.type, creators_in(plan.creators, inst.segment), months)
        else:
            per_size, sd = planner.payer_kpi(
                inst.type, payer_methods(inst), inst.segment.get("patron_country"), start, end
            )
        assert inst.size * per_size / sd == pytest.approx(spreads, abs=0.01)  # both are rounded


def test_no_two_instances_act_on_one_creator_or_payer_at_once_nor_with_the_default_five():
    plan = placed(10, 1, 50, "mixed")
    cal, creators, a = plan.cal, plan.creators, plan.constants.anomalies
    taken = {}  # (creator index, month) -> instance
    holiday = {(i, a.holiday_month) for i in range(creators["creator_id"].size)}
    payer_windows = []
    for n, inst in enumerate(a.scenarios.instances):
        start, end = epoch(inst.start), epoch(inst.end) + 86_400
        if inst.type in MONTHLY:
            months = range(int(cal.month_index(start)), int(cal.month_index(end - 1)) + 1)
            cells = {(int(i), m) for i in np.nonzero(creators_in(creators, inst.segment))[0] for m in months}
            assert not cells & holiday
            assert not cells & set(taken), (inst, taken.get(next(iter(cells & set(taken)), None)))
            taken.update(dict.fromkeys(cells, n))
        else:
            assert end <= a.outage_start - 86_400 or start >= a.outage_end + 86_400
            for other, (s, e) in payer_windows:
                if start < e and s < end:
                    shared = [
                        set(inst.segment[d]) & set(other.segment[d])
                        for d in ("payment_method", "patron_country")
                        if d in inst.segment and d in other.segment
                    ]
                    assert any(not x for x in shared), (inst, other)
            payer_windows.append((inst, (start, end)))


def test_the_effect_found_against_the_control_falls_from_easy_to_hard():
    """At 1x, seed 1: each instance's KPI against the control run of the same seed, in spreads."""
    found = {}
    for level in ("easy", "hard"):
        cfg, cal, creators, job, sim = run(1, 1, {"placed": 10, "difficulty": level})
        *_, base = run(1, 1, {})
        planner = Planner(cfg, cal, creators, job.churn_norm)
        spreads = []
        for inst in job.anomalies.scenarios.instances:
            moved = abs(kpi(inst, cfg, cal, creators, sim) - kpi(inst, cfg, cal, creators, base))
            spreads.append(moved / planned_sd(planner, inst, cal, creators))
        found[level] = np.median(spreads)
    assert found["easy"] >= 5 and found["hard"] <= 3.5 and found["easy"] > 2 * found["hard"]


def test_a_difficulty_the_scale_cannot_reach_is_refused_naming_it():
    cfg = load_config(scale=0.02, seed=1, scenarios={"placed": 5, "difficulty": "easy"})
    with pytest.raises(
        ConfigError, match=r"^scenarios\.difficulty: 'easy' cannot be reached at scale 0\.02: "
    ):
        refuse_unplannable(cfg)


def test_more_instances_than_fit_without_overlap_are_refused_naming_the_count():
    cfg = load_config(scale=0.1, seed=1, scenarios={"placed": 1000, "difficulty": "hard"})
    with pytest.raises(
        ConfigError, match=r"^scenarios\.placed: 1000 instances do not fit .*; \d+ fit at scale 0\.1"
    ):
        refuse_unplannable(cfg)


def test_placed_instances_join_the_ground_truth_with_their_difficulty():
    plan = placed(1, 5, 3, "medium")
    rows = plan.truth[5:]
    assert [r["anomaly_id"] for r in rows] == [6, 7, 8]
    assert all("placed at difficulty medium, sized for" in r["expected_effect"] for r in rows)


def test_the_control_run_of_a_config_that_places_instances_places_none(tmp_path):
    from synth_spark.request import CLI, requested_config

    conf = tmp_path / "bench.yaml"
    conf.write_text(
        "scenarios:\n  placed: 5\n  difficulty: easy\n  instances:\n"
        "    - {type: churn_wave, segment: {}, start: 2024-03-01, end: 2024-03-31, size: 0.5}\n"
    )
    assert len(Plan.make(requested_config(CLI, config=conf)).truth) == 5 + 1 + 5
    control = requested_config(CLI, config=conf, anomalies=False)
    assert control.scenarios.placed == 0 and control.scenarios.instances == []
    assert Plan.make(control).truth == ()


def test_with_data_incidents_allowed_the_seed_places_them_too_sized_and_apart():
    plan = Plan.make(
        load_config(scale=1, seed=2, scenarios={"placed": 40, "difficulty": "mixed", "data_incidents": True})
    )
    job = plan.constants
    planner = Planner(plan.cfg, plan.cal, plan.creators, job.churn_norm)
    incidents = [
        (inst, origin)
        for inst, origin in zip(job.anomalies.scenarios.instances, job.anomalies.scenarios.origins)
        if family_of(inst.type) == "data"
    ]
    assert {inst.type for inst, _ in incidents} == set(DATA_INCIDENT_TYPES)
    copies = []
    for inst, (level, spreads) in incidents:
        start, end = epoch(inst.start), epoch(inst.end) + 86_400
        methods = frozenset(inst.segment.get("payment_method", ())) or None
        per_size, sd, rows = planner.data_kpi(inst.type, methods, start, end)
        assert inst.size * per_size / sd == pytest.approx(spreads, rel=0.01)
        assert inst.size * rows >= FEWEST_ROWS
        if inst.type == "amounts_in_cents":
            assert (
                level == "easy" and spreads >= LEVELS["easy"][0]
            )  # never medium or hard: one row is 99 payments
        else:
            assert LEVELS[level][0] <= spreads <= LEVELS[level][1]
        table = "events" if inst.type == "events_lost" else "transactions"
        for other_table, other_methods, s, e in copies:
            if other_table == table and start < e and s < end:
                assert methods and other_methods and not methods & other_methods
        copies.append((table, methods, start, end))


def test_without_data_incidents_the_placement_is_as_before_and_draws_none():
    before = placed(1, 1, 12, "mixed").constants.anomalies.scenarios
    assert not any(family_of(inst.type) == "data" for inst in before.instances)


def test_with_overlap_asked_for_instances_come_in_pairs_each_the_others_confounder():
    plan = Plan.make(
        load_config(scale=1, seed=1, scenarios={"placed": 12, "difficulty": "mixed", "overlap": True})
    )
    placed = [r for r in plan.truth if r["difficulty"] is not None]
    groups: dict = {}
    for r in placed:
        groups.setdefault((r["segment"], r["start_at"]), []).append(r)
    pairs = [g for g in groups.values() if len(g) > 1]
    assert pairs and all(len(g) == 2 for g in pairs)
    for a, b in pairs:
        assert a["end_at"] == b["end_at"]
        assert str(b["anomaly_id"]) in a["overlaps"].split(";")
        assert str(a["anomaly_id"]) in b["overlaps"].split(";")
