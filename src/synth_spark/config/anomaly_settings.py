"""The settings of the five injected anomalies: when each acts, on whom, how strongly, and its shape."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, StrictBool, model_validator

from synth_spark.config.fields import MonthStart, NoCoercion, Probability, Strict


class ViralSpike(Strict):
    enabled: StrictBool
    start: dt.date
    days: Annotated[int, NoCoercion(), Field(ge=1, le=60)]  # the window the ground truth names
    peak_day: Annotated[
        float, NoCoercion(), Field(ge=0.25, le=30)
    ]  # arrivals peak this many days after start
    new_patrons: Annotated[int, NoCoercion(), Field(ge=0)]  # at scale 1; scales with --scale
    creator_id: (
        Annotated[int, NoCoercion(), Field(ge=1)] | None
    )  # default: an established creator chosen by the run seed
    posts_per_month: Annotated[
        float, NoCoercion(), Field(ge=0, le=30)
    ]  # the creator's posting rate from the spike's month on
    new_accounts: Probability  # share of the wave's patrons who open their account for it
    entry_tier_share: Probability  # share of the wave's pledges on the creator's entry tier
    churn_multiplier: Annotated[float, NoCoercion(), Field(ge=0.1, le=10)]  # against organic pledges
    later_engagement: Annotated[
        float, NoCoercion(), Field(ge=0, le=1)
    ]  # engagement odds after their first month

    def patrons_at(self, scale: float) -> int:
        """The wave's new patrons at ``scale``."""
        return int(round(self.new_patrons * scale))


class PaymentOutage(Strict):
    enabled: StrictBool
    start: dt.date
    days: Annotated[int, NoCoercion(), Field(ge=1, le=31)]  # calendar days it touches
    start_hour: Annotated[int, NoCoercion(), Field(ge=0, le=23)]  # UTC hour it begins on its first day
    end_hour: Annotated[int, NoCoercion(), Field(ge=1, le=24)]  # UTC hour it ends on its last day
    decline_rate: Probability  # share of the attempts inside it that would have gone through but decline

    @model_validator(mode="after")
    def _ends_after_it_starts(self):
        if self.days == 1 and self.end_hour <= self.start_hour:
            raise ValueError(
                f"end_hour ({self.end_hour}) must come after start_hour ({self.start_hour}) on a one-day "
                "outage"
            )
        return self


class HolidayChurn(Strict):
    enabled: StrictBool
    month: MonthStart
    voluntary_uplift: Annotated[float, NoCoercion(), Field(ge=0.0, le=5.0)]


class CreatorExodus(Strict):
    enabled: StrictBool
    month: MonthStart
    creators: Annotated[int, NoCoercion(), Field(ge=1)]
    creator_ids: list[Annotated[int, NoCoercion(), Field(ge=1)]] | None  # default: the largest top creators
    notice_days: Annotated[
        float, NoCoercion(), Field(gt=0, le=60)
    ]  # mean wait before a patron cancels after the creator leaves
    close_days: Annotated[
        float, NoCoercion(), Field(gt=0, le=90)
    ]  # the page closes then; the pledges left end as creator_removed


class CategoryCollapse(Strict):
    enabled: StrictBool
    start: MonthStart
    category: str
    arrival_multiplier: Annotated[float, NoCoercion(), Field(ge=0.0, le=1.0)]
    churn_multiplier: Annotated[float, NoCoercion(), Field(ge=1.0, le=10.0)]
    ramp_months: Annotated[
        int, NoCoercion(), Field(ge=1, le=24)
    ]  # months until the multipliers reach full strength


class Anomalies(Strict):
    viral_spike: ViralSpike
    payment_outage: PaymentOutage
    holiday_churn: HolidayChurn
    creator_exodus: CreatorExodus
    category_collapse: CategoryCollapse
