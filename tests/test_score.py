"""The scorer of a root-cause tool's findings: the truth itself scores perfectly, the right windows
with the wrong causes are detected but not localised, no findings score nothing and raise no alarm,
a segment one level coarser or finer still counts as found, and a findings file that breaks the
schema is refused in one line. The truth is a real plan's: the five defaults, placed instances of
every difficulty and the decoys, at 1x."""

from __future__ import annotations

import json

import pytest

from synth_spark.benchmark.findings import load_findings
from synth_spark.benchmark.scoring import TOLERANCE_DAYS, relation, score
from synth_spark.benchmark.truth import load_truth, segment_of
from synth_spark.config import ConfigError, load_config
from synth_spark.simulation.plan import Plan
from synth_spark.simulation.questions import ASKED

from .helpers import run_cli


@pytest.fixture(scope="module")
def plan() -> Plan:
    cfg = load_config(seed=5, scenarios={"placed": 12, "difficulty": "mixed", "decoys": True})
    return Plan.make(cfg)


@pytest.fixture(scope="module")
def truth(plan):
    return load_truth(None, {"anomalies": list(plan.truth), "seed": plan.cfg.seed}, None)


def finding(inst, causes, **more) -> dict:
    return {
        "kpi": ASKED[inst.type],
        "window": {"start": inst.start.isoformat(), "end": inst.end.isoformat()},
        "root_causes": [{"segment": {d: list(v) for d, v in c.items()}} for c in causes],
        **more,
    }


def scored(tmp_path, truth, findings: list[dict], control: list[dict] | None = None) -> dict:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"tool": "test", "findings": findings}))
    _, read = load_findings(path)
    other = None
    if control is not None:
        (tmp_path / "control.json").write_text(json.dumps({"findings": control}))
        _, other = load_findings(tmp_path / "control.json")
    return score(truth, read, 24, other)


def incidents(truth):
    return [i for i in truth if not i.is_decoy]


def test_the_truth_itself_scores_perfectly(tmp_path, truth):
    result = scored(tmp_path, truth, [finding(i, [i.segment]) for i in incidents(truth)])
    overall = result["overall"]
    assert overall["instances"] == 17  # the five defaults and twelve placed
    assert overall["detection"] == overall["ac@1"] == overall["avg@5"] == overall["ac@1_exact"] == 1.0
    assert overall["mean_delay_days"] == 0
    assert result["false_alarms"] == 0 and result["decoys_flagged"] == 0
    assert set(result["by_difficulty"]) <= {"default", "easy", "medium", "hard"}


def test_right_windows_with_the_wrong_causes_are_detected_but_not_localised(tmp_path, truth):
    found = incidents(truth)
    # each instance given the segment of another that neither equals nor contains nor refines it
    wrong = {}
    for inst in found:
        wrong[inst.question_id] = next(
            o.segment for o in found if relation(o.segment, inst.segment) is None and o.segment
        )
    result = scored(tmp_path, truth, [finding(i, [wrong[i.question_id]]) for i in found])
    assert result["overall"]["detection"] == 1.0
    assert result["overall"]["ac@1"] == 0.0 and result["overall"]["ac@3"] == 0.0
    assert result["false_alarms"] == 0


def test_no_findings_score_nothing_and_raise_no_alarm(tmp_path, truth):
    result = scored(tmp_path, truth, [], control=[])
    assert result["overall"]["detection"] == 0 and result["overall"]["avg@5"] == 0
    assert result["false_alarms"] == 0 and result["control"]["false_alarms_per_month"] == 0


def test_every_finding_on_a_control_run_is_a_false_alarm(tmp_path, truth):
    on_control = [finding(i, [i.segment]) for i in incidents(truth)[:4]]
    result = scored(tmp_path, truth, [], control=on_control)
    assert result["control"] == {"findings": 4, "false_alarms_per_month": round(4 / 24, 3)}


def test_a_finding_that_matches_nothing_is_a_false_alarm_and_one_on_a_decoy_is_counted_apart(tmp_path, truth):
    decoy = next(i for i in truth if i.is_decoy)
    far = {"kpi": "posts", "window": {"start": "2023-01-02", "end": "2023-01-03"}, "root_causes": []}
    on_decoy = finding(decoy, [decoy.segment])  # the middle of its month: no neighbour within the tolerance
    on_decoy["window"] = {
        "start": decoy.start.replace(day=12).isoformat(),
        "end": decoy.start.replace(day=16).isoformat(),
    }
    result = scored(tmp_path, truth, [on_decoy, far])
    assert (
        result["false_alarms"] == 2
        and result["false_alarms_on_decoys"] == 1
        and result["decoys_flagged"] == 1
    )


def test_a_window_matches_within_the_tolerance_and_the_delay_counts_days_late(tmp_path, truth):
    import datetime as dt

    inst = next(i for i in incidents(truth) if i.type == "payment_outage")
    late = finding(inst, [inst.segment])
    late["window"]["start"] = (inst.end + dt.timedelta(days=TOLERANCE_DAYS)).isoformat()
    late["window"]["end"] = late["window"]["start"]
    result = scored(tmp_path, truth, [late])
    row = next(r for r in result["instances"] if r["question_id"] == inst.question_id)
    assert row["detected"] and row["delay_days"] == (inst.end - inst.start).days + TOLERANCE_DAYS
    too_late = finding(inst, [inst.segment])
    too_late["window"]["start"] = too_late["window"]["end"] = (
        inst.end + dt.timedelta(days=TOLERANCE_DAYS + 1)
    ).isoformat()
    row = next(
        r for r in scored(tmp_path, truth, [too_late])["instances"] if r["question_id"] == inst.question_id
    )
    assert not row["detected"]


def test_a_segment_one_level_coarser_or_finer_counts_as_found_and_the_whole_platform_only_as_itself():
    truth = segment_of({"payment_method": ["paypal"], "patron_country": ["DE"]})
    assert relation(segment_of({"payment_method": ["paypal"]}), truth) == "coarser"
    assert relation(segment_of({**truth, "category": ["music"]}), truth) == "finer"
    assert relation(segment_of({"payment_method": ["card"]}), truth) is None
    assert relation(segment_of({"creator_id": [7]}), segment_of({"creator_id": ["7", "9"]})) == "finer"
    assert relation({}, truth) is None and relation(truth, {}) is None and relation({}, {}) == "exact"


def test_the_rank_of_the_first_cause_that_names_the_segment_is_what_ac_at_k_counts(tmp_path, truth):
    found = incidents(truth)
    inst = next(i for i in found if i.segment)
    decoys = [o.segment for o in found if o.segment and relation(o.segment, inst.segment) is None][:2]
    result = scored(tmp_path, truth, [finding(inst, [*decoys, inst.segment])])
    row = next(r for r in result["instances"] if r["question_id"] == inst.question_id)
    assert row["rank"] == 3
    n = result["overall"]["instances"]
    assert result["overall"]["ac@1"] == 0 and result["overall"]["ac@3"] == round(1 / n, 4)


def test_a_findings_file_that_breaks_the_schema_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "findings": [
                    {"kpi": "mrr", "window": {"start": "2024-13-01", "end": "2024-01-02"}, "root_causes": []}
                ]
            }
        )
    )
    with pytest.raises(ConfigError, match=r"findings/0/window/start.*is not a 'date'"):
        load_findings(bad)
    bad.write_text(json.dumps({"findings": [{"kpi": "profit", "window": {}, "root_causes": []}]}))
    with pytest.raises(ConfigError, match=r"^FINDINGS: .* breaks the findings schema at findings/0"):
        load_findings(bad)


def test_score_on_the_command_line_exits_0_whatever_the_score_and_2_for_a_bad_file(tmp_path, small_dataset):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"findings": []}))
    done = run_cli("score", str(small_dataset), str(empty), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["overall"]["detection"] == 0 and doc["overall"]["instances"] == 5
    empty.write_text("{}")
    done = run_cli("score", str(small_dataset), str(empty))
    assert (
        done.returncode == 2
        and done.stderr.count("\n") == 1
        and "'findings' is a required property" in done.stderr
    )
