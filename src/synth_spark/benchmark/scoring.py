"""A root-cause tool's findings scored against a dataset's ground truth, with the measures the field
uses (docs/benchmark-scoring.md defines each):

- a finding *matches* an instance when it is about it (the instance's question id, or one of the
  KPIs the instance moves) and its days overlap the instance's window, widened by
  :data:`TOLERANCE_DAYS` on each side;
- an instance is *detected* when a finding matches it; its *delay* is the days from the window's
  first day to the first day a matching finding claims (0 when the finding starts earlier);
- a root cause is *found* at rank k when the k-th segment of a matching finding is the instance's,
  or names it one level coarser or finer (:func:`relation`); AC@k is the share of instances found
  at rank k or better, Avg@5 the mean of AC@1 to AC@5;
- a finding that matches no instance is a *false alarm*; one that matches a decoy (a labelled
  non-incident) is counted among them, and apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from synth_spark.benchmark.findings import Finding
from synth_spark.benchmark.truth import Instance

#: days a finding's window may miss an instance's by and still match it
TOLERANCE_DAYS = 7
#: the ranks AC@k is reported at, and how many Avg@k averages
AC_RANKS, AVG_RANKS = (1, 3, 5), 5


def relation(found: dict, truth: dict) -> str | None:
    """How a finding's segment names the truth's: "exact", "coarser" (the truth's with dimensions
    left out, at least one kept), "finer" (one dimension more, or fewer values of the same
    dimensions), or None. The whole platform ({}) is named only by itself: every segment is inside it."""
    if found == truth:
        return "exact"
    if not found or not truth:
        return None
    shared = found.keys() & truth.keys()
    if found.keys() == truth.keys():
        inside = all(set(found[d]) <= set(truth[d]) for d in shared)
        return "finer" if inside else None
    if any(found[d] != truth[d] for d in shared):
        return None
    if found.keys() < truth.keys():
        return "coarser"
    if found.keys() > truth.keys() and len(found) == len(truth) + 1:
        return "finer"
    return None


def matches(f: Finding, inst: Instance) -> bool:
    about = f.question_id == inst.question_id if f.question_id else f.kpi in inst.kpis
    slack = dt.timedelta(days=TOLERANCE_DAYS)
    return about and f.start <= inst.end + slack and f.end >= inst.start - slack


@dataclass(frozen=True)
class InstanceScore:
    instance: Instance
    detected: bool
    delay_days: int | None
    rank: int | None  # of the first cause that names the instance's segment
    exact_rank: int | None  # of the first that names it exactly
    findings: tuple[int, ...]  # the numbers of the findings that match it


def score_instance(inst: Instance, findings: list[Finding]) -> InstanceScore:
    matched = [f for f in findings if matches(f, inst)]
    if not matched:
        return InstanceScore(inst, False, None, None, None, ())

    def first(f: Finding, exact: bool) -> int | None:
        for k, cause in enumerate(f.causes, start=1):
            how = relation(cause, inst.segment)
            if how == "exact" or (how is not None and not exact):
                return k
        return None

    ranks = [r for r in (first(f, False) for f in matched) if r is not None]
    exact = [r for r in (first(f, True) for f in matched) if r is not None]
    return InstanceScore(
        inst,
        True,
        min(max(0, (f.start - inst.start).days) for f in matched),
        min(ranks, default=None),
        min(exact, default=None),
        tuple(f.number for f in matched),
    )


def summary(scores: list[InstanceScore]) -> dict:
    """Detection, delay, AC@k and Avg@5 over ``scores`` (an instance not detected counts as not found)."""
    n = len(scores)
    if n == 0:
        return {"instances": 0}

    def share(hit) -> float:
        return round(sum(1 for s in scores if hit(s)) / n, 4)

    ac = {k: share(lambda s, k=k: s.rank is not None and s.rank <= k) for k in range(1, AVG_RANKS + 1)}
    delays = [s.delay_days for s in scores if s.delay_days is not None]
    return {
        "instances": n,
        "detection": share(lambda s: s.detected),
        "mean_delay_days": round(sum(delays) / len(delays), 2) if delays else None,
        **{f"ac@{k}": ac[k] for k in AC_RANKS},
        f"avg@{AVG_RANKS}": round(sum(ac.values()) / AVG_RANKS, 4),
        "ac@1_exact": share(lambda s: s.exact_rank == 1),
    }


def score(
    truth: list[Instance], findings: list[Finding], months: int, control: list[Finding] | None = None
) -> dict:
    """Every instance scored, overall and by difficulty and family; false alarms per month of the
    window (``months``), on the dataset and, when given, on its control run."""
    found = sorted((i for i in truth if not i.is_decoy), key=lambda i: int(i.question_id[1:]))
    decoys = [i for i in truth if i.is_decoy]
    scores = [score_instance(i, findings) for i in found]
    hit = {n for s in scores for n in s.findings}
    unmatched = [f for f in findings if f.number not in hit]
    on_decoys = [f for f in unmatched if any(matches(f, d) for d in decoys)]
    groups: dict[str, dict[str, list[InstanceScore]]] = {"difficulty": {}, "family": {}}
    for s in scores:
        groups["difficulty"].setdefault(s.instance.difficulty, []).append(s)
        groups["family"].setdefault(s.instance.family, []).append(s)
    out = {
        "tolerance_days": TOLERANCE_DAYS,
        "findings": len(findings),
        "overall": summary(scores),
        "by_difficulty": {k: summary(v) for k, v in sorted(groups["difficulty"].items())},
        "by_family": {k: summary(v) for k, v in sorted(groups["family"].items())},
        "false_alarms": len(unmatched),
        "false_alarms_per_month": round(len(unmatched) / months, 3),
        "decoys": len(decoys),
        "decoys_flagged": sum(1 for d in decoys if any(matches(f, d) for f in unmatched)),
        "false_alarms_on_decoys": len(on_decoys),
        "instances": [
            {
                "question_id": s.instance.question_id,
                "anomaly_id": s.instance.anomaly_id,
                "type": s.instance.type,
                "family": s.instance.family,
                "difficulty": s.instance.difficulty,
                "window": [s.instance.start.isoformat(), s.instance.end.isoformat()],
                "detected": s.detected,
                "delay_days": s.delay_days,
                "rank": s.rank,
                "exact_rank": s.exact_rank,
                "findings": list(s.findings),
            }
            for s in scores
        ],
    }
    if control is not None:
        out["control"] = {"findings": len(control), "false_alarms_per_month": round(len(control) / months, 3)}
    return out
