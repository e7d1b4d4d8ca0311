"""The settings models: what a valid value of each setting is.

Every calibration constant lives in ``conf/default.yaml``; this module only states what a valid
value is, so that a wrong config fails on load with a message naming the field, never mid-run.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from synth_spark.config.anomaly_settings import Anomalies
from synth_spark.config.money_settings import Fx, Payments, Tiers, check_local_prices
from synth_spark.config.scenario_settings import Scenarios
from synth_spark.config.fields import (
    MonthStart,
    NoCoercion,
    NonNegFloat,
    PositiveFloat,
    Probability,
    SafeText,
    Strict,
    check_keys,
    check_mix,
)
from synth_spark.config.fields import check_weights as _check_weights
from synth_spark.vocabulary import (
    ACCESS_LEVELS,
    CATEGORIES,
    EVENT_ID,
    EVENT_TYPES,
    MAX_WINDOW_MONTHS,
    PLEDGES_PER_CREATOR,
    SIZE_TIERS,
)

#: the plan holds every creator on the driver: 5M creators (10,000x) is about 1 GB of arrays there
MAX_CREATORS = 5_000_000
#: the largest --scale: 10,000x the 1x volumes
MAX_SCALE = 10_000
#: a creator's own pledges stay far below its block of PLEDGES_PER_CREATOR ids (the largest creator
#: expects 2,400 at 1000x, 800 at 1x): the rest of the block is what a viral wave may use
VIRAL_PATRONS_MAX = PLEDGES_PER_CREATOR - 100_000


class Window(Strict):
    start: MonthStart
    months: Annotated[int, NoCoercion(), Field(ge=1)]

    @field_validator("months")
    @classmethod
    def _ids_hold_it(cls, v: int) -> int:
        # a month is a field of the transaction and event ids: a longer window would reuse ids
        if v > MAX_WINDOW_MONTHS:
            raise ValueError(
                f"at most {MAX_WINDOW_MONTHS} months (event ids are "
                f"{EVENT_ID.formula()}, with room for months 0-{MAX_WINDOW_MONTHS - 1})"
            )
        return v

    @field_validator("start")
    @classmethod
    def _in_range(cls, v: dt.date) -> dt.date:
        if not dt.date(1971, 1, 1) <= v <= dt.date(2200, 1, 1):
            raise ValueError("must be a month from 1971-01 to 2200-01")
        return v

    @property
    def end(self) -> dt.date:
        """Exclusive end: the first day after the window."""
        y, m = divmod(self.start.month - 1 + self.months, 12)
        return dt.date(self.start.year + y, m + 1, 1)


class Volumes(Strict):
    creators: Annotated[int, NoCoercion(), Field(ge=1)]
    patrons: Annotated[int, NoCoercion(), Field(ge=1)]


class SizeTier(Strict):
    share: Probability
    audience_median: PositiveFloat
    audience_sigma: NonNegFloat
    monthly_growth: Annotated[float, NoCoercion()]
    growth_sd: NonNegFloat
    volatility: NonNegFloat
    churn_multiplier: PositiveFloat
    posts_per_month: NonNegFloat
    joined_in_window: Probability
    tiers: tuple[
        Annotated[int, NoCoercion(), Field(ge=2, le=4)], Annotated[int, NoCoercion(), Field(ge=2, le=4)]
    ]

    @field_validator("tiers")
    @classmethod
    def _ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] > v[1]:
            raise ValueError("must be [min, max] with min <= max")
        return v


class PlanType(Strict):
    share: Probability
    platform_fee: Probability


class Creators(Strict):
    categories: dict[str, Probability]
    subcategories: dict[str, list[SafeText]]
    size_tiers: dict[str, SizeTier]
    plan_types: dict[SafeText, PlanType]
    nsfw_share: Probability
    verified_share: dict[str, Probability]
    anniversary_billing_share: Probability

    @model_validator(mode="after")
    def _consistent(self) -> "Creators":
        unknown = set(self.categories) - set(CATEGORIES)
        if unknown:
            raise ValueError(
                f"categories: unknown category {sorted(unknown)[0]!r}; allowed: {', '.join(CATEGORIES)}"
            )
        _check_weights(self.categories, "categories weights")
        for cat in self.categories:
            if not self.subcategories.get(cat):
                raise ValueError(f"subcategories: category {cat!r} needs at least one subcategory")
        check_keys(self.size_tiers, SIZE_TIERS, "size_tiers")
        _check_weights({k: t.share for k, t in self.size_tiers.items()}, "size_tiers shares")
        _check_weights({k: p.share for k, p in self.plan_types.items()}, "plan_types shares")
        check_keys(self.verified_share, SIZE_TIERS, "verified_share")
        return self


class ChurnByTenure(Strict):
    month_1: Probability
    months_2_3: Probability
    months_4_12: Probability
    months_13_plus: Probability


class Churn(Strict):
    by_tenure: ChurnByTenure
    creator_removed_share: Probability
    posting_multiplier: dict[str, PositiveFloat]
    not_engaged_churn_ratio: Annotated[float, NoCoercion(), Field(ge=1.0)]
    pause_rate: Probability
    paused_churn: Probability
    pause_resume_rate: Probability  # monthly chance a paused pledge resumes
    return_share: Probability  # new pledges in the window that come from a patron who left the creator

    @model_validator(mode="after")
    def _keys(self) -> "Churn":
        if set(self.posting_multiplier) != {"none", "some", "frequent"}:
            raise ValueError("posting_multiplier: must define exactly none, some, frequent")
        return self


class Seasonality(Strict):
    q4_new_pledges: Annotated[float, NoCoercion(), Field(ge=-0.9, le=5.0)]
    january_new_patrons: Annotated[float, NoCoercion(), Field(ge=-0.9, le=5.0)]
    summer_engagement: Annotated[float, NoCoercion(), Field(ge=-0.9, le=5.0)]


class Engagement(Strict):
    by_tier: dict[int, Probability]
    category_multiplier: dict[str, PositiveFloat]
    events_per_engaged_month: Annotated[float, NoCoercion(), Field(ge=1.0)]
    event_types: dict[str, Probability]
    delay_days: Annotated[
        float, NoCoercion(), Field(gt=0.0, le=60.0)
    ]  # mean wait from a post to an event on it
    recent_days: Annotated[
        float, NoCoercion(), Field(ge=0.0, le=60.0)
    ]  # posts this long before the month count as new
    old_post_share: Probability  # events that go back to an older post
    events_without_new_posts: Annotated[
        int, NoCoercion(), Field(ge=1, le=99)
    ]  # at most, in a month with nothing new

    @model_validator(mode="after")
    def _consistent(self) -> "Engagement":
        if sorted(self.by_tier) != [1, 2, 3, 4]:
            raise ValueError("by_tier: must give a rate for tiers 1, 2, 3 and 4")
        check_mix(self.event_types, EVENT_TYPES, "event_types")
        return self


class Posts(Strict):
    access: dict[str, Probability]
    pinned_share: Probability

    @model_validator(mode="after")
    def _consistent(self) -> "Posts":
        check_mix(self.access, ACCESS_LEVELS, "access")
        return self


class PatronsCfg(Strict):
    signup_lag_days: NonNegFloat


def _week_part(values: list[float], n: int, name: str) -> None:
    if len(values) != n:
        raise ValueError(f"{name}: {len(values)} weights; allowed: exactly {n}")
    if sum(values) <= 0:
        raise ValueError(f"{name}: the weights sum to 0; allowed: non-negative weights with a positive sum")


class DailyRhythm(Strict):
    # weights of the 24 local hours (0 = midnight to 1 am) on weekdays and at weekends, and of the
    # days Monday to Sunday
    weekday_hours: list[NonNegFloat]
    weekend_hours: list[NonNegFloat]
    days: list[NonNegFloat]

    @model_validator(mode="after")
    def _shape(self) -> "DailyRhythm":
        _week_part(self.weekday_hours, 24, "weekday_hours")
        _week_part(self.weekend_hours, 24, "weekend_hours")
        _week_part(self.days, 7, "days")
        return self


class RhythmCfg(Strict):
    patrons: DailyRhythm  # pledges, cancellations, pauses, sign-ups and engagement, in the patron's time zone
    creators: DailyRhythm  # posts and sign-ups, in the creator's time zone
    processor_hours: list[NonNegFloat]  # the payment processor's renewal run over the UTC day

    @model_validator(mode="after")
    def _shape(self) -> "RhythmCfg":
        _week_part(self.processor_hours, 24, "processor_hours")
        return self


class Identities(Strict):
    # reserved: example.com/.net/.org and names under them (RFC 2606), safe for mail pipelines;
    # lookalike: the free-mail providers of each country (gmail.com, web.de, ...)
    email_domains: Literal["reserved", "lookalike"]


class Config(Strict):
    seed: Annotated[int, NoCoercion(), Field(ge=0, le=2**63 - 1)]
    scale: Annotated[float, NoCoercion(), Field(gt=0.0, le=MAX_SCALE)]
    window: Window
    volumes: Volumes
    creators: Creators
    tiers: Tiers
    fx: Fx
    churn: Churn
    payments: Payments
    seasonality: Seasonality
    engagement: Engagement
    posts: Posts
    patrons: PatronsCfg
    identities: Identities
    rhythm: RhythmCfg
    anomalies: Anomalies
    scenarios: Scenarios

    @model_validator(mode="after")
    def _categories_everywhere(self) -> "Config":
        missing = set(self.creators.categories) - set(self.engagement.category_multiplier)
        if missing:
            raise ValueError(f"engagement.category_multiplier: missing category {sorted(missing)[0]!r}")
        return self

    @model_validator(mode="after")
    def _local_prices_in_bands(self) -> "Config":
        check_local_prices(self.tiers, self.fx)
        return self

    @model_validator(mode="after")
    def _ids_fit(self) -> "Config":
        creators = self.volumes.creators * self.scale
        if not math.isfinite(creators) or creators > MAX_CREATORS:
            raise ValueError(
                f"scale x volumes.creators: {creators:,.0f} creators is too many; allowed: up to "
                f"{MAX_CREATORS:,} (the plan keeps every creator on the driver)"
            )
        if self.volumes.patrons * self.scale > 100 * MAX_CREATORS:
            raise ValueError(
                f"scale x volumes.patrons: {self.volumes.patrons * self.scale:,.0f} patrons is too many; "
                f"allowed: up to {100 * MAX_CREATORS:,}"
            )
        vs = self.anomalies.viral_spike
        if vs.enabled and vs.patrons_at(self.scale) > VIRAL_PATRONS_MAX:
            raise ValueError(
                f"anomalies.viral_spike.new_patrons: {vs.new_patrons} x scale {self.scale:g} is "
                f"{vs.patrons_at(self.scale):,} new patrons to one creator, more than its "
                f"{VIRAL_PATRONS_MAX:,} free pledge ids; at this scale use at most "
                f"{int(VIRAL_PATRONS_MAX // self.scale)} (or disable the anomaly)"
            )
        return self

    @model_validator(mode="after")
    def _anomaly_creators_exist(self) -> "Config":
        a, n = self.anomalies, self.n_creators
        named = []
        if a.viral_spike.enabled and a.viral_spike.creator_id is not None:
            named.append(("anomalies.viral_spike.creator_id", a.viral_spike.creator_id))
        if a.creator_exodus.enabled:
            named += [("anomalies.creator_exodus.creator_ids", c) for c in a.creator_exodus.creator_ids or ()]
        for name, cid in named:
            if cid > n:
                raise ValueError(
                    f"{name}: {cid} is not a creator; allowed: 1 to {n:,} "
                    f"({self.volumes.creators:,} creators x scale {self.scale:g})"
                )
        return self

    @model_validator(mode="after")
    def _anomalies_inside_the_window(self) -> "Config":
        a, w = self.anomalies, self.window
        last = w.end - dt.timedelta(days=1)
        dates = {
            "viral_spike.start": (a.viral_spike, a.viral_spike.start),
            "payment_outage.start": (a.payment_outage, a.payment_outage.start),
            "holiday_churn.month": (a.holiday_churn, a.holiday_churn.month),
            "creator_exodus.month": (a.creator_exodus, a.creator_exodus.month),
            "category_collapse.start": (a.category_collapse, a.category_collapse.start),
        }
        for name, (anomaly, day) in dates.items():
            if anomaly.enabled and not w.start <= day <= last:
                raise ValueError(
                    f"anomalies.{name}: {day} is outside the window {w.start} to {last}; "
                    "move it into the window or disable the anomaly"
                )
        if a.category_collapse.enabled and a.category_collapse.category not in self.creators.categories:
            raise ValueError(
                f"anomalies.category_collapse.category: {a.category_collapse.category!r} is not a "
                f"configured category; allowed: {', '.join(self.creators.categories)}"
            )
        return self

    @model_validator(mode="after")
    def _scenarios_inside_the_window(self) -> "Config":
        first, last = self.window.start, self.window.end - dt.timedelta(days=1)
        for i, inst in enumerate(self.scenarios.instances):
            for name in ("start", "end"):
                day = getattr(inst, name)
                if not first <= day <= last:
                    raise ValueError(
                        f"scenarios.instances.{i}.{name}: {day} is outside the window {first} to {last}"
                    )
            if inst.start == first:
                raise ValueError(
                    f"scenarios.instances.{i}.start: {inst.start} leaves no time before it to measure a "
                    "baseline on; start it a month or more into the window"
                )
        return self

    @property
    def n_creators(self) -> int:
        return max(1, round(self.volumes.creators * self.scale))

    @property
    def n_patrons(self) -> int:
        return max(1, round(self.volumes.patrons * self.scale))

    def fingerprint(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
