"""What each instance of the catalogue did to the data, measured against its paired control: the
same seed and scale with the anomalies off, so that every difference inside the instance's
segment and window is the instance's own (or its confounders', which the truth lists).

The ground truth in the dataset states what was asked for (``configured: ...``); this is what the
data shows, next to it. A count's change is put in spreads of the control's Poisson noise (its
square root), a rate's in spreads of the control's binomial noise over the window's trials: the
same yardstick placement sizes instances by, read off the data instead of the plan.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from synth_spark.validation.score_card import Score
from synth_spark.validation.verdicts import INFO, Check


@dataclass(frozen=True)
class Realised:
    anomaly_id: int
    kpi: str
    observed: float  # in the dataset (a count, or a rate)
    control: float  # in the control run, same segment and window
    change: float  # relative to the control (nan for a control of 0)
    spreads: float  # the difference, in spreads of the control's noise

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}

    def words(self, rate: bool) -> str:
        shown = (lambda x: f"{100 * x:.2f}%") if rate else (lambda x: f"{x:,.0f}")
        change = "" if math.isnan(self.change) else f"{100 * self.change:+.1f}%, "
        return (
            f"{self.kpi} {shown(self.observed)} against {shown(self.control)} in the control run "
            f"({change}{self.spreads:+.1f} spreads)"
        )


def realised(data: Score, control: Score) -> Realised | None:
    """The instance's KPI in its segment and window, against the same in the control run."""
    if data.observed is None or control.observed is None:
        return None
    x, c = data.observed, control.observed
    if control.trials is not None:  # a rate over the window's attempts
        n = max(control.trials, 1.0)
        sd = math.sqrt(max(c * (1 - c), 1.0 / n) / n)
    else:
        sd = math.sqrt(max(c, 1.0))
    change = x / c - 1 if c > 0 else float("nan")
    return Realised(data.anomaly_id, data.kpi or "", x, c, change, (x - c) / sd)


def measured(scores: list[Score], control: list[Score] | None) -> dict[int, Realised]:
    """Each catalogue instance's realised effect, by anomaly id (none without a control run)."""
    if not control:
        return {}
    by_id = {sc.anomaly_id: sc for sc in control}
    out = {}
    for sc in scores:
        other = by_id.get(sc.anomaly_id)
        got = None if other is None else realised(sc, other)
        if got is not None:
            out[sc.anomaly_id] = got
    return out


def lines(scores: list[Score], effects: dict[int, Realised], truth) -> list[Check]:
    """One line per measured instance, shown and never judged: what was asked for (the truth's
    ``expected_effect``), and what the data shows."""
    asked = dict(zip(truth["anomaly_id"], truth["expected_effect"]))
    out = []
    for sc in scores:
        got = effects.get(sc.anomaly_id)
        if got is None:
            continue
        out.append(
            Check(
                "anomalies",
                f"{sc.anomaly_type} (anomaly {sc.anomaly_id}): realised effect against the control run",
                str(asked.get(sc.anomaly_id, "")),
                "shown, not judged",
                got.words(sc.trials is not None),
                INFO,
                got.spreads,
            )
        )
    return out


def ground_truth(truth, effects: dict[int, Realised]) -> list[dict]:
    """The ground truth's rows with the realised effect of each measured instance (``null`` for
    the others, and for all without a control run): what the report writes as ``ground_truth``."""
    rows = []
    for row in truth.to_dict(orient="records"):
        got = effects.get(int(row["anomaly_id"]))
        rows.append({**row, "realised": None if got is None else got.to_dict()})
    return rows
