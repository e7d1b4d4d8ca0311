"""The money settings: tier prices in US dollars and in local currencies, the exchange rates
amounts are converted at, and how payments are attempted, retried and charged fees."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from synth_spark.config.fields import NoCoercion, Probability, Strict, check_mix
from synth_spark.config.fields import check_weights as _check_weights
from synth_spark.vocabulary import CURRENCIES, FAILURE_REASONS, MAX_RETRIES, PAYMENT_METHODS, TRANSACTION_ID


def _whole_cents(price: float) -> float:
    if abs(price * 100 - round(price * 100)) > 1e-6:
        raise ValueError("a price has at most two decimals (whole cents)")
    return price


#: a price in a currency's units (JPY 500, EUR 4.99): at most two decimals
LocalPrice = Annotated[float, Field(gt=0, le=10_000_000), AfterValidator(_whole_cents)]


class Tiers(Strict):
    #: price points in US dollars, by tier rank; also the bands every currency's points must fall in
    prices: dict[
        int, Annotated[list[Annotated[int, NoCoercion(), Field(gt=0, le=99_999)]], Field(min_length=1)]
    ]
    #: price points in a currency's own units, by tier rank, for creators who price in it (the
    #: others price in US dollars)
    local_prices: dict[str, dict[int, Annotated[list[LocalPrice], Field(min_length=1)]]]
    patron_share_by_tier_count: dict[int, list[Probability]]
    change_per_month: Probability
    upgrade_share: Probability
    added_later_share: Probability  # creators (3+ tiers) whose top tier came after their page
    archive_share: Probability  # creators (3+ tiers) who archive their second tier during the window

    @model_validator(mode="after")
    def _bands(self) -> "Tiers":
        if sorted(self.prices) != [1, 2, 3, 4]:
            raise ValueError("prices: must give price points for tiers 1, 2, 3 and 4")
        for rank in (1, 2, 3):
            if max(self.prices[rank]) >= min(self.prices[rank + 1]):
                raise ValueError(
                    f"prices: tier {rank} prices {self.prices[rank]} must all be below "
                    f"tier {rank + 1} prices {self.prices[rank + 1]}"
                )
        if sorted(self.patron_share_by_tier_count) != [2, 3, 4]:
            raise ValueError(
                "patron_share_by_tier_count: must give shares for creators with 2, 3 and 4 tiers"
            )
        for n, shares in self.patron_share_by_tier_count.items():
            if len(shares) != n:
                raise ValueError(f"patron_share_by_tier_count.{n}: needs {n} shares, got {len(shares)}")
            _check_weights(shares, f"patron_share_by_tier_count.{n}")
        return self


class CardExpiry(Strict):
    peak_months: Annotated[list[Annotated[int, NoCoercion(), Field(ge=1, le=12)]], Field(min_length=1)]
    peak_share: Probability
    not_updated: Probability
    updated_within_week: Probability


class ProcessingFee(Strict):
    rate: Probability
    fixed_cents: Annotated[int, NoCoercion(), Field(ge=0)]
    micro_rate: Probability
    micro_fixed_cents: Annotated[int, NoCoercion(), Field(ge=0)]
    micro_limit_cents: Annotated[int, NoCoercion(), Field(ge=0)]


class Fx(Strict):
    """The exchange rates amounts are converted to US dollars at: a daily, mean-reverting random walk
    of each currency's log rate around a reference rate (synthetic, not market data)."""

    #: US dollars per unit of each currency: the average the walk returns to
    usd_per_unit: dict[str, Annotated[float, Field(gt=0, le=1000)]]
    #: standard deviation of a day's move of the log rate
    daily_sd: Annotated[float, Field(ge=0, le=0.05)]
    #: how fast the rate returns to its reference: the walk's memory, in days
    reversion_days: Annotated[float, Field(ge=1, le=3650)]
    #: the rate stays within this fraction of its reference, either way (the walk is held there)
    max_deviation: Annotated[float, Field(gt=0, le=0.5)]

    @model_validator(mode="after")
    def _known(self) -> "Fx":
        unknown = sorted(set(self.usd_per_unit) - set(CURRENCIES))
        if unknown:
            raise ValueError(
                f"usd_per_unit: unknown currency {unknown[0]!r}; allowed: {', '.join(CURRENCIES)}"
            )
        if self.usd_per_unit.get("USD", 1.0) != 1.0:
            raise ValueError("usd_per_unit.USD: must be 1")
        return self


class Payments(Strict):
    first_attempt_failure: Probability
    failure_reasons: dict[str, Probability]
    retry_days: list[Annotated[int, NoCoercion(), Field(ge=1, le=28)]]
    retry_success: list[Probability]
    retry_spread_days: Annotated[float, Field(ge=0, le=3)]
    dunning_grace_hours: Annotated[float, Field(ge=0, le=240)]
    billing_day_weights: list[Probability]
    card_expiry: CardExpiry
    methods: dict[str, Probability]
    processing_fee: ProcessingFee

    @model_validator(mode="after")
    def _consistent(self) -> "Payments":
        check_mix(self.failure_reasons, FAILURE_REASONS, "failure_reasons")
        check_mix(self.methods, PAYMENT_METHODS, "methods")
        if len(self.retry_days) != len(self.retry_success) or not self.retry_days:
            raise ValueError("retry_days and retry_success must be non-empty lists of the same length")
        if self.retry_days != sorted(set(self.retry_days)):
            raise ValueError("retry_days must be strictly increasing")
        if len(self.retry_days) > MAX_RETRIES:
            raise ValueError(
                f"retry_days: at most {MAX_RETRIES} retries (transaction ids are "
                f"{TRANSACTION_ID.formula()}, with room for attempts 0-{MAX_RETRIES})"
            )
        if len(self.billing_day_weights) != 3:
            raise ValueError("billing_day_weights must give 3 weights (days 1, 2, 3)")
        _check_weights(self.billing_day_weights, "billing_day_weights")
        return self


def check_local_prices(tiers: Tiers, fx: Fx) -> None:
    """Each currency's price points, at its reference rate, fall inside the US-dollar points' range
    of their rank with room for the rate's largest move, so every converted amount keeps the tier
    bands."""
    for currency, by_rank in tiers.local_prices.items():
        field = f"tiers.local_prices.{currency}"
        if currency not in CURRENCIES:
            raise ValueError(f"{field}: unknown currency; allowed: {', '.join(CURRENCIES)}")
        if currency not in fx.usd_per_unit:
            raise ValueError(f"{field}: needs a reference rate in fx.usd_per_unit")
        if sorted(by_rank) != [1, 2, 3, 4]:
            raise ValueError(f"{field}: must give price points for tiers 1, 2, 3 and 4")
        rate, room = fx.usd_per_unit[currency], 1 + fx.max_deviation
        for rank, points in by_rank.items():
            lo = min(tiers.prices[rank]) * room
            hi = max(tiers.prices[rank]) / room
            for point in points:
                if not lo <= point * rate <= hi:
                    raise ValueError(
                        f"{field}.{rank}: {point:g} {currency} is {point * rate:.2f} USD at the reference "
                        f"rate; allowed: {lo:.2f}-{hi:.2f} USD (tier {rank}'s range in tiers.prices, "
                        f"less fx.max_deviation)"
                    )
