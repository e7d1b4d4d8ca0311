"""The reference root-cause method over the KPI cube: it writes findings the schema accepts, the
same from the same cube, and on a control run, where nothing was put, every finding it makes is a
false alarm and nothing is detected."""

from __future__ import annotations

import json

import pytest

from synth_spark.baselines import robust_contribution
from synth_spark.benchmark.findings import load_findings
from synth_spark.benchmark.kpi_cube import materialise

from .helpers import run_cli


@pytest.fixture(scope="module")
def control_findings(small_control, tmp_path_factory):
    root = tmp_path_factory.mktemp("baseline")
    materialise(small_control, root / "kpis", progress=lambda *_: None)
    found = robust_contribution.findings(root / "kpis")
    path = root / "control.json"
    path.write_text(json.dumps({"tool": robust_contribution.NAME, "findings": found}))
    return root, path


def test_the_baseline_writes_findings_the_schema_accepts_and_the_same_from_the_same_cube(control_findings):
    root, path = control_findings
    tool, found = load_findings(path)
    assert tool == robust_contribution.NAME
    assert json.loads(path.read_text())["findings"] == robust_contribution.findings(root / "kpis")
    assert len(found) <= robust_contribution.MOST_FINDINGS


def test_on_a_control_run_every_finding_is_a_false_alarm(control_findings, small_control, small_dataset):
    _, path = control_findings
    n = len(json.loads(path.read_text())["findings"])
    done = run_cli("score", small_control, path, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["overall"] == {"instances": 0} and doc["false_alarms"] == n
    done = run_cli("score", small_dataset, path, "--control-findings", path, "--json")
    doc = json.loads(done.stdout)
    assert doc["control"]["findings"] == n
    assert doc["control"]["false_alarms_per_month"] == round(n / 24, 3)
