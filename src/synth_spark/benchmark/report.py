"""A score as a person reads it: the overall measures, the same by difficulty and family, false
alarms, then one line per instance."""

from __future__ import annotations


def _pct(x) -> str:
    return "-" if x is None else f"{x:.0%}"


def _row(name: str, s: dict) -> str:
    if not s.get("instances"):
        return f"  {name:<12} {0:>4}"
    delay = "-" if s["mean_delay_days"] is None else f"{s['mean_delay_days']:.1f}"
    return (
        f"  {name:<12} {s['instances']:>4} {_pct(s['detection']):>9} {delay:>7} {_pct(s['ac@1']):>6} "
        f"{_pct(s['ac@3']):>6} {_pct(s['avg@5']):>6} {_pct(s['ac@1_exact']):>8}"
    )


def score_lines(doc: dict) -> list[str]:
    tool = doc.get("tool") or "the findings"
    lines = [
        f"synth-spark: scored {tool} on {doc['dataset']}: {doc['findings']} findings against "
        f"{doc['overall'].get('instances', 0)} instances (a window matches within ±{doc['tolerance_days']} days)",
        f"  {'':<12} {'n':>4} {'detection':>9} {'delay d':>7} {'AC@1':>6} {'AC@3':>6} {'Avg@5':>6} "
        f"{'AC@1 exact':>8}",
        _row("overall", doc["overall"]),
    ]
    lines += [_row(k, v) for k, v in doc["by_difficulty"].items()]
    if len(doc["by_family"]) > 1:
        lines += [_row(k, v) for k, v in doc["by_family"].items()]
    lines.append(
        f"  false alarms: {doc['false_alarms']} ({doc['false_alarms_per_month']:g} a month), "
        f"{doc['false_alarms_on_decoys']} of them on decoys ({doc['decoys_flagged']} of {doc['decoys']} "
        "decoys flagged)"
    )
    if "control" in doc:
        c = doc["control"]
        lines.append(
            f"  on the control run: {c['findings']} findings, all false alarms ({c['false_alarms_per_month']:g} "
            "a month)"
        )
    lines.append(
        "  question  type                      difficulty  window                    found  delay  rank"
    )
    for i in doc["instances"]:
        rank = "-" if i["rank"] is None else str(i["rank"]) + ("" if i["exact_rank"] == i["rank"] else "~")
        delay = "-" if i["delay_days"] is None else str(i["delay_days"])
        lines.append(
            f"  {i['question_id']:<8}  {i['type']:<24}  {i['difficulty']:<10}  {i['window'][0]} {i['window'][1]}  "
            f"{'yes' if i['detected'] else 'no':>5}  {delay:>5}  {rank:>4}"
        )
    return lines
