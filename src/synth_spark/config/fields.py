"""What a valid setting looks like, shared by every settings model: strict numbers, probabilities,
first days of months, text that is safe in a spreadsheet cell, and the strict base model."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic import Strict as NoCoercion  # an int is an int: not a bool, not "42"

from synth_spark.vocabulary import UNSAFE_TEXT_START

__all__ = [
    "MonthStart",
    "NoCoercion",
    "NonNegFloat",
    "PositiveFloat",
    "Probability",
    "SafeText",
    "Strict",
    "check_keys",
    "check_mix",
    "check_weights",
]

Probability = Annotated[float, NoCoercion(), Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, NoCoercion(), Field(gt=0.0)]
NonNegFloat = Annotated[float, NoCoercion(), Field(ge=0.0)]


def check_weights(weights: dict[Any, float] | list[float], what: str) -> None:
    values = list(weights.values()) if isinstance(weights, dict) else list(weights)
    if not values:
        raise ValueError(f"{what} must not be empty")
    if any(v < 0 for v in values):
        raise ValueError(f"{what} must be non-negative")
    if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ValueError(f"{what} must sum to 1 (they sum to {sum(values):.6g})")


def check_keys(mapping: dict, allowed: tuple, what: str) -> None:
    """The mapping names exactly the closed set ``allowed``."""
    if set(mapping) != set(allowed):
        raise ValueError(f"{what}: must define exactly {', '.join(map(str, allowed))}")


def check_mix(weights: dict[str, float], allowed: tuple, what: str) -> None:
    """A mix over a closed set: exactly its values, as weights that sum to 1."""
    check_keys(weights, allowed, what)
    check_weights(weights, what)


def _first_of_month(v: dt.date) -> dt.date:
    if v.day != 1:
        raise ValueError("must be the first day of a month")
    return v


MonthStart = Annotated[dt.date, AfterValidator(_first_of_month)]


def _safe_text(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty")
    if v.startswith(UNSAFE_TEXT_START) or v != v.strip() or "\n" in v:
        raise ValueError(
            "must start with a letter or digit, without surrounding spaces or line breaks "
            "(a cell starting with = + - @ is a formula in a spreadsheet)"
        )
    return v


#: a name from the config that ends up in a text column of the output
SafeText = Annotated[str, AfterValidator(_safe_text)]


class Strict(BaseModel):
    # NaN and infinity are never a valid setting: they would pass no range check and poison the run
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
