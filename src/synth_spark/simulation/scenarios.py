"""The catalogue's scenario types as mechanisms of the simulation: each instance changes one or two of
the model's inputs for a segment of the platform over a window, and everything that follows (fewer
pledges, the churn that fewer posts bring, the retries of a declined charge) is the model's own doing.

An instance is compiled once on the driver (:func:`compile_instances`): its segment becomes the set of
creators it selects, or the payment methods and patron countries it selects, and its window becomes
epoch seconds and window months. The compiled instances travel with the anomaly plan to every
executor; a kernel asks for the factor of its channel for its rows, which is exactly 1 where no
instance acts, so a run without instances draws and computes what it did before.

Types that act on a creator's month (arrivals, voluntary churn, posting) select creators by their
own columns; types that act on a payment attempt select by the patron's payment method and country.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from synth_spark.config.scenario_settings import MONTHLY, ScenarioInstance, family_of
from synth_spark.simulation import identity, streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.rng import uniform
from synth_spark.vocabulary import CATEGORIES, DAY, PAYMENT_METHODS, SIZE_TIERS

#: each monthly type's effect on its channels: +1 raises the input by the size, -1 lowers it
MONTH_EFFECTS: dict[str, dict[str, int]] = {
    "competitor_launch": {"arrivals": -1},
    "promotion": {"arrivals": +1},
    "policy_change": {"arrivals": -1, "voluntary_churn": +1},
    "churn_wave": {"voluntary_churn": +1},
    "posting_slump": {"posting": -1},
    "mix_shift": {"arrivals": +1},  # and the rest of the platform gives up as many (Effect.rest_share)
}


#: the payment methods a card is behind (a card reissue acts on these only)
CARD_BASED = tuple(m for m in PAYMENT_METHODS if m != "paypal")


def creator_dimensions(creators: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each dimension a creator segment selects on, as a column of the plan's creators."""
    return {
        "size": np.asarray(SIZE_TIERS, dtype=object)[creators["size_code"]],
        "category": np.asarray(CATEGORIES, dtype=object)[creators["category_code"]],
        "country": creators["country_code"],
        "currency": creators["currency_code"],
        "plan_type": creators["plan_type"],
        "nsfw": creators["is_nsfw"],
        "verified": creators["is_verified"],
        "creator_id": creators["creator_id"],
    }


def _epoch(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())


@dataclass(frozen=True)
class Effect:
    """One compiled instance: whom it selects, when, and how strongly."""

    number: int  # its place among the run's instances: part of the keys of its draws
    kind: str
    start: int  # epoch seconds, inclusive
    end: int  # epoch seconds, exclusive
    first_month: int
    last_month: int
    size: float
    ramp: bool
    creators: tuple[int, ...] | None = None  # sorted ids; None: not a creator segment
    methods: tuple[int, ...] | None = None  # payment method codes; None: every method
    countries: tuple[int, ...] | None = None  # patron country positions; None: every country
    #: a mix shift's rest of the platform loses, per window month, the segment's expected new
    #: patrons over the rest's: (1 - size * this) of its usual rate keeps the total as it was
    rest_share: tuple[float, ...] | None = None

    @cached_property
    def _creator_ids(self) -> np.ndarray:
        return np.asarray(self.creators, dtype=np.int64)

    def selects_creators(self, creator_id: np.ndarray) -> np.ndarray:
        return np.isin(creator_id, self._creator_ids)

    def month_strength(self, m: np.ndarray | int) -> np.ndarray:
        """0 outside its months; inside, 1 (a step) or rising to 1 by its last month (a ramp)."""
        m = np.asarray(m)
        inside = (m >= self.first_month) & (m <= self.last_month)
        if not self.ramp:
            return inside.astype(np.float64)
        return np.where(inside, (m - self.first_month + 1) / (self.last_month - self.first_month + 1), 0.0)

    def time_strength(self, t: np.ndarray) -> np.ndarray:
        inside = (t >= self.start) & (t < self.end)
        if not self.ramp:
            return inside.astype(np.float64)
        return np.where(inside, (t - self.start + 1) / (self.end - self.start), 0.0)

    def selects_payers(self, method: np.ndarray, country: np.ndarray | None) -> np.ndarray:
        ok = np.ones(np.shape(method), dtype=bool)
        if self.methods is not None:
            ok &= np.isin(method, self.methods)
        if self.countries is not None:
            ok &= np.isin(country, self.countries)
        return ok


@dataclass(frozen=True)
class Scenarios:
    """The run's compiled instances, as the kernels ask for them."""

    effects: tuple[Effect, ...] = ()
    #: the instances the effects were compiled from, and how each came: ("given", None) from the
    #: config, or (level, spreads asked for) when placed by the run seed
    instances: tuple[ScenarioInstance, ...] = ()
    origins: tuple[tuple[str, float | None], ...] = ()

    def month_factor(self, channel: str, creator_id: np.ndarray, m: np.ndarray | int) -> np.ndarray | float:
        """The multiplier of ``channel`` (arrivals, voluntary_churn, posting) for each creator and
        month, broadcast over ``creator_id`` and ``m``: 1.0 where no instance acts."""
        out: np.ndarray | float = 1.0
        for e in self.effects:
            sign = MONTH_EFFECTS.get(e.kind, {}).get(channel)
            if np.ndim(m) == 0 and not e.first_month <= m <= e.last_month:
                continue  # a month outside its window: no need to look its creators up
            if sign is None:
                continue
            strength = e.size * e.month_strength(m)
            selected = e.selects_creators(creator_id)
            if e.rest_share is None:
                out = out * (1.0 + sign * strength * selected)
            else:
                share = np.asarray(e.rest_share)[np.clip(m, 0, len(e.rest_share) - 1)]
                out = out * np.where(selected, 1.0 + strength, 1.0 - strength * share)
        return out

    @property
    def acts_on_payments(self) -> bool:
        return any(e.kind not in MONTHLY and family_of(e.kind) == "business" for e in self.effects)

    @property
    def incidents(self) -> tuple[Effect, ...]:
        """The data incidents: faults of the copy into the warehouse (job/ingestion.py), which no
        kernel of the simulation sees."""
        return tuple(e for e in self.effects if family_of(e.kind) == "data")

    def _acting(self, seed: int, kind: str, t: np.ndarray, method: np.ndarray, patron_id: np.ndarray):
        """Each instance of ``kind`` with the rows it acts on (its payers inside its window) and its
        strength there; a patron's country is looked up once, and only when an instance asks."""
        country = None
        for e in self.effects:
            if e.kind != kind:
                continue
            inside = (t >= e.start) & (t < e.end)
            if not inside.any():
                continue
            if e.countries is not None and country is None:
                country = identity.country_index(uniform(seed, streams.PATRON_COUNTRY, patron_id))
            rows = np.nonzero(inside & e.selects_payers(method, country))[0]
            yield e, rows, e.time_strength(t[rows])

    def declines(
        self, seed: int, kind: str, t: np.ndarray, method: np.ndarray, patron_id: np.ndarray, key: tuple
    ) -> np.ndarray:
        """Which attempts at ``t`` an instance of ``kind`` declines: a share ``size`` of those of its
        payers inside its window (``key``: the attempts' own keys, pledge id, month and attempt)."""
        out = np.zeros(np.shape(t), dtype=bool)
        for e, rows, strength in self._acting(seed, kind, t, method, patron_id):
            own = tuple(k[rows] if np.ndim(k) else k for k in key)
            out[rows] |= uniform(seed, streams.SCENARIO_DECLINE, *own, e.number) < e.size * strength
        return out

    def retry_factor(self, seed: int, t: np.ndarray, method: np.ndarray, patron_id: np.ndarray) -> np.ndarray:
        """The multiplier of a retry's chance to go through at ``t``: 1.0 where no instance acts."""
        out = np.ones(np.shape(t))
        for e, rows, strength in self._acting(seed, "retry_degradation", t, method, patron_id):
            out[rows] *= 1.0 - e.size * strength
        return out


NO_SCENARIOS = Scenarios()


def _selected_creators(i: int, inst: ScenarioInstance, creators: dict[str, np.ndarray]) -> tuple[int, ...]:
    columns = creator_dimensions(creators)
    ok = np.ones(creators["creator_id"].shape, dtype=bool)
    for dim, values in inst.segment.items():
        hit = np.isin(columns[dim], values)
        if not hit.any():
            present = sorted({str(v) for v in columns[dim].tolist()})[:12]
            raise ValueError(
                f"scenarios.instances.{i}.segment.{dim}: {values!r} matches no creator of this run; "
                f"present: {', '.join(present)}"
            )
        ok &= hit
    if not ok.any():
        raise ValueError(
            f"scenarios.instances.{i}.segment: no creator of this run is in all of {inst.segment}"
        )
    return tuple(int(c) for c in creators["creator_id"][ok])


def _countries(i: int, codes: list) -> tuple[int, ...]:
    try:
        return tuple(int(c) for c in identity.country_positions(codes))
    except ValueError:
        known = ", ".join(identity.country_codes())
        raise ValueError(
            f"scenarios.instances.{i}.segment.patron_country: {codes!r} names a country patrons do not come "
            f"from; allowed: {known}"
        ) from None


def _rest_share(i, inst, creators, chosen, arrivals, common) -> tuple[float, ...]:
    """Per window month, the segment's expected new patrons over the rest's: what the rest gives
    up, per unit of size, so that a mix shift moves patrons without adding any."""
    if arrivals is None:
        raise ValueError(f"scenarios.instances.{i}: a mix shift needs the plan's arrival rates")
    mine = np.isin(creators["creator_id"], chosen)
    seg, rest = arrivals[mine].sum(axis=0), arrivals[~mine].sum(axis=0)
    share = seg / np.maximum(rest, 1e-9)
    window = share[common["first_month"] : common["last_month"] + 1]
    if not mine.all() and inst.size * window.max() <= 0.9:
        return tuple(float(x) for x in share)
    raise ValueError(
        f"scenarios.instances.{i}.size: {inst.size:g} would take more than 90% of the rest of the "
        f"platform's new patrons to {inst.segment}; give at most {0.9 / max(window.max(), 1e-9):.3g}"
    )


def compile_instances(
    cal: Calendar,
    creators: dict[str, np.ndarray],
    instances: list[ScenarioInstance],
    origins: list[tuple[str, float | None]],
    arrivals: np.ndarray | None = None,
) -> Scenarios:
    """The instances compiled against the run's creators (a segment that selects none is bad input,
    as is a country no patron comes from). ``arrivals``: the plan's expected new pledges per creator
    and window month (growth.arrival_rates), which a mix shift balances against."""
    effects = []
    for i, inst in enumerate(instances):
        start, end = _epoch(inst.start), _epoch(inst.end) + DAY
        common = dict(
            number=i,
            kind=inst.type,
            start=start,
            end=end,
            first_month=int(cal.month_index(start)),
            last_month=int(cal.month_index(end - 1)),
            size=float(inst.size),
            ramp=inst.shape == "ramp",
        )
        if inst.type in MONTHLY:
            chosen = _selected_creators(i, inst, creators)
            rest = None
            if inst.type == "mix_shift":
                rest = _rest_share(i, inst, creators, chosen, arrivals, common)
            effects.append(Effect(**common, creators=chosen, rest_share=rest))
            continue
        methods = inst.segment.get("payment_method")
        if inst.type == "card_reissue_wave":
            methods = [m for m in (methods or PAYMENT_METHODS) if m in CARD_BASED]
            if not methods:
                raise ValueError(
                    f"scenarios.instances.{i}.segment.payment_method: a card reissue needs a card-based "
                    "method (card, apple_pay, google_pay)"
                )
        countries = inst.segment.get("patron_country")
        effects.append(
            Effect(
                **common,
                methods=None if methods is None else tuple(PAYMENT_METHODS.index(m) for m in methods),
                countries=None if countries is None else _countries(i, countries),
            )
        )
    return Scenarios(tuple(effects), tuple(instances), tuple(origins))
