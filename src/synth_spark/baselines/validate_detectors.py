"""``validate``'s own detectors as a tool under test: each instance ``validate`` says it detected
becomes a finding, with the segments its drill-downs ranked as the root causes.

An oracle baseline, and scored as one: ``validate`` is told each instance's KPI, window and the
dimension to drill into (it reads the ground truth), so its detection and delay say how strong the
signal is where one knows to look, not how well a tool finds it. Its localisation is the fair
part: ``validate`` ranks the members of the dimension by the data alone.

    python -m synth_spark.baselines.validate_detectors DATASET-report/report.json > findings.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "validate's detectors (told each instance's KPI and window)"
#: validate's drill-down dimensions by the segment dimension they are (the rest name no segment:
#: a failure reason is everyone's)
SEGMENT_OF = {"creator": "creator_id", "category": "category"}


def _segments(drilldown: dict) -> list[dict]:
    out = []
    for top in drilldown["top"]:
        value = top["value"]
        if isinstance(value, str) and value.startswith("{"):
            out.append(json.loads(value))
        elif drilldown["dimension"] in SEGMENT_OF:
            out.append({SEGMENT_OF[drilldown["dimension"]]: [str(value)]})
        else:
            out.append({})
    return out


def findings(report: dict) -> list[dict]:
    truth = {row["anomaly_id"]: row for row in report["ground_truth"]}
    out = []
    for a in report["anomalies"]:
        if not a.get("detected"):
            continue
        row = truth[a["anomaly_id"]]
        kpis = json.loads(row["kpis"]) if isinstance(row["kpis"], str) else row["kpis"]
        causes: list[dict] = []
        for drilldown in a.get("drilldowns") or []:
            causes += [s for s in _segments(drilldown) if s not in causes]
        out.append(
            {
                # validate's name for what it measured, when the truth names it so (a card reissue is
                # measured as a decline rate, and the truth calls it card-expired declines)
                "kpi": a["kpi"] if a.get("kpi") in kpis else next(iter(kpis)),
                "window": {"start": str(row["start_at"])[:10], "end": str(row["end_at"])[:10]},
                "root_causes": [{"segment": s} for s in (causes or [{}])[:5]],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report", type=Path, help="the report.json 'synth-spark validate' wrote")
    args = p.parse_args(argv)
    report = json.loads(args.report.read_text())
    json.dump({"tool": NAME, "findings": findings(report)}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
