"""Instances of the catalogue placed by the run seed: for each, a type, a segment, a window and a size,
drawn on the driver from (seed, stream, instance number) so that a run places the same instances
whatever its partitioning.

A size is asked for in *spreads*: a multiple of the natural noise of the KPI the type moves, in its
segment and window, at this scale. The noise is read off the plan: the expected count the KPI is
made of (new pledges, voluntary cancellations, posts, declined or recovered payments) and its
variance (Poisson, plus the month-to-month drift of a creator's arrivals and posting where the model
has one). An easy instance moves its KPI by 8-10 spreads, a medium one by 4-6, a hard one by 2-3;
a segment too small for that within the type's largest size is not used.

Placed instances never share a segment and a window with one another or with the five default
anomalies: on the creator side no two act on one creator in the same month; on the payment side no
two act on one payer at the same time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from synth_spark.config import Config
from synth_spark.config.scenario_settings import MONTHLY, ScenarioInstance, family_of
from synth_spark.simulation import identity, streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.kpi_noise import Planner
from synth_spark.simulation.rng import uniform
from synth_spark.simulation.scenarios import CARD_BASED
from synth_spark.vocabulary import DAY, DATA_INCIDENT_TYPES, PAYMENT_METHODS, SCENARIO_TYPES

#: the types placement draws: a mix shift is given in the config only, as it tells a story only on a
#: segment whose prices differ from the rest's, which a random segment seldom does
PLACED_TYPES = tuple(t for t in SCENARIO_TYPES if t != "mix_shift")
#: the effect each level asks for, in spreads of the KPI's noise (low, high)
LEVELS = {"easy": (8.0, 10.0), "medium": (4.0, 6.0), "hard": (2.0, 3.0)}
LEVELS_SHOWN = {**{k: f"{lo:g}-{hi:g}" for k, (lo, hi) in LEVELS.items()}, "mixed": "2-10"}
#: months of baseline a placed instance leaves before it
BASELINE_MONTHS = 6
#: the largest size placement gives: a loss is never total, and a gain of more than 3x the usual rate
#: is no incident a platform sees; a segment that needs more to reach its level is too small
MOST_LOST, MOST_GAINED = 0.9, 2.0
#: draws tried for one instance before the run is refused
TRIES = 400
#: the segment shapes drawn from, coarse to fine: one dimension, or two for a root cause at an intersection
CREATOR_SHAPES = (
    ("category",),
    ("size",),
    ("country",),
    ("plan_type",),
    ("category", "country"),
    ("size", "category"),
    ("category", "plan_type"),
)
PAYER_SHAPES = (("payment_method",), ("patron_country",), ("payment_method", "patron_country"))
#: the fewest rows a data incident is expected to touch: fewer, and there is no incident to find
FEWEST_ROWS = 3


class Unplaceable(ValueError):
    """The placement asked for cannot be made (a one-line reason naming the setting)."""


@dataclass
class Occupied:
    """Who is already acted on, and when: creator masks by month, payer sets by time."""

    creator_months: list[tuple[np.ndarray, set[int]]] = field(default_factory=list)
    payer_times: list[tuple[frozenset | None, frozenset | None, int, int]] = field(default_factory=list)
    #: the data incidents' copies: (the table's incident types, methods, start, end)
    copy_times: list[tuple[str, frozenset | None, int, int]] = field(default_factory=list)

    def copies_free(self, table: str, methods, start: int, end: int) -> bool:
        return not any(
            t == table and start < e and s < end and (methods is None or m is None or bool(methods & m))
            for t, m, s, e in self.copy_times
        )

    def creators_free(self, mask: np.ndarray, months: set[int]) -> bool:
        return not any(months & m and (mask & other).any() for other, m in self.creator_months)

    def payers_free(self, methods, countries, start: int, end: int) -> bool:
        def meets(a, b):
            return a is None or b is None or bool(a & b)

        return not any(
            start < e and s < end and meets(methods, m) and meets(countries, c)
            for m, c, s, e in self.payer_times
        )


@dataclass(frozen=True)
class Placed:
    instance: ScenarioInstance
    level: str
    spreads: float  # the effect asked for, in spreads of the KPI's noise


def _u(seed: int, name: str, i: int, attempt: int, k: int = 0) -> float:
    return float(uniform(seed, name, np.int64(i), np.int64(attempt), np.int64(k)))


def _pick(options, u: float):
    return options[min(int(u * len(options)), len(options) - 1)]


def _date(t: int) -> dt.date:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).date()


def _occupied_by_defaults(cal: Calendar, creators: dict[str, np.ndarray], plan) -> Occupied:
    ids, occ = creators["creator_id"], Occupied()
    everyone = np.ones(ids.shape, dtype=bool)
    if plan.viral_patrons:
        occ.creator_months.append((ids == plan.viral_creator, {plan.viral_month, plan.viral_month + 1}))
    if plan.holiday_month >= 0:
        occ.creator_months.append((everyone, {plan.holiday_month}))
    if plan.departures:
        first = int(cal.month_index(min(plan.departures.values())))
        occ.creator_months.append((np.isin(ids, list(plan.departures)), {first, first + 1, first + 2}))
    if plan.collapse_category >= 0:
        occ.creator_months.append(
            (creators["category_code"] == plan.collapse_category, set(range(plan.collapse_month, cal.months)))
        )
    if plan.outage_decline:
        occ.payer_times.append((None, None, plan.outage_start - DAY, plan.outage_end + DAY))
    return occ


def place(
    cfg: Config, cal: Calendar, creators: dict[str, np.ndarray], churn_norm: float, plan
) -> list[Placed]:
    """``scenarios.placed`` instances at ``scenarios.difficulty``, drawn from the run seed."""
    sc = cfg.scenarios
    if not sc.placed:
        return []
    if cal.months < BASELINE_MONTHS + 2:
        raise Unplaceable(
            f"scenarios.placed: a window of {cal.months} months leaves no room for {BASELINE_MONTHS} "
            "months of baseline before an instance; give a longer window"
        )
    planner, occ, out = (
        Planner(cfg, cal, creators, churn_norm),
        _occupied_by_defaults(cal, creators, plan),
        [],
    )
    seed = cfg.seed
    for i in range(sc.placed):
        too_small = 0
        on_another = _on_another(planner, seed, i, sc, out) if sc.overlap else None
        if on_another is not None:
            out.append(on_another)
            continue
        for attempt in range(TRIES):
            got = _draw(planner, occ, seed, i, attempt, sc.difficulty, sc.data_incidents)
            if got == "too small":
                too_small += 1
            elif got is not None:
                out.append(got)
                break
        else:
            if too_small > TRIES // 2:
                kind = _kind(seed, i, _level(seed, i, sc.difficulty), sc.data_incidents)
                raise Unplaceable(
                    f"scenarios.difficulty: {sc.difficulty!r} cannot be reached at scale {cfg.scale:g}: no "
                    f"segment of instance {i + 1} ({kind}) is large enough for its effect to stand "
                    f"{LEVELS_SHOWN[sc.difficulty]} spreads above its noise; give a larger --scale or an "
                    "easier difficulty"
                )
            raise Unplaceable(
                f"scenarios.placed: {sc.placed} instances do not fit in the window without two sharing a "
                f"segment and a window; {len(out)} fit at scale {cfg.scale:g}"
            )
    return out


def _level(seed: int, i: int, difficulty: str) -> str:
    return (
        difficulty if difficulty != "mixed" else _pick(tuple(LEVELS), _u(seed, streams.SCENARIO_LEVEL, i, 0))
    )


def _kind(seed: int, i: int, level: str, data_incidents: bool) -> str:
    """The instance's type: the instance's own, so that only its segment and window are drawn again
    and the mix of types does not lean towards those a small scale can carry. Amounts written in
    cents are only ever easy to see (a row of them moves a day's revenue by 99 payments), so they
    are drawn at that level only."""
    kinds = PLACED_TYPES
    if data_incidents:
        kinds += tuple(k for k in DATA_INCIDENT_TYPES if level == "easy" or k != "amounts_in_cents")
    return _pick(kinds, _u(seed, streams.SCENARIO_TYPE, i, 0))


def _draw(
    planner: Planner, occ: Occupied, seed: int, i: int, attempt: int, difficulty: str, data_incidents: bool
):
    cal, cre = planner.cal, planner.cre
    level = _level(seed, i, difficulty)
    lo, hi = LEVELS[level]
    spreads = lo + (hi - lo) * _u(seed, streams.SCENARIO_LEVEL, i, 1)
    kind = _kind(seed, i, level, data_incidents)
    if family_of(kind) == "data":
        return _draw_incident(planner, occ, seed, i, attempt, kind, level, spreads)
    if kind in MONTHLY:
        length = 1 + int(3 * _u(seed, streams.SCENARIO_WINDOW, i, attempt, 0))
        first = BASELINE_MONTHS + int(
            (cal.months - BASELINE_MONTHS - length + 1) * _u(seed, streams.SCENARIO_WINDOW, i, attempt, 1)
        )
        months = list(range(first, min(first + length, cal.months)))
        shape = _pick(CREATOR_SHAPES, _u(seed, streams.SCENARIO_SEGMENT, i, attempt, 0))
        # the segment of a creator drawn at random: a common value is drawn more often
        who = min(
            int(_u(seed, streams.SCENARIO_SEGMENT, i, attempt, 1) * cre["creator_id"].size),
            cre["creator_id"].size - 1,
        )
        segment = {dim: [str(planner.columns[dim][who])] for dim in shape}
        mask = np.ones(cre["creator_id"].shape, dtype=bool)
        for dim, (value,) in segment.items():
            mask &= planner.columns[dim] == value
        if not occ.creators_free(mask, set(months)):
            return None
        size = planner.size_for(spreads, *planner.creator_kpi(kind, mask, months))
        start, end = cal.month_start(months[0]), cal.month_end(months[-1])
    else:
        days = (2 + int(6 * _u(seed, streams.SCENARIO_WINDOW, i, attempt, 0))) * (
            4 if kind == "retry_degradation" else 1
        )
        lo_t = int(cal.month_start(BASELINE_MONTHS // 2))
        span = (int(cal.end) - lo_t) // DAY - days
        start = lo_t + int(span * _u(seed, streams.SCENARIO_WINDOW, i, attempt, 1)) * DAY
        end = start + days * DAY
        shape = _pick(PAYER_SHAPES, _u(seed, streams.SCENARIO_SEGMENT, i, attempt, 0))
        if kind == "card_reissue_wave" and shape == ("payment_method",):
            shape = ("patron_country",)  # a bank's cards: one country, every card-based method
        options = CARD_BASED if kind == "card_reissue_wave" else PAYMENT_METHODS
        weights = np.array([planner.method_share[m] for m in options])
        method = options[
            int(
                np.searchsorted(
                    np.cumsum(weights) / weights.sum(),
                    _u(seed, streams.SCENARIO_SEGMENT, i, attempt, 2),
                    side="right",
                ).clip(0, len(options) - 1)
            )
        ]
        country = str(identity.draw_country(np.array([_u(seed, streams.SCENARIO_SEGMENT, i, attempt, 3)]))[0])
        segment = {}
        if "payment_method" in shape:
            segment["payment_method"] = [method]
        if "patron_country" in shape:
            segment["patron_country"] = [country]
        methods = (
            frozenset(segment.get("payment_method", options if kind == "card_reissue_wave" else ())) or None
        )
        countries = frozenset(segment.get("patron_country", ())) or None
        if not occ.payers_free(methods, countries, start, end):
            return None
        size = planner.size_for(spreads, *planner.payer_kpi(kind, methods, countries, start, end))
    most = MOST_GAINED if kind in ("promotion", "churn_wave") else MOST_LOST
    if not np.isfinite(size) or size > most:
        return "too small"
    inst = ScenarioInstance(
        type=kind,
        segment=segment,
        start=_date(int(start)),
        end=_date(int(end) - 1),
        size=round(float(size), 4),
    )
    if kind in MONTHLY:
        occ.creator_months.append((mask, set(months)))
    else:
        occ.payer_times.append((methods, countries, int(start), int(end)))
    return Placed(inst, level, round(float(spreads), 2))


def _draw_incident(
    planner: Planner, occ: Occupied, seed: int, i: int, attempt: int, kind: str, level: str, spreads: float
):
    """A data incident: one to three days of one table's copy, of every payment method or one."""
    cal = planner.cal
    days = 1 + int(3 * _u(seed, streams.SCENARIO_WINDOW, i, attempt, 0))
    lo_t = int(cal.month_start(BASELINE_MONTHS // 2))
    start = (
        lo_t
        + int(((int(cal.end) - lo_t) // DAY - days) * _u(seed, streams.SCENARIO_WINDOW, i, attempt, 1)) * DAY
    )
    end = start + days * DAY
    segment: dict = {}
    if kind != "events_lost" and _u(seed, streams.SCENARIO_SEGMENT, i, attempt, 0) < 0.5:
        segment["payment_method"] = [
            _pick(PAYMENT_METHODS, _u(seed, streams.SCENARIO_SEGMENT, i, attempt, 2))
        ]
    methods = frozenset(segment.get("payment_method", ())) or None
    table = "events" if kind == "events_lost" else "transactions"
    if not occ.copies_free(table, methods, start, end):
        return None
    per_size, sd, rows = planner.data_kpi(kind, methods, start, end)
    size = planner.size_for(spreads, per_size, sd)
    if kind == "amounts_in_cents" and size * rows < FEWEST_ROWS:
        # easy is 8 spreads or more: the fewest rows in cents are often more than 10
        size = np.ceil(FEWEST_ROWS / rows * 1e4) / 1e4  # rounded up, as the size is written
        spreads = size * per_size / sd
    if not np.isfinite(size) or size > MOST_LOST or size * rows < FEWEST_ROWS:
        return "too small"
    inst = ScenarioInstance(
        type=kind, segment=segment, start=_date(start), end=_date(end - 1), size=round(float(size), 4)
    )
    occ.copy_times.append((table, methods, start, end))
    return Placed(inst, level, round(float(spreads), 2))


def _on_another(planner: Planner, seed: int, i: int, sc, placed: list[Placed]) -> Placed | None:
    """With overlap asked for, half the instances (drawn by the run seed) are put on the segment and
    window of an earlier one of the same side that has no partner yet, a confounder of each other
    (pairs, never piles): its type is its own, its
    size is for its level in that segment and window. None when the draw says no, when no earlier
    instance is of its side, or when that segment cannot carry its level."""
    if _u(seed, streams.SCENARIO_OVERLAP, i, 0) >= 0.5:
        return None
    level = _level(seed, i, sc.difficulty)
    kind = _kind(seed, i, level, sc.data_incidents)
    if family_of(kind) == "data":
        return None
    # pairs, never piles: a host is an instance no other shares its segment and window with yet
    shared = Counter((json.dumps(p.instance.segment, sort_keys=True), p.instance.start) for p in placed)
    side = [
        p
        for p in placed
        if (p.instance.type in MONTHLY) == (kind in MONTHLY)
        and family_of(p.instance.type) == "business"
        and shared[(json.dumps(p.instance.segment, sort_keys=True), p.instance.start)] == 1
    ]
    if kind == "card_reissue_wave":
        side = [p for p in side if p.instance.segment.get("payment_method", ["card"])[0] in CARD_BASED]
    if not side:
        return None
    host = _pick(side, _u(seed, streams.SCENARIO_OVERLAP, i, 1)).instance
    lo, hi = LEVELS[level]
    spreads = lo + (hi - lo) * _u(seed, streams.SCENARIO_LEVEL, i, 1)
    start, end = _epoch_day(host.start), _epoch_day(host.end) + DAY
    if kind in MONTHLY:
        cal = planner.cal
        months = list(range(int(cal.month_index(start)), int(cal.month_index(end - 1)) + 1))
        mask = np.ones(planner.cre["creator_id"].shape, dtype=bool)
        for dim, values in host.segment.items():
            mask &= np.isin(planner.columns[dim], values)
        size = planner.size_for(spreads, *planner.creator_kpi(kind, mask, months))
    else:
        methods = (
            frozenset(host.segment.get("payment_method", CARD_BASED if kind == "card_reissue_wave" else ()))
            or None
        )
        countries = frozenset(host.segment.get("patron_country", ())) or None
        size = planner.size_for(spreads, *planner.payer_kpi(kind, methods, countries, start, end))
    most = MOST_GAINED if kind in ("promotion", "churn_wave") else MOST_LOST
    if not np.isfinite(size) or size > most:
        return None
    inst = ScenarioInstance(
        type=kind, segment=host.segment, start=host.start, end=host.end, size=round(float(size), 4)
    )
    return Placed(inst, level, round(float(spreads), 2))


def _epoch_day(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())
