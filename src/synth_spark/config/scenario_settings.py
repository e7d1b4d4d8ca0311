"""The settings of scenarios beyond the five default anomalies: each instance names a type of the
catalogue, the segment of the platform it acts on, its window and its size. What the values of a
segment may be is checked here where the config alone knows (sizes, categories, plan types, payment
methods); which creators and countries exist is the plan's to check (simulation/scenarios.py)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from synth_spark.config.fields import NoCoercion, Strict
from synth_spark.vocabulary import (
    CATEGORIES,
    CREATOR_DIMENSIONS,
    CURRENCIES,
    DATA_INCIDENT_TYPES,
    PATRON_DIMENSIONS,
    PAYMENT_METHODS,
    SCENARIO_TYPES,
    SIZE_TIERS,
)

#: types that act on a creator's months (arrivals, churn, posting): their windows are whole months
MONTHLY = ("competitor_launch", "promotion", "policy_change", "churn_wave", "posting_slump", "mix_shift")
#: every type an instance may name: the business scenarios, then the data incidents
TYPES = (*SCENARIO_TYPES, *DATA_INCIDENT_TYPES)
#: the largest size of each type: a share of something that can be lost is at most 1
MAX_SIZE = {t: (10.0 if t in ("promotion", "churn_wave") else 1.0) for t in TYPES}
#: what a data incident's segment may select: a payment processor's own feed of transactions; the
#: events arrive in one stream, so a lost day of them is the whole platform's
INCIDENT_DIMENSIONS = {
    "events_lost": (),
    "transactions_duplicated": ("payment_method",),
    "amounts_in_cents": ("payment_method",),
}
#: the values a dimension may take where the config alone can say (None: the plan checks)
ALLOWED = {
    "size": SIZE_TIERS,
    "category": CATEGORIES,
    "currency": CURRENCIES,
    "payment_method": PAYMENT_METHODS,
    "nsfw": (True, False),
    "verified": (True, False),
}


def dimensions_of(kind: str) -> tuple[str, ...]:
    """The segment dimensions a scenario type can select on."""
    if kind in INCIDENT_DIMENSIONS:
        return INCIDENT_DIMENSIONS[kind]
    return CREATOR_DIMENSIONS if kind in MONTHLY else PATRON_DIMENSIONS


def family_of(kind: str) -> str:
    """``data`` for a fault of the pipeline, ``business`` for anything the platform's users did."""
    return "data" if kind in DATA_INCIDENT_TYPES else "business"


class ScenarioInstance(Strict):
    type: StrictStr
    segment: dict[StrictStr, list[StrictBool | StrictInt | StrictStr]]
    start: dt.date  # its first day (a month's first day for the monthly types)
    end: dt.date  # its last day, inclusive (a month's last day for the monthly types)
    size: Annotated[float, NoCoercion(), Field(gt=0.0)]
    shape: Literal["step", "ramp"] = "step"

    @model_validator(mode="after")
    def _a_known_type_on_its_own_dimensions(self) -> "ScenarioInstance":
        if self.type not in TYPES:
            raise ValueError(f"type: {self.type!r} is not a scenario type; allowed: {', '.join(TYPES)}")
        allowed = dimensions_of(self.type)
        for dim, values in self.segment.items():
            if dim not in allowed:
                raise ValueError(
                    f"segment: {self.type} cannot select on {dim!r}; allowed: "
                    f"{', '.join(allowed) or 'nothing (it is the whole platform)'}"
                )
            if not values:
                raise ValueError(f"segment.{dim}: give at least one value")
            known = ALLOWED.get(dim)
            for v in values:
                ok = (
                    v in known and type(v) is type(known[0])
                    if known
                    else (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
                    if dim == "creator_id"
                    else isinstance(v, str)
                )
                if not ok:
                    shown = (
                        ", ".join(map(str, known))
                        if known
                        else "a creator id"
                        if dim == "creator_id"
                        else "a code"
                    )
                    raise ValueError(f"segment.{dim}: {v!r} is not allowed; allowed: {shown}")
        if self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start}")
        if self.type in MONTHLY:
            if self.start.day != 1:
                raise ValueError(f"start: {self.type} acts on whole months; give a month's first day")
            if self.end.day != calendar.monthrange(self.end.year, self.end.month)[1]:
                raise ValueError(f"end: {self.type} acts on whole months; give a month's last day")
        if self.size > MAX_SIZE[self.type]:
            raise ValueError(
                f"size: {self.size:g} is too large for {self.type}; allowed: up to {MAX_SIZE[self.type]:g}"
            )
        return self


class Scenarios(Strict):
    instances: list[ScenarioInstance]
    placed: Annotated[int, NoCoercion(), Field(ge=0, le=1000)]  # instances drawn from the run seed
    difficulty: Literal["easy", "medium", "hard", "mixed"]  # of the placed instances
    #: data incidents break the data contract on purpose: allowed only when asked for, and then also
    #: drawn by the placement
    data_incidents: StrictBool = False
    #: let half the placed instances share the segment and window of an earlier one (confounders)
    overlap: StrictBool = False
    #: label the decoys (simulation/decoys.py) in the ground truth: the data stays the same
    decoys: StrictBool = False

    @model_validator(mode="after")
    def _data_incidents_asked_for(self) -> "Scenarios":
        if not self.data_incidents:
            for i, inst in enumerate(self.instances):
                if inst.type in DATA_INCIDENT_TYPES:
                    raise ValueError(
                        f"instances.{i}.type: {inst.type} is a data incident, which breaks the data contract "
                        "on purpose; allow it with scenarios.data_incidents: true (--data-incidents)"
                    )
        return self
