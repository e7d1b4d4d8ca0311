"""A score of one injected anomaly (what was measured, whether it was seen and its root cause
found), and the monthly series the scorers read it from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from synth_spark.validation.aggregates import Aggregates
from synth_spark.validation.drilldown import Drilldown
from synth_spark.validation.metrics import Dataset


@dataclass
class Score:
    anomaly_id: int
    anomaly_type: str
    question: str
    expected_root_cause: str
    signal: str  # what was measured, in words
    signal_value: float
    detected: bool
    root_cause_dimension: str
    root_cause_found: bool
    drilldowns: list[Drilldown] = field(default_factory=list)
    #: what the chart of this anomaly draws: an x column and one column per line
    series: pd.DataFrame | None = field(default=None, repr=False)
    #: the anomaly's start and end (naive UTC), for shading its chart
    window: tuple[pd.Timestamp, pd.Timestamp] | None = field(default=None, repr=False)
    #: the series an analyst draws first around the window (validation/shapes.py)
    shape: pd.DataFrame | None = field(default=None, repr=False)
    #: the smallest move of signal_value its own noise lets a blind detector see (Z_DETECTED robust
    #: spreads of the other months), where the signal is a relative change comparable with the injected size
    noise_floor: float | None = None
    #: the difficulty a placed instance of the catalogue was sized for (None otherwise)
    difficulty: str | None = None
    #: a catalogue instance's KPI in its segment and window (a count, or a rate over ``trials``)
    observed: float | None = None
    trials: float | None = None
    kpi: str | None = None

    @property
    def passed(self) -> bool:
        return self.detected and self.root_cause_found

    def to_dict(self) -> dict:
        out = asdict(self) | {"passed": self.passed}
        out.pop("series")
        out.pop("window")
        out.pop("shape")
        return out


def mrr_moves(agg: Aggregates) -> pd.Series:
    return agg.platform()["mrr"].pct_change()


def month_dates(ds: Dataset) -> pd.Series:
    # Month-end: MRR is measured at the end of the month, so a month's point sits after its events.
    return pd.Series(
        [
            pd.Timestamp(ds.start) + pd.DateOffset(months=i + 1) - pd.Timedelta(days=1)
            for i in range(ds.months)
        ]
    )


def monthly_series(agg: Aggregates, lines: dict[str, list[str] | None]) -> pd.DataFrame:
    out = {"x": month_dates(agg.ds)}
    for name, creators in lines.items():
        out[name] = (agg.platform()["mrr"] if creators is None else agg.creators_mrr(creators)).to_numpy()
    return pd.DataFrame(out)
