"""Pledge lifecycles: monthly billing with retries, churn, pauses, tier changes and whether the
patron engaged, simulated month by month for every pledge of a batch of creators (the pledges
themselves, and when they start, are ``arrivals.py``'s).

Everything is vectorised over the pledges of the batch, and every draw is keyed by the pledge (or
patron) id and the month, so a creator's pledges come out the same in any batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth_spark.config import Config
from synth_spark.simulation import billing, fx, rhythm, streams
from synth_spark.simulation.anomalies import EXODUS_TAKEDOWN, NO_ANOMALIES, AnomalyPlan
from synth_spark.simulation.arrivals import draw_arrivals
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.churn import (
    engagement_multipliers,
    posting_multiplier,
    quits_in_time,
    tenure_hazard,
)
from synth_spark.simulation.creators import tier_open
from synth_spark.simulation.rng import normal, poisson, uniform
from synth_spark.vocabulary import DAY, NEVER

#: churn reason codes: 0 while a pledge runs, then 1 + the reason's index in CHURN_REASONS
REASON_VOLUNTARY, REASON_PAYMENT, REASON_REMOVED = 1, 2, 3


@dataclass
class Lifecycle:
    """Per-pledge final state plus the month-level records the emitters need."""

    pledges: dict[str, np.ndarray]
    attempts: dict[str, np.ndarray]
    engaged: dict[str, np.ndarray]
    #: every pause: the pledge, when it began, when it ended (NEVER while it lasts)
    pauses: dict[str, np.ndarray]
    #: every tier change: the pledge, when, and the rank it left (its new rank is the next move's
    #: from_rank, or the pledge's final rank)
    moves: dict[str, np.ndarray]


def _first_post_by_rank(posts: dict[str, np.ndarray], n_creators: int) -> np.ndarray:
    """Earliest time each creator has a post a patron of each rank (index 1..4) can see."""
    first = np.full((n_creators, 5), NEVER, dtype=np.int64)
    for rank in range(1, 5):
        ok = posts["min_rank"] <= rank
        np.minimum.at(first[:, rank], posts["creator_idx"][ok], posts["published_t"][ok])
    return first


def simulate(
    cfg: Config,
    cal: Calendar,
    cre: dict[str, np.ndarray],
    posts: dict[str, np.ndarray],
    post_counts: np.ndarray,
    pool: int,
    churn_norm: float = 1.0,
    anomalies: AnomalyPlan = NO_ANOMALIES,
) -> Lifecycle:
    """``churn_norm`` is the population mean of the size and posting churn multipliers
    (:func:`churn.population_normaliser`), divided out so the tenure curve holds on average."""
    seed = cfg.seed
    p = draw_arrivals(cfg, cal, cre, pool, churn_norm, anomalies)
    n = p["pledge_id"].size
    pid, c_idx, patron = p["pledge_id"], p["creator_idx"], p["patron_id"]
    rank = p["rank"].copy()
    prices = np.stack(
        [np.zeros(len(cre["creator_id"]), dtype=np.int64)] + [cre[f"price_{r}"] for r in (1, 2, 3, 4)], axis=1
    )
    amount = prices[c_idx, rank]
    end_t = np.full(n, NEVER, dtype=np.int64)
    pause_t = np.full(n, NEVER, dtype=np.int64)
    reason = np.zeros(n, dtype=np.int8)
    engaged_prev = np.full(n, -1, dtype=np.int8)  # -1: no month observed yet
    last_attempt = np.zeros(n, dtype=np.int64)  # a billing's retries may run into the next month
    active_from = p["start_t"].copy()  # since when the pledge runs unpaused (its start, or its last resume)

    pay = billing.PatronPayment(cfg, patron)
    rates, price_currency = fx.Rates.of(cfg, cal), cre["price_currency"][c_idx]
    anniversary = cre["anniversary_billing"][c_idx]
    start_day, start_time = np.divmod(p["start_t"] - cal.month_start(p["start_m"]), DAY)
    quit_t = np.full(n, NEVER, dtype=np.int64)  # this month's cancellation, until billing has run
    quit_removed = np.zeros(n, dtype=bool)
    wave = p["wave"]  # brought by a viral moment: they leave sooner and drop off after the first weeks
    churn_mult = cre["churn_multiplier"][c_idx] / churn_norm * np.where(wave, anomalies.viral_churn, 1.0)
    pay_churn = billing.expected_payment_churn(cfg)
    post_mult = posting_multiplier(cfg, post_counts)
    first_post = _first_post_by_rank(posts, len(cre["creator_id"]))
    eng_rate = np.array([0.0] + [cfg.engagement.by_tier[r] for r in (1, 2, 3, 4)])
    cat_mult = np.array(
        [
            cfg.engagement.category_multiplier.get(c, 1.0)
            for c in ("podcasts", "video", "visual_art", "education", "writing", "music", "games")
        ]
    )
    summer = np.isin(cal.month_of_year(np.arange(cal.months)), (6, 7, 8))
    propensity = np.exp(0.5 * normal(seed, streams.PLEDGE_PROPENSITY, pid) - 0.125)
    # Churn after a month without / with engagement; index 2 (-1) is "no month seen yet".
    engaged_mult, idle_mult = engagement_multipliers(cfg)
    eng_mult = np.array([idle_mult, engaged_mult, 1.0])
    mean_extra = cfg.engagement.events_per_engaged_month - 1.0
    departs = anomalies.departure_of(cre["creator_id"])[c_idx]
    removed_share = cfg.churn.creator_removed_share
    zone, clock, patron_rhythm = (
        rhythm.patron_zone(seed, patron),
        rhythm.clock_for(cal),
        rhythm.Rhythm.of(cfg.rhythm.patrons),
    )

    def at_patron_time(t, lo, hi, rows, day_stream, hour_stream):
        """Cancellations and pauses happen when it suits the patron, inside [lo, hi)."""
        return rhythm.in_rhythm(
            t,
            lo,
            hi,
            zone[rows],
            patron_rhythm,
            clock,
            uniform(seed, day_stream, pid[rows], m),
            uniform(seed, hour_stream, pid[rows], m),
        )

    attempts, engaged_log, pause_log, move_log = [], [], [], []
    # Some new pledges come from a patron who left the creator before and comes back.
    comeback = (p["start_m"] >= 0) & (uniform(seed, streams.RETURN_EVENT, pid) < cfg.churn.return_share)
    came_back = np.zeros(n, dtype=bool)  # an ended pledge whose patron has come back already
    for m in range(cal.months):
        ms, me = int(cal.month_start(m)), int(cal.month_end(m))
        alive = np.nonzero((p["start_m"] <= m) & (end_t > ms))[0]
        if alive.size == 0:
            continue
        a_pid, a_c = pid[alive], c_idx[alive]
        paused = pause_t[alive] < ms
        new = p["start_m"][alive] == m
        returning = alive[new & comeback[alive]]
        if returning.size:
            src = _returning_patrons(
                seed, pid, c_idx, patron, end_t, reason, came_back, alive, returning, ms, pool
            )
            ok = src >= 0
            rows, src = returning[ok], src[ok]
            patron[rows], came_back[src] = patron[src], True
            pay.copy_rows(rows, src)
            zone[rows] = zone[src]

        # Voluntary churn and removals: tenure curve shaped by creator size, posting and engagement,
        # decided before the month's billing so that a patron may cancel before being charged.
        # The curve is a hazard in time (churn.quits_in_time), by the month of tenure counted from
        # the pledge's monthly anniversary, at this month's posting and last month's engagement.
        holiday = anomalies.holiday_uplift * (1 - removed_share) if m == anomalies.holiday_month else 0.0
        lo = np.maximum(np.where(new, p["start_t"][alive], ms), last_attempt[alive]) + 1
        hi = np.full(alive.size, me - 1)
        turn = np.clip(cal.anniversary(m, start_day[alive], start_time[alive]), lo, hi)
        age = m - p["start_m"][alive]
        # the viral wave came for one moment: the creator's posting does not hold it
        posting = np.where(wave[alive], 1.0, post_mult[a_c, m])
        drivers = churn_mult[alive] * posting * eng_mult[engaged_prev[alive]]
        drivers = drivers * anomalies.collapse_churn_factor(cre["category_code"][a_c], m) * (1 + holiday)
        drivers = drivers * anomalies.scenarios.month_factor("voluntary_churn", cre["creator_id"][a_c], m)

        def hazard(age: np.ndarray) -> np.ndarray:
            h = np.maximum(tenure_hazard(cfg, age) - pay_churn, 0.002) * drivers
            return np.where(paused, cfg.churn.paused_churn * (1 + holiday), np.where(age >= 0, h, 0.0))

        free = (end_t[alive] == NEVER) & (lo < hi - 1)
        rows, t_quit = quits_in_time(
            seed, m, a_pid, lo, hi, turn, me - ms, hazard(age - 1), hazard(age), free
        )
        quit_t[alive[rows]] = at_patron_time(
            t_quit, lo[rows], hi[rows], alive[rows], streams.RHYTHM_CHURN_DAY, streams.RHYTHM_CHURN_HOUR
        )
        quit_removed[alive[rows]] = uniform(seed, streams.CHURN_REASON, a_pid[rows], m) < removed_share / (
            1 + holiday
        )

        # Billing: the first charge when the pledge starts, then on the billing day each month.
        day = np.where(
            anniversary[alive],
            np.minimum(start_day[alive], int(cal.days_in_month(m)) - 1),
            billing.billing_day(cfg, a_pid, m),
        )
        bill_t = np.where(new, p["start_t"][alive], ms + day * DAY + billing.processing_time(cfg, a_pid, m))
        # A pledge already in dunning (its end is scheduled) is not charged again, nor one its patron
        # cancels before the charge.
        bills = ~paused & (end_t[alive] == NEVER) & (bill_t < np.minimum(departs[alive], quit_t[alive]))
        b = alive[bills]
        rec = billing.charge(
            cfg,
            cal,
            m,
            pay,
            b,
            pid[b],
            bill_t[bills],
            amount[b],
            new[bills],
            billing.PatronTime(zone[b], patron_rhythm, clock),
            anomalies,
            np.minimum(departs[b], quit_t[b]),  # a cancellation stops the retries too
            (rates, price_currency[b]),
            patron[b],
        )
        attempts.append(rec.attempts)
        # Decisions later this month happen after the pledge's last payment attempt, this month's
        # or the retries of last month's billing, so nothing is charged after a pledge ends or pauses.
        before = last_attempt[b]
        last_attempt[b] = np.maximum(before, rec.last_attempt)
        failed_end = rec.unrecovered_end  # per billed pledge, NEVER if paid
        hit = failed_end < NEVER
        # A billing that fails for good while last month's retries still run (a pledge started at a
        # month's end) ends the pledge its grace after the later of the two.
        grace = failed_end[hit] - rec.last_attempt[hit]
        end_t[b[hit]] = np.maximum(before[hit], rec.last_attempt[hit]) + grace
        reason[b[hit]] = REASON_PAYMENT
        settled = np.maximum(np.maximum(np.where(new, p["start_t"][alive], ms), ms), last_attempt[alive])

        # This month's cancellations fall, unless the billing failed for good first (its retries
        # stop at a cancellation, so one that failed them all came before it: the dunning job ends it).
        due = alive[quit_t[alive] < NEVER]
        quits = due[(end_t[due] == NEVER) & (last_attempt[due] < quit_t[due])]
        end_t[quits] = quit_t[quits]
        reason[quits] = np.where(quit_removed[quits], REASON_REMOVED, REASON_VOLUNTARY)
        quit_t[due] = NEVER

        # A creator leaving stops all billing at once (above). Its patrons cancel over the following
        # days and weeks as they hear (voluntary); the page closes after ``close_days`` and the
        # pledges still running then end as creator_removed. Paused and dunning pledges too.
        leaving = (departs[alive] >= ms) & (departs[alive] < me) & (end_t[alive] > departs[alive])
        gone = alive[leaving]
        wait = (
            -anomalies.exodus_notice_days
            * DAY
            * np.log1p(-uniform(seed, streams.ANOMALY_EXODUS_END, pid[gone]))
        )
        closed = wait >= anomalies.exodus_close_days * DAY
        wait = np.where(closed, anomalies.exodus_close_days * DAY, wait).astype(np.int64)
        heard = at_patron_time(
            departs[gone] + 60 + wait,
            departs[gone] + 60,
            departs[gone] + int(anomalies.exodus_close_days * DAY),
            gone,
            streams.RHYTHM_EXODUS_DAY,
            streams.RHYTHM_EXODUS_HOUR,
        )
        # the page is taken down by a job that works through its pledges over the next hours
        taken_down = (
            departs[gone]
            + int(anomalies.exodus_close_days * DAY)
            + (uniform(seed, streams.ANOMALY_EXODUS_CLOSE, pid[gone]) * EXODUS_TAKEDOWN).astype(np.int64)
        )
        end_t[gone] = np.where(closed, taken_down, heard)
        reason[gone] = np.where(closed, REASON_REMOVED, REASON_VOLUNTARY)

        # Pauses end for some: the patron comes back (billing resumes next month). New pauses and tier
        # changes among pledges still running at the month's end.
        undecided = end_t[alive] == NEVER
        resuming = (
            paused & undecided & (uniform(seed, streams.PAUSE_RESUME, a_pid, m) < cfg.churn.pause_resume_rate)
        )
        back = alive[resuming]
        if back.size:
            t_back = ms + (uniform(seed, streams.PAUSE_RESUME_TIME, pid[back], m) * (me - ms - 2)).astype(
                np.int64
            )
            t_back = at_patron_time(
                t_back,
                np.full(back.size, ms),
                np.full(back.size, me - 1),
                back,
                streams.RHYTHM_RESUME_DAY,
                streams.RHYTHM_RESUME_HOUR,
            )
            pause_log.append({"pledge_idx": back, "start_t": pause_t[back], "end_t": t_back})
            pause_t[back], active_from[back] = NEVER, t_back

        def act_time(acting: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
            """When a pause or tier change is made: at a time that suits the patron, in [lo, hi).
            Drawn only for the pledges that act (every draw is keyed by the pledge and month: the
            others change nothing)."""
            rows = np.nonzero(acting)[0]
            lo, hi = lo[rows], hi[rows]
            wait = uniform(seed, streams.CHURN_TIME, a_pid[rows], m) * np.maximum(hi - lo, 1)
            return at_patron_time(
                lo + wait.astype(np.int64),
                lo,
                hi,
                alive[rows],
                streams.RHYTHM_CHURN_DAY,
                streams.RHYTHM_CHURN_HOUR,
            )

        # after the month's last payment attempt, before its end
        in_month = settled + 1, np.full(alive.size, me - 1)
        running = ~paused & undecided & (settled < me - 2)
        pausing = running & (uniform(seed, streams.PAUSE_EVENT, a_pid, m) < cfg.churn.pause_rate)
        pause_t[alive[pausing]] = act_time(pausing, *in_month)
        moving = (
            running & ~pausing & (uniform(seed, streams.TIER_CHANGE, a_pid, m) < cfg.tiers.change_per_month)
        )
        up = uniform(seed, streams.TIER_DIRECTION, a_pid[moving], m) < cfg.tiers.upgrade_share
        new_rank = np.clip(rank[alive[moving]] + np.where(up, 1, -1), 1, p["n_tiers"][alive[moving]])
        opens = tier_open(cre, a_c[moving], new_rank, np.full(new_rank.size, me - 1))
        moving[np.nonzero(moving)[0][~opens]] = False
        mv = alive[moving]
        # decided when it suits the patron, like a pause; billed at the new price from next month
        move_log.append({"pledge_idx": mv, "t": act_time(moving, *in_month), "from_rank": rank[mv].copy()})
        rank[mv] = new_rank[opens]
        amount[mv] = prices[c_idx[mv], rank[mv]]

        # Engagement this month, only while the pledge runs and after an accessible post exists.
        lo = np.maximum(np.maximum(ms, active_from[alive]), first_post[a_c, rank[alive]])
        hi = np.minimum(np.minimum(me, end_t[alive]), np.minimum(pause_t[alive], cal.end))
        rate = eng_rate[rank[alive]] * cat_mult[cre["category_code"][a_c]] * propensity[alive]
        rate = rate * np.where(summer[m], 1 + cfg.seasonality.summer_engagement, 1.0)
        rate = rate * np.where(wave[alive] & (age >= 1), anomalies.viral_later_engagement, 1.0)
        engaged = (uniform(seed, streams.ENGAGE_MONTH, a_pid, m) < np.minimum(rate, 0.97)) & (lo < hi)
        engaged_prev[alive] = engaged.astype(np.int8)
        e = np.nonzero(engaged)[0]
        n_events = 1 + poisson(
            uniform(seed, streams.ENGAGE_COUNT, a_pid[e], m),
            np.full(e.size, mean_extra),
            normal(seed, streams.ENGAGE_COUNT_Z, a_pid[e], m),
        )
        engaged_log.append(
            {
                "pledge_idx": alive[e],
                "month": np.full(e.size, m),
                "n_events": n_events,
                "lo": lo[e],
                "hi": hi[e],
                "rank": rank[alive[e]],
            }
        )

    status = np.where(end_t < cal.end, 2, np.where(pause_t < cal.end, 1, 0)).astype(np.int8)
    pledges = {
        "pledge_id": pid,
        "creator_idx": c_idx,
        "patron_id": patron,
        "rank": rank,
        "amount_cents": amount,
        "status": status,
        "start_t": p["start_t"],
        "end_t": end_t,
        "pause_t": pause_t,
        "reason": reason,
        "wave": wave,
    }
    still = np.nonzero(pause_t < NEVER)[0]
    pause_log.append({"pledge_idx": still, "start_t": pause_t[still], "end_t": np.full(still.size, NEVER)})
    return Lifecycle(
        pledges,
        _concat(attempts, billing.ATTEMPT_FIELDS),
        _concat(engaged_log, ENGAGED_FIELDS),
        _concat(pause_log, PAUSE_FIELDS),
        _concat(move_log, MOVE_FIELDS),
    )


def _returning_patrons(
    seed: int,
    pid: np.ndarray,
    c_idx: np.ndarray,
    patron: np.ndarray,
    end_t: np.ndarray,
    reason: np.ndarray,
    came_back: np.ndarray,
    alive: np.ndarray,
    returning: np.ndarray,
    ms: int,
    pool: int,
) -> np.ndarray:
    """For each returning pledge, an earlier pledge of the same creator whose patron cancelled it
    (voluntarily, before this month) and has no pledge running to the creator now; -1 where there is
    none, and the pledge keeps the new patron it was drawn with."""
    left = np.nonzero((end_t < ms) & (reason == REASON_VOLUNTARY) & ~came_back)[0]
    if left.size == 0:
        return np.full(returning.size, -1, dtype=np.int64)
    left = left[np.lexsort((pid[left], c_idx[left]))]
    lo = np.searchsorted(c_idx[left], c_idx[returning], side="left")
    hi = np.searchsorted(c_idx[left], c_idx[returning], side="right")
    u = uniform(seed, streams.RETURN_PATRON, pid[returning])
    pick = np.where(
        hi > lo, left[np.minimum(lo + (u * (hi - lo)).astype(np.int64), np.maximum(hi - 1, 0))], -1
    )
    # one comeback per patron and creator at a time, never beside a pledge of theirs still running
    key = np.where(pick >= 0, c_idx[returning] * (pool + 1) + patron[np.maximum(pick, 0)], -1)
    running = c_idx[alive] * (pool + 1) + patron[alive]
    order = np.lexsort((pid[returning], key))
    first = np.ones(key.size, dtype=bool)
    first[order[1:]] = key[order][1:] != key[order][:-1]
    ok = (pick >= 0) & first & ~np.isin(key, running[end_t[alive] > ms])
    return np.where(ok, pick, -1)


ENGAGED_FIELDS = ("pledge_idx", "month", "n_events", "lo", "hi", "rank")
PAUSE_FIELDS = ("pledge_idx", "start_t", "end_t")
MOVE_FIELDS = ("pledge_idx", "t", "from_rank")


def _concat(parts: list[dict[str, np.ndarray]], fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not parts:
        return {f: np.zeros(0, dtype=np.int64) for f in fields}
    return {f: np.concatenate([part[f] for part in parts]) for f in fields}
