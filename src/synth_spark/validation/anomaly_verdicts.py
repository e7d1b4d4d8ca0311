"""The verdict on each scored anomaly: one line per anomaly in the report's table of checks, and one
per anomaly for the control run."""

from __future__ import annotations

from synth_spark.validation.robust import Z_DETECTED
from synth_spark.validation.score_card import Score
from synth_spark.validation.verdicts import FAIL, INFO, NOISY, PASS, Check
from synth_spark.vocabulary import ANOMALY_TYPES


def judge(scores: list[Score], control: list[Score] | None, injected: dict[str, float] | None = None) -> list:
    """One judged line per anomaly for the report's table (and one per anomaly for the control run).

    ``injected`` holds the configured size of the anomalies whose signal is a relative change (the
    holiday's voluntary uplift). A miss is "too noisy at this scale" rather than a failure when that
    size is below the signal's noise floor: the month-to-month noise of a small dataset then hides
    the effect from any blind detector about as often as not, and with no spike found there is
    nothing for the drill-down to explain (its ranking is reported, not judged). A signal found
    with the wrong root cause fails at any scale."""
    out = []
    for sc in scores:
        if sc.anomaly_type not in ANOMALY_TYPES:
            out.append(_catalogue_line(sc))
            continue
        verdict, tolerance = (PASS if sc.passed else FAIL), "robust z >= 3; top contributor"
        size = (injected or {}).get(sc.anomaly_type)
        if not sc.detected and sc.noise_floor is not None and size is not None and size < sc.noise_floor:
            verdict = NOISY
            tolerance += (
                f"; the injected {100 * size:+.0f}% is below the {100 * sc.noise_floor:+.0f}% that "
                f"{Z_DETECTED:g} robust spreads of the other months need at this scale"
            )
        out.append(
            Check(
                "anomalies",
                f"{sc.anomaly_type}: signal in its window, root cause ({sc.root_cause_dimension}) ranked "
                "first",
                sc.expected_root_cause,
                tolerance,
                sc.signal,
                verdict,
                sc.signal_value,
            )
        )
    out += hit_rates(scores, "")
    for sc in control or []:
        if sc.anomaly_type not in ANOMALY_TYPES:
            continue  # counted as false alarms by hit_rates
        out.append(
            Check(
                "anomalies",
                f"{sc.anomaly_type}: no signal in the control run",
                "no signal",
                "robust z < 3",
                sc.signal,
                PASS if not sc.detected else FAIL,
                sc.signal_value,
            )
        )
    out += hit_rates(control or [], " in the control run")
    return out


def _catalogue_line(sc: Score) -> Check:
    """A catalogue instance's result, shown and not judged: a hard instance is sized to be missed
    about as often as found, so one miss says nothing; the hit rates per difficulty do."""
    found = "found" if sc.detected else "missed"
    cause = "its segment ranked first" if sc.root_cause_found else "another segment ranked first"
    return Check(
        "anomalies",
        f"{sc.anomaly_type} (anomaly {sc.anomaly_id}{_level(sc)}): {found}; {cause}",
        sc.expected_root_cause,
        "z >= 3 in its direction; own segment ranked first",
        sc.signal,
        INFO,
        sc.signal_value,
    )


def _level(sc: Score) -> str:
    return f", {sc.difficulty}" if sc.difficulty else ""


def hit_rates(scores: list[Score], where: str) -> list[Check]:
    """Per difficulty (and for instances given in the config), how many catalogue instances the
    segment detector found, and with their segment ranked first. In the control run, where
    nothing was put, every one found is a false alarm."""
    out = []
    catalogue = [sc for sc in scores if sc.anomaly_type not in ANOMALY_TYPES]
    for level in ("easy", "medium", "hard", None):
        group = [sc for sc in catalogue if sc.difficulty == level]
        if not group:
            continue
        found = sum(sc.detected for sc in group)
        both = sum(sc.passed for sc in group)
        n = len(group)
        out.append(
            Check(
                "anomalies",
                f"catalogue instances{'' if level is None else f' placed {level}'}: found{where}",
                "none found"
                if where
                else "found"
                if level is None
                else "fewer found as the difficulty rises",
                "shown, not judged",
                f"{found} of {n} found ({100 * found / n:.0f}%), {both} with their segment ranked first",
                INFO,
                found / n,
            )
        )
    return out


def unscored(truth) -> list[Check]:
    """A line, shown and never judged, for each instance of a catalogue type ``validate`` has no
    detector for: its window is still kept out of the targets' baselines. A data incident is the
    checks' to catch (``synth-spark check``), not a business signal; a decoy is nothing at all."""
    from synth_spark.validation.scoring import scored

    return [
        Check(
            "anomalies",
            f"{row.anomaly_type} (anomaly {row.anomaly_id}): not scored by validate",
            row.expected_root_cause,
            "-",
            {
                "data": "a data incident: synth-spark check names the rule it breaks",
                "decoy": "a decoy: nothing happened, and a tool should leave it alone",
            }.get(getattr(row, "family", "business"), "no detector for this type"),
            INFO,
        )
        for row in truth.itertuples()
        if not scored(row)
    ]
