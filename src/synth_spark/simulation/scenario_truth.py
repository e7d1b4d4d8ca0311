"""What the ground truth says of each instance of the catalogue's types: the KPIs it moves, the
question an analyst would be asked, the root cause in words with the segment named as an analyst
would name it, and the mechanism with its configured size."""

from __future__ import annotations

import json
from dataclasses import dataclass

from synth_spark.config.scenario_settings import MONTHLY, ScenarioInstance, family_of

#: the order a segment's dimensions are written in, coarse to fine: creator dimensions from the
#: broadest split of the platform down to one creator, then the payer's method and country
SEGMENT_ORDER = (
    "size",
    "category",
    "plan_type",
    "currency",
    "country",
    "nsfw",
    "verified",
    "creator_id",
    "payment_method",
    "patron_country",
)

#: the KPIs each type moves, and which way, by the names the docs define (docs/anomalies.md)
KPIS: dict[str, dict[str, str]] = {
    "viral_spike": {"new_pledges": "up", "mrr": "up"},
    "payment_outage": {"decline_rate": "up", "revenue": "down"},
    "holiday_churn": {"voluntary_churn": "up"},
    "creator_exodus": {"mrr": "down", "pledges_ended": "up"},
    "category_collapse": {"new_pledges": "down", "voluntary_churn": "up", "mrr": "down"},
    "competitor_launch": {"new_pledges": "down", "mrr": "down"},
    "promotion": {"new_pledges": "up", "mrr": "up"},
    "policy_change": {"new_pledges": "down", "voluntary_churn": "up", "mrr": "down"},
    "churn_wave": {"voluntary_churn": "up", "mrr": "down"},
    "posting_slump": {"posts": "down", "engagement_events": "down", "voluntary_churn": "up"},
    "payment_method_failure": {"decline_rate": "up", "revenue": "down", "payment_failed_churn": "up"},
    "card_reissue_wave": {"card_expired_declines": "up", "payment_failed_churn": "up"},
    "retry_degradation": {"retry_recovery_rate": "down", "payment_failed_churn": "up"},
    "mix_shift": {"new_pledges": "up", "new_pledges_share": "up"},
    "events_lost": {"engagement_events": "down"},
    "transactions_duplicated": {"revenue": "up"},
    "amounts_in_cents": {"revenue": "up"},
}


def segment_json(segment: dict) -> str:
    """A segment as the ground truth writes it: a JSON object of dimension -> values, its
    dimensions ordered coarse to fine; ``{}`` is the whole platform."""
    dims = sorted(segment, key=SEGMENT_ORDER.index)
    return json.dumps({d: [v if isinstance(v, bool) else str(v) for v in segment[d]] for d in dims})


def kpis_json(kind: str) -> str:
    return json.dumps(KPIS[kind])


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
        "Which creators got fewer new pledges from {month}, and why?",
        "A competitor's launch drew new patrons away from {segment}",
        "new patrons arrive at {minus} of the usual rate",
    ),
    "promotion": Entry(
        "new pledges, MRR",
        "Which creators got more new pledges from {month}, and why?",
        "A promotion brought more new patrons to {segment}",
        "new patrons arrive at {plus} of the usual rate",
    ),
    "policy_change": Entry(
        "new pledges, voluntary churn, MRR",
        "Which creators lost patrons from {month}, and why?",
        "A policy change hit {segment}: fewer new patrons and more cancellations",
        "new patrons arrive at {minus} of the usual rate and patrons cancel at {plus} of the usual rate",
    ),
    "churn_wave": Entry(
        "voluntary churn, MRR",
        "Whose patrons cancelled more from {month}, and why?",
        "A wave of cancellations among the patrons of {segment}",
        "patrons cancel at {plus} of the usual rate",
    ),
    "posting_slump": Entry(
        "posts, engagement events, voluntary churn",
        "Which creators' engagement fell from {month}, and why?",
        "{segment} posted less (burnout), and their patrons engaged less and cancelled more",
        "posts at {minus} of the usual rate; engagement and churn follow from the model",
    ),
    "payment_method_failure": Entry(
        "payment decline rate, revenue, payment_failed churn",
        "Which payments declined more from {day}, and why?",
        "{segment} failed at the processor (processing errors)",
        "{share} of the attempts that would have gone through decline as processing errors",
    ),
    "card_reissue_wave": Entry(
        "card_expired declines, payment_failed churn",
        "Whose card_expired declines rose from {day}, and why?",
        "A card reissue: {segment} were replaced, so charges to the old cards decline as expired",
        "{share} of first attempts decline as card_expired until the patron enters the new card",
    ),
    "retry_degradation": Entry(
        "retry recovery rate, payment_failed churn",
        "Whose failed payments recovered less often from {day}, and why?",
        "A retry-schedule change: retries of {segment} succeed less often",
        "retries succeed at {minus} of the usual rate",
    ),
    "mix_shift": Entry(
        "new pledges, share of new pledges",
        "Why did the mix of new pledges shift from {month}?",
        "A mix shift: new patrons moved to {segment} from the rest of the platform (a change in how "
        "patrons discover creators); the platform's new pledges did not change in total",
        "new patrons arrive at {plus} of the usual rate, and the rest of the platform gets as many fewer",
    ),
    "events_lost": Entry(
        "engagement events",
        "Why did engagement events fall on {day}?",
        "A data incident, not the business: {share} of the {segment} of {days} were lost on their way "
        "into the warehouse",
        "{share} of the {segment} of the window are missing from the table",
    ),
    "transactions_duplicated": Entry(
        "revenue",
        "Why did revenue rise on {day}?",
        "A data incident, not the business: {share} of the {segment} of {days} were loaded into the "
        "warehouse twice",
        "{share} of the {segment} of the window appear twice, with the same transaction_id",
    ),
    "amounts_in_cents": Entry(
        "revenue",
        "Why did revenue jump on {day}?",
        "A data incident, not the business: the amounts of {share} of the {segment} of {days} were "
        "written in cents instead of dollars",
        "the money columns of {share} of the {segment} of the window are 100 times too large",
    ),
}

#: the checks of `synth-spark check` (dbt tests) each data incident breaks: the rule that catches it
CAUGHT_BY: dict[str, tuple[str, ...]] = {
    "events_lost": ("engagement_events__event_at__no_day_lost",),
    "transactions_duplicated": (
        "transactions__transaction_id__unique",
        "patrons__lifetime_spend_usd__matches_transactions",
    ),
    "amounts_in_cents": (
        "transactions__gross_amount_usd__is_a_tier_price",
        "transactions__fees__rounded_half_up",
        "patrons__lifetime_spend_usd__matches_transactions",
    ),
}


def segment_words(inst: ScenarioInstance) -> str:
    """The segment as an analyst would name it, coarse dimensions first."""
    seg = inst.segment
    if family_of(inst.type) == "data":
        if inst.type == "events_lost":
            return "engagement events"
        return " or ".join(seg.get("payment_method", ())) + " transactions" if seg else "transactions"
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
    methods = " or ".join(seg.get("payment_method", ()))
    where = f" of patrons in {' or '.join(seg['patron_country'])}" if "patron_country" in seg else ""
    if not methods:
        noun = "cards" if inst.type == "card_reissue_wave" else "payments"
    else:
        noun = f"{methods} payments"
    return noun + where


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


#: what the check of a lost day needs (tests/engagement_events__event_at__no_day_lost.sql in the dbt
#: project): a day down by 90% or more, among days of 200 events or more
EVENTS_LOST_SEEN, EVENTS_JUDGED = 0.9, 200.0


def caught_by(kind: str, size: float, events_per_day: float | None = None) -> tuple[str, ...]:
    """The checks of `synth-spark check` an instance breaks: none for a business scenario, nor for a
    loss of events too small for its day to stand out or on days too quiet to judge
    (``events_per_day``: what the plan expects in its window)."""
    if kind == "events_lost" and (size < EVENTS_LOST_SEEN or (events_per_day or 0.0) < EVENTS_JUDGED):
        return ()
    return CAUGHT_BY.get(kind, ())


def _caught(kind: str, size: float, events_per_day: float | None) -> str:
    if kind not in CAUGHT_BY:
        return ""
    rules = caught_by(kind, size, events_per_day)
    if rules:
        return f"; caught by the checks {', '.join(rules)}"
    if (events_per_day or 0.0) < EVENTS_JUDGED:
        return (
            f"; at this scale a day holds about {events_per_day or 0:.0f} events, too few for the check "
            f"{CAUGHT_BY[kind][0]} to judge (it needs {EVENTS_JUDGED:.0f})"
        )
    return (
        f"; a loss this small may pass the check {CAUGHT_BY[kind][0]}, which looks for a day with "
        "under a tenth of the events of the days around it"
    )


def broken_on_purpose(truth: list[dict]) -> list[dict]:
    """The data incidents of ``truth`` with the checks each is aimed at: what a dataset's manifest
    declares, so that ``check`` can say a failure of one is on purpose (a partial loss of events
    may pass its check, or fail it)."""
    return [
        {
            "anomaly_id": row["anomaly_id"],
            "anomaly_type": row["anomaly_type"],
            "breaks": list(CAUGHT_BY[row["anomaly_type"]]),
        }
        for row in truth
        if row["family"] == "data"
    ]


def truth_rows(scenarios, events_per_day: dict[int, float] | None = None) -> list[dict]:
    """One ground-truth record per instance, in the anomalies table's columns. The mechanism is
    stated with its configured size (and, for a placed instance, the difficulty and the spreads of
    its KPI's noise it was sized for): what the data shows against a control run is measured by
    ``validate``, not copied from here. ``events_per_day``: by instance number, the events a day of
    a lost-events incident's window holds, as the plan expects (whether its check can judge)."""
    rows = []
    for i, (inst, (origin, spreads)) in enumerate(zip(scenarios.instances, scenarios.origins)):
        entry, words = CATALOGUE[inst.type], segment_words(inst)
        day = f"{inst.start:%B} {inst.start.day}, {inst.start.year}"
        last = f"{inst.end:%B} {inst.end.day}, {inst.end.year}"
        when = dict(
            month=f"{inst.start:%B %Y}", day=day, days=day if inst.end == inst.start else f"{day} to {last}"
        )
        sizes = dict(minus=f"{1 - inst.size:.0%}", plus=f"{1 + inst.size:.0%}", share=f"{inst.size:.0%}")
        share = "all" if inst.size >= 1 else sizes["share"]
        ramp = " (building up over the window)" if inst.shape == "ramp" else ""
        if spreads is not None:
            ramp += (
                f"; placed at difficulty {origin}, sized for {spreads:g} spreads of its KPI's noise at "
                "this scale"
            )
        seg = inst.segment
        mechanism = entry.mechanism.format(**{**sizes, "share": share, "segment": words})
        if family_of(inst.type) == "business":
            mechanism += f" for {words}"
        rows.append(
            dict(
                anomaly_type=inst.type,
                family=family_of(inst.type),
                start_at=f"{inst.start:%Y-%m-%d}T00:00:00Z",
                end_at=f"{inst.end:%Y-%m-%d}T23:59:59Z",
                creator_ids=";".join(map(str, seg["creator_id"])) if "creator_id" in seg else None,
                category=seg["category"][0] if len(seg.get("category", ())) == 1 else None,
                metric=entry.kpis,
                segment=segment_json(seg),
                kpis=kpis_json(inst.type),
                expected_effect=f"configured: {mechanism}{ramp}",
                investigation_question=entry.question.format(segment=words, **when),
                expected_root_cause=_capitalised(entry.cause.format(segment=words, share=share, **when))
                + _caught(inst.type, inst.size, (events_per_day or {}).get(i)),
                difficulty=None if spreads is None else origin,
            )
        )
    return rows


@dataclass(frozen=True)
class Footprint:
    """Whom an anomaly acts on, and when: creators (a mask over the plan's creators; None: every
    creator) on the creator side, payment methods and patron countries (None: all) on the payer
    side, over [start, end) in epoch seconds."""

    side: str  # "creator", "payer" or "data: <table>" (job/ingestion.py)
    start: int
    end: int
    creators: object = None
    methods: frozenset | None = None
    countries: frozenset | None = None

    def meets(self, other: "Footprint") -> bool:
        if self.side != other.side or not (self.start < other.end and other.start < self.end):
            return False
        if self.side == "creator":
            return (
                self.creators is None
                or other.creators is None
                or bool((self.creators & other.creators).any())
            )

        def share(a, b):
            return a is None or b is None or bool(a & b)

        return share(self.methods, other.methods) and share(self.countries, other.countries)


def overlaps(footprints: list[Footprint]) -> list[str | None]:
    """For each anomaly, the ids (1, 2, ...) of the others acting on some of the same creators in
    the same months, or on some of the same payers at the same time: each is a confounder of the
    other. Types of the two sides (a payment failure and a churn wave) are not counted as
    overlapping, though both may move MRR."""
    out = []
    for i, f in enumerate(footprints):
        ids = [str(j + 1) for j, g in enumerate(footprints) if j != i and f.meets(g)]
        out.append(";".join(ids) or None)
    return out


def instance_footprints(scenarios, creator_ids, cal) -> list[Footprint]:
    out = []
    for e in scenarios.effects:
        if family_of(e.kind) == "data":
            # a fault of the copy of one table: it confounds only another fault of the same copy
            m = None if e.methods is None else frozenset(e.methods)
            side = "data: events" if e.kind == "events_lost" else "data: transactions"
            out.append(Footprint(side, e.start, e.end, methods=m))
        elif e.creators is not None:
            start, end = int(cal.month_start(e.first_month)), int(cal.month_end(e.last_month))
            out.append(Footprint("creator", start, end, creators=e.selects_creators(creator_ids)))
        else:
            m = None if e.methods is None else frozenset(e.methods)
            c = None if e.countries is None else frozenset(e.countries)
            out.append(Footprint("payer", e.start, e.end, methods=m, countries=c))
    return out
