"""Decoys: labelled non-incidents. Each is something the data shows that looks like an incident and is
not one: the seasons the model has every year (the card-expiry wave at the turn of the year, fewer
engagements in summer, more new patrons in the last quarter) and a creator's organic growth spurt,
a month whose new patrons were high by chance within the creator's own volatility.

Nothing is added to the data for a decoy: it is found in the plan (the seasons in the config, the
spurts in the very draws the simulation makes for each creator's month), so the data is the same
with or without decoys, and only the ground truth gains their rows. A root-cause tool is scored on
leaving them alone.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.growth import arrival_rates
from synth_spark.simulation.rng import normal, poisson, uniform
from synth_spark.simulation.scenario_truth import segment_json
from synth_spark.vocabulary import DECOY_TYPES

#: months of the window a decoy leaves before it, as the placed instances do
FIRST_MONTH = 5
#: organic spurts labelled at most, and the expected new pledges a month needs to count as one (a
#: creator with two new patrons a month doubling is no spurt an analyst would chase)
SPURTS, SPURT_FLOOR = 3, 8.0

assert set(DECOY_TYPES) == {
    "card_expiry_season",
    "summer_engagement_dip",
    "q4_acquisition_lift",
    "organic_spurt",
}


def _day(cal: Calendar, m: int, last: bool = False) -> dt.date:
    first = dt.datetime.fromtimestamp(int(cal.month_start(m)), dt.timezone.utc).date()
    if not last:
        return first
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _row(
    kind: str, start: dt.date, end: dt.date, segment: dict, kpis: dict, question: str, cause: str
) -> dict:
    import json

    return dict(
        anomaly_type=kind,
        family="decoy",
        start_at=f"{start:%Y-%m-%d}T00:00:00Z",
        end_at=f"{end:%Y-%m-%d}T23:59:59Z",
        creator_ids=";".join(map(str, segment["creator_id"])) if "creator_id" in segment else None,
        category=None,
        metric=", ".join(k.replace("_", " ") for k in kpis),
        segment=segment_json(segment),
        kpis=json.dumps(kpis),
        expected_effect="none: nothing happened beyond what the model does every time",
        investigation_question=question,
        expected_root_cause=f"Not an incident: {cause}",
        difficulty=None,
    )


def seasons(cfg: Config, cal: Calendar) -> list[dict]:
    """The model's yearly seasons, each season of the window (after its first months) a decoy."""
    out = []
    months = range(FIRST_MONTH, cal.months)
    month_of_year = {m: _day(cal, m).month for m in months}
    peaks = set(cfg.payments.card_expiry.peak_months)
    for m in months:
        if month_of_year[m] in peaks:
            start = _day(cal, m)
            out.append(
                _row(
                    "card_expiry_season",
                    start,
                    _day(cal, m, last=True),
                    {},
                    {"card_expired_declines": "up", "payment_failed_churn": "up"},
                    f"Why did card_expired declines rise in {start:%B %Y}?",
                    "cards expire most at the turn of the year, so the card-expiry wave comes every year",
                )
            )
    for first_month, last_month, kind, kpis, question, cause, on in (
        (
            6,
            8,
            "summer_engagement_dip",
            {"engagement_events": "down"},
            "Why did engagement fall in the summer of {year}?",
            "patrons engage less from June to August every year",
            cfg.seasonality.summer_engagement < 0,
        ),
        (
            10,
            12,
            "q4_acquisition_lift",
            {"new_pledges": "up"},
            "Why did new pledges rise in the last quarter of {year}?",
            "more patrons join from October to December every year",
            cfg.seasonality.q4_new_pledges > 0,
        ),
    ):
        if not on:
            continue
        for m in months:
            if month_of_year[m] == first_month and m + (last_month - first_month) < cal.months:
                start, end = _day(cal, m), _day(cal, m + last_month - first_month, last=True)
                out.append(_row(kind, start, end, {}, kpis, question.format(year=start.year), cause))
    return out


def spurts(
    cfg: Config, cal: Calendar, creators: dict[str, np.ndarray], churn_norm: float, busy: np.ndarray
) -> list[dict]:
    """Creators' organic growth spurts: the creator-months whose new pledges most exceed their
    expected number, in spreads of its Poisson noise, from the same draws the simulation makes
    (simulation/arrivals.py) and away from every anomaly (``busy``: creators by months, True
    where one acts). At most :data:`SPURTS`, on different creators."""
    seed, ids = cfg.seed, creators["creator_id"]
    m = np.arange(cal.months)[None, :]
    vol = creators["volatility"][:, None]
    expected = arrival_rates(cfg, cal, creators, churn_norm)
    lam = expected * np.exp(vol * normal(seed, streams.ARRIVALS_NOISE, ids[:, None], m) - vol**2 / 2)
    u = (creators["stratum"][:, None] + uniform(seed, streams.ARRIVALS_SHIFT, m)) % 1.0
    drawn = poisson(u, lam, normal(seed, streams.ARRIVALS_N_Z, ids[:, None], m))
    z = (drawn - expected) / np.sqrt(np.maximum(expected, 1.0))
    eligible = (
        (expected >= SPURT_FLOOR) & ~busy & (m >= FIRST_MONTH) & (creators["joined_month"][:, None] < m)
    )
    z = np.where(eligible, z, -np.inf)
    out, taken = [], set()
    for cell in np.argsort(-z, axis=None):
        c, month = divmod(int(cell), cal.months)
        if not np.isfinite(z[c, month]) or z[c, month] < 3 or len(out) == SPURTS:
            break
        if c in taken:
            continue
        taken.add(c)
        start = _day(cal, month)
        out.append(
            _row(
                "organic_spurt",
                start,
                _day(cal, month, last=True),
                {"creator_id": [int(ids[c])]},
                {"new_pledges": "up"},
                f"Which creators got more new pledges in {start:%B %Y}, and why?",
                f"creator {int(ids[c])}'s new patrons were high by chance that month ({int(drawn[c, month])} "
                f"where {expected[c, month]:.0f} were expected), within its usual volatility",
            )
        )
    return out
