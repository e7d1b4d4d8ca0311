"""A measured check and its verdict: what the report's table of checks is made of."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

PASS, FAIL, INFO, UNATTAINABLE = "pass", "FAIL", "info", "not attainable at 1x volumes"
#: a check whose measurement, at this dataset's scale, spreads wider than its tolerance band
NOISY = "too noisy at this scale"
#: a check missed on a dataset smaller than the 1x its targets are calibrated at
BELOW_1X = "not judgeable below 1x"
#: verdicts as the console's six-character column shows them (the report spells them out)
SHORT_VERDICT = {NOISY: "noisy", UNATTAINABLE: "n/a", BELOW_1X: "<1x"}


@dataclass
class Check:
    group: str
    name: str
    target: str
    tolerance: str
    measured: str
    verdict: str
    value: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


class Judged(str):
    """A verdict that remembers the band it was judged against and, for a measurement made of counted
    events, the standard error their counting alone gives it (both for the noise judgement)."""

    band: tuple[float, float]
    counting_se: float | None


def _within(value: float, lo: float, hi: float, counting_se: float | None = None) -> str:
    verdict = Judged(PASS if lo <= value <= hi and not math.isnan(value) else FAIL)
    verdict.band, verdict.counting_se = (lo, hi), counting_se
    return verdict


def below_calibration(checks: list[Check], scale: float) -> list[Check]:
    """Below 1x, a miss says more about how few creators and months there are to count than about
    the model: a failed check is not judged there, with the reason, and never fails the run."""
    if scale >= 1:
        return checks
    why = f"the target holds from 1x; this dataset is {scale:g}x"
    return [
        replace(c, verdict=BELOW_1X, tolerance=f"{c.tolerance}; {why}") if c.verdict == FAIL else c
        for c in checks
    ]


def summary(checks: list[Check]) -> dict[str, int]:
    counts = {PASS: 0, FAIL: 0, NOISY: 0, INFO: 0, UNATTAINABLE: 0, BELOW_1X: 0}
    for c in checks:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    return counts
