"""Billing: when pledges are charged, which first attempts decline and why, how retries recover
them, and what the platform and processor take.

Card expiry is a property of the patron, not of a pledge: when a patron's card lapses, every pledge
of that patron declines in that month and recovers (or not) together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import fx, rhythm, streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.rng import categorical, normal, uniform
from synth_spark.vocabulary import DAY, FAILURE_CODES, FAILURE_REASONS, NEVER, PAYMENT_METHODS

#: failure_reason codes: 0 is "no failure"; the first three follow FAILURE_REASONS
CARD_EXPIRED = FAILURE_CODES.index("card_expired")
#: what a processor failing looks like to the platform: a decline it also sees, rarely, on any day
PROCESSING_ERROR = FAILURE_CODES.index("processing_error")
#: cards are issued for three years, so a patron's card lapses in the same month every 36 months
CARD_CYCLE_MONTHS = 36
ATTEMPT_FIELDS = ("pledge_idx", "month", "attempt", "t", "ok", "reason", "amount_cents", "first_payment")


class PatronPayment:
    """What every creator agrees on about a patron's way of paying, from (seed, patron_id) alone."""

    def __init__(self, cfg: Config, patron_id: np.ndarray):
        seed, ce = cfg.seed, cfg.payments.card_expiry
        self.method = categorical(
            uniform(seed, streams.PATRON_METHOD, patron_id),
            [cfg.payments.methods[k] for k in PAYMENT_METHODS],
        )
        moy_w = np.array(
            [
                ce.peak_share / len(ce.peak_months)
                if m in ce.peak_months
                else (1 - ce.peak_share) / (12 - len(set(ce.peak_months)))
                for m in range(1, 13)
            ]
        )
        moy = categorical(uniform(seed, streams.PATRON_CARD_MONTH, patron_id), moy_w)
        year = np.floor(uniform(seed, streams.PATRON_CARD_YEAR, patron_id) * 3).astype(np.int64)
        self.card_phase = year * 12 + moy
        self.card_based = self.method != PAYMENT_METHODS.index("paypal")
        self.stale = uniform(seed, streams.PATRON_CARD_STALE, patron_id) < ce.not_updated
        self.fixes = uniform(seed, streams.PATRON_CARD_FIX, patron_id) < ce.updated_within_week
        n_week = max(1, sum(d <= 7 for d in cfg.payments.retry_days))
        self.fix_retry = np.floor(uniform(seed, streams.PATRON_CARD_FIX_RETRY, patron_id) * n_week).astype(
            np.int64
        )

    def copy_rows(self, rows: np.ndarray, source: np.ndarray) -> None:
        """Rows that turned out to be another row's patron take that row's payment profile."""
        for name in ("method", "card_phase", "card_based", "stale", "fixes", "fix_retry"):
            getattr(self, name)[rows] = getattr(self, name)[source]

    def card_lapses(self, cal: Calendar, m: int) -> np.ndarray:
        return (cal.absolute_month(m) % CARD_CYCLE_MONTHS == self.card_phase) & self.card_based & self.stale


def expected_expiry_failure(cfg: Config) -> float:
    """Average monthly share of first attempts declined for an expired card."""
    ce = cfg.payments.card_expiry
    card_share = 1 - cfg.payments.methods["paypal"]
    return ce.not_updated * card_share / CARD_CYCLE_MONTHS


def expected_payment_churn(cfg: Config) -> float:
    """Expected monthly share of billed pledges lost to unrecovered payment failures."""
    pc = cfg.payments
    expiry = expected_expiry_failure(cfg)
    other = max(pc.first_attempt_failure - expiry, 0.0)
    return other * float(np.prod([1 - s for s in pc.retry_success])) + expiry * (
        1 - pc.card_expiry.updated_within_week
    )


def billing_day(cfg: Config, pledge_id: np.ndarray, m: int) -> np.ndarray:
    """Day of month (0-based) of a first-of-month charge: the charge run spreads over days 1-3."""
    return categorical(uniform(cfg.seed, streams.BILL_DAY, pledge_id, m), cfg.payments.billing_day_weights)


def processing_time(cfg: Config, pledge_id: np.ndarray, m: int) -> np.ndarray:
    """Seconds into the (UTC) day when the processor's renewal run reaches a pledge."""
    return rhythm.utc_hours(cfg.rhythm.processor_hours, uniform(cfg.seed, streams.BILL_TIME, pledge_id, m))


#: the least time between two attempts of a billing, and between the last one and the pledge's end
MIN_GAP = 3600


@dataclass(frozen=True)
class PatronTime:
    """What a retry needs to land at a billed patron's local time of day: their zones (per billed
    pledge), the patrons' rhythm and the clock of the zones."""

    zone: np.ndarray
    rhythm: rhythm.Rhythm
    clock: rhythm.Clock


def _retry_time(
    cfg: Config,
    when: PatronTime,
    rows: np.ndarray,
    pid: np.ndarray,
    m: int,
    j: int,
    due: np.ndarray,
    previous: np.ndarray,
) -> np.ndarray:
    """When retry ``j`` of a billing is made: around its scheduled day (``due``) with a spread of
    ``retry_spread_days``, at an hour of the patron's day (smart retries aim at the hours a card goes
    through), never within an hour of the attempt before."""
    seed, pc = cfg.seed, cfg.payments
    drift = normal(seed, streams.PAY_RETRY_DRIFT, pid, m, j) * pc.retry_spread_days * DAY
    t0 = due + drift.astype(np.int64)
    u = uniform(seed, streams.PAY_RETRY_TIME, pid, m, j)
    t = rhythm.on_local_day(t0, when.zone[rows], when.rhythm, when.clock, u)
    floor = previous + MIN_GAP
    return np.where(t >= floor, t, floor + (u * 6 * 3600).astype(np.int64))


@dataclass
class Charges:
    attempts: dict[str, np.ndarray]
    unrecovered_end: np.ndarray  # per billed pledge: when it ends for non-payment, NEVER if paid
    last_attempt: np.ndarray  # per billed pledge: time of its last attempt this billing


def charge(
    cfg: Config,
    cal: Calendar,
    m: int,
    pay: PatronPayment,
    idx: np.ndarray,
    pledge_id: np.ndarray,
    bill_t: np.ndarray,
    amount: np.ndarray,
    first: np.ndarray,
    when: PatronTime,
    anomalies=None,
    stop_t: np.ndarray | None = None,
    charged_in: tuple[fx.Rates, np.ndarray] | None = None,
    patron_id: np.ndarray | None = None,
) -> Charges:
    """First attempts for the billed pledges ``idx`` in month ``m`` and their retries.
    During a processor outage (``anomalies``) a share of the attempts that would have gone through,
    first attempts and retries alike, decline as processing errors. No retry is made at or after
    ``stop_t`` (per billed pledge: its creator left the platform); such a billing is left open.
    ``when`` places retries at the patrons' local times of day. ``amount`` is the list price (US
    cents at the reference rate); with ``charged_in`` (the rates and each billed pledge's price
    currency) each attempt is recorded at its own day's rate. The catalogue's payment scenarios
    (``anomalies.scenarios``) select their payers by method and by the country of ``patron_id``."""
    seed, pc = cfg.seed, cfg.payments
    lapsed = pay.card_lapses(cal, m)[idx]
    base = max(pc.first_attempt_failure - expected_expiry_failure(cfg), 0.0)
    declined = lapsed | (uniform(seed, streams.PAY_FAIL, pledge_id, m) < base)
    generic = 1 + categorical(
        uniform(seed, streams.PAY_REASON, pledge_id, m), [pc.failure_reasons[r] for r in FAILURE_REASONS]
    )
    reason = np.where(lapsed, CARD_EXPIRED, np.where(declined, generic, 0)).astype(np.int8)

    def outage(t: np.ndarray, pid: np.ndarray, attempt: int) -> np.ndarray:
        if anomalies is None:
            return np.zeros(t.shape, dtype=bool)
        return anomalies.in_outage(t) & (
            uniform(seed, streams.ANOMALY_OUTAGE, pid, m, attempt) < anomalies.outage_decline
        )

    everyone = np.arange(idx.size)
    scenarios = None if anomalies is None or not anomalies.scenarios.acts_on_payments else anomalies.scenarios
    method = None if scenarios is None else pay.method[idx]

    def failing(kind: str, t: np.ndarray, rows: np.ndarray, attempt: int) -> np.ndarray:
        """Attempts a scenario of ``kind`` declines (rows: positions among the billed pledges)."""
        if scenarios is None:
            return np.zeros(t.shape, dtype=bool)
        key = (pledge_id[rows], m, attempt)
        return scenarios.declines(seed, kind, t, method[rows], patron_id[rows], key)

    down = (outage(bill_t, pledge_id, 0) | failing("payment_method_failure", bill_t, everyone, 0)) & ~declined
    declined |= down
    reason = np.where(down, PROCESSING_ERROR, reason).astype(np.int8)
    # a reissued card is declined as expired until its patron enters the new one (the card path below)
    reissued = failing("card_reissue_wave", bill_t, everyone, 0) & ~declined
    declined |= reissued
    reason = np.where(reissued, CARD_EXPIRED, reason).astype(np.int8)

    cols = {f: [] for f in ATTEMPT_FIELDS}

    def record(sel: np.ndarray, attempt: int, t: np.ndarray, ok: np.ndarray, why: np.ndarray) -> None:
        cols["pledge_idx"].append(idx[sel])
        cols["month"].append(np.full(sel.size, m, dtype=np.int64))
        cols["attempt"].append(np.full(sel.size, attempt, dtype=np.int64))
        cols["t"].append(t)
        cols["ok"].append(ok)
        cols["reason"].append(np.where(ok, 0, why).astype(np.int8))
        cols["amount_cents"].append(
            amount[sel] if charged_in is None else charged_in[0].convert(amount[sel], charged_in[1][sel], t)
        )
        cols["first_payment"].append(first[sel] & (attempt == 0))

    record(everyone, 0, bill_t, ~declined, reason)
    pending = np.nonzero(declined)[0]
    last_t = bill_t.copy()
    for j, (days, success) in enumerate(zip(pc.retry_days, pc.retry_success)):
        if pending.size == 0:
            break
        pid = pledge_id[pending]
        t = _retry_time(cfg, when, pending, pid, m, j, bill_t[pending] + days * DAY, last_t[pending])
        if stop_t is not None:
            keep = t < stop_t[pending]
            pending, pid, t = pending[keep], pid[keep], t[keep]
            if pending.size == 0:
                break
        is_card = reason[pending] == CARD_EXPIRED
        fixed = pay.fixes[idx[pending]] & (j >= pay.fix_retry[idx[pending]])
        # A billing the outage declined would have gone through: its retries succeed as the first
        # attempt would have, unless they land in the outage too.
        if scenarios is not None:
            success = success * scenarios.retry_factor(seed, t, method[pending], patron_id[pending])
        ok = np.where(
            down[pending],
            True,
            np.where(is_card, fixed, uniform(seed, streams.PAY_RETRY, pid, m, j) < success),
        )
        blocked = (outage(t, pid, j + 1) | failing("payment_method_failure", t, pending, j + 1)) & ok
        ok &= ~blocked
        why = np.where(down[pending], PROCESSING_ERROR, reason[pending])
        record(pending, j + 1, t, ok, np.where(blocked, PROCESSING_ERROR, why))
        last_t[pending] = t
        pending = pending[~ok]
    end = np.full(idx.size, NEVER, dtype=np.int64)
    # The platform gives up some time after the last retry fails: its dunning job runs on its own
    # schedule, and some patrons get a last reminder first.
    grace = (
        -pc.dunning_grace_hours * 3600 * np.log1p(-uniform(seed, streams.PAY_GRACE, pledge_id[pending], m))
    )
    end[pending] = last_t[pending] + MIN_GAP + grace.astype(np.int64)
    return Charges({f: np.concatenate(v) for f, v in cols.items()}, end, last_t)


#: rates are applied in millionths, in whole numbers, so a tie is a tie and not a float's guess at one
PPM = 1_000_000


def _half_up(cents_ppm: np.ndarray) -> np.ndarray:
    """Millionths of a cent to whole cents, a half cent rounded up (as card processors and ledgers do;
    numpy's rint rounds a tie to the even cent)."""
    return (cents_ppm + PPM // 2) // PPM


def fees(
    cfg: Config, gross_cents: np.ndarray, platform_rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Platform fee, processing fee and net payout in whole cents, so net = gross - fees exactly.
    Each fee is the exact product of gross and rate rounded half up to the cent."""
    pf = cfg.payments.processing_fee
    gross = np.asarray(gross_cents, dtype=np.int64)
    platform = _half_up(gross * np.rint(np.asarray(platform_rate) * PPM).astype(np.int64))
    micro = gross <= pf.micro_limit_cents
    processing = np.where(
        micro,
        _half_up(gross * round(pf.micro_rate * PPM)) + pf.micro_fixed_cents,
        _half_up(gross * round(pf.rate * PPM)) + pf.fixed_cents,
    ).astype(np.int64)
    return platform, processing, gross - platform - processing
