"""What the ground truth says of each instance of the catalogue's types: the KPIs it moves, the
question an analyst would be asked, the root cause in words with the segment named as an analyst
would name it, and the mechanism with its configured size."""

from __future__ import annotations

from dataclasses import dataclass

from synth_spark.config.scenario_settings import MONTHLY, ScenarioInstance


@dataclass(frozen=True)
class Entry:
    """What the ground truth says of an instance of a type: the KPIs it moves, the question an
    analyst would be asked, the root cause in words, and the mechanism ({size}: its size)."""

    kpis: str
    question: str
    cause: str
    mechanism: str


CATALOGUE: dict[str, Entry] = {
    "competitor_launch": Entry(
        "new pledges, MRR",
        "Why did new pledges to {segment} fall from {month}?",
        "A competitor's launch drew new patrons away from {segment}",
        "new patrons arrive at {minus} of the usual rate",
    ),
    "promotion": Entry(
        "new pledges, MRR",
        "Why did new pledges to {segment} rise from {month}?",
        "A promotion brought more new patrons to {segment}",
        "new patrons arrive at {plus} of the usual rate",
    ),
    "policy_change": Entry(
        "new pledges, voluntary churn, MRR",
        "Why did {segment} lose patrons from {month}?",
        "A policy change hit {segment}: fewer new patrons and more cancellations",
        "new patrons arrive at {minus} of the usual rate and patrons cancel at {plus} of the usual rate",
    ),
    "churn_wave": Entry(
        "voluntary churn, MRR",
        "Why did cancellations rise for {segment} from {month}?",
        "A wave of cancellations among the patrons of {segment}",
        "patrons cancel at {plus} of the usual rate",
    ),
    "posting_slump": Entry(
        "posts, engagement events, voluntary churn",
        "Why did engagement with {segment} fall from {month}?",
        "{segment} posted less (burnout), and their patrons engaged less and cancelled more",
        "posts at {minus} of the usual rate; engagement and churn follow from the model",
    ),
    "payment_method_failure": Entry(
        "payment decline rate, revenue, payment_failed churn",
        "Why did payment declines rise from {day}?",
        "{segment} failed at the processor (processing errors)",
        "{share} of the attempts that would have gone through decline as processing errors",
    ),
    "card_reissue_wave": Entry(
        "card_expired declines, payment_failed churn",
        "Why did card_expired declines rise from {day}?",
        "A card reissue: {segment} were replaced, so charges to the old cards decline as expired",
        "{share} of first attempts decline as card_expired until the patron enters the new card",
    ),
    "retry_degradation": Entry(
        "retry recovery rate, payment_failed churn",
        "Why did fewer failed payments recover from {day}?",
        "A retry-schedule change: retries of {segment} succeed less often",
        "retries succeed at {minus} of the usual rate",
    ),
}


def segment_words(inst: ScenarioInstance) -> str:
    """The segment as an analyst would name it, coarse dimensions first."""
    seg = inst.segment
    if inst.type in MONTHLY:
        parts = []
        for dim in ("size", "category", "country", "currency", "plan_type"):
            if dim in seg:
                parts.append(f"{dim.replace('_', ' ')} {' or '.join(map(str, seg[dim]))}")
        for dim, word in (("nsfw", "NSFW"), ("verified", "verified")):
            if dim in seg:
                parts.append(" or ".join(word if v else f"not {word}" for v in seg[dim]))
        if "creator_id" in seg:
            parts.append(f"creator {' or '.join(map(str, seg['creator_id']))}")
        return "creators" + (f" ({'; '.join(parts)})" if parts else "")
    methods = " or ".join(seg.get("payment_method", ())) or "every payment method"
    where = f" of patrons in {' or '.join(seg['patron_country'])}" if "patron_country" in seg else ""
    noun = (
        "cards" if inst.type == "card_reissue_wave" and "payment_method" not in seg else f"{methods} payments"
    )
    return noun + where


def truth_rows(scenarios) -> list[dict]:
    """One ground-truth record per instance, in the anomalies table's columns. The mechanism is
    stated with its configured size (and, for a placed instance, the difficulty and the spreads of
    its KPI's noise it was sized for): what the data shows against a control run is measured by
    ``validate``, not copied from here."""
    rows = []
    for inst, (origin, spreads) in zip(scenarios.instances, scenarios.origins):
        entry, words = CATALOGUE[inst.type], segment_words(inst)
        when = dict(month=f"{inst.start:%B %Y}", day=f"{inst.start:%B} {inst.start.day}, {inst.start.year}")
        sizes = dict(minus=f"{1 - inst.size:.0%}", plus=f"{1 + inst.size:.0%}", share=f"{inst.size:.0%}")
        ramp = " (building up over the window)" if inst.shape == "ramp" else ""
        if spreads is not None:
            ramp += (
                f"; placed at difficulty {origin}, sized for {spreads:g} spreads of its KPI's noise at "
                "this scale"
            )
        seg = inst.segment
        rows.append(
            dict(
                anomaly_type=inst.type,
                start_at=f"{inst.start:%Y-%m-%d}T00:00:00Z",
                end_at=f"{inst.end:%Y-%m-%d}T23:59:59Z",
                creator_ids=";".join(map(str, seg["creator_id"])) if "creator_id" in seg else None,
                category=seg["category"][0] if len(seg.get("category", ())) == 1 else None,
                metric=entry.kpis,
                expected_effect=f"configured: {entry.mechanism.format(**sizes)} for {words}{ramp}",
                investigation_question=entry.question.format(segment=words, **when),
                expected_root_cause=entry.cause.format(segment=words)[:1].upper()
                + entry.cause.format(segment=words)[1:],
            )
        )
    return rows
