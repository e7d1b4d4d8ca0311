"""Arrivals: every pledge of a batch of creators, those already running when the window opens and
those arriving in it, each with its patron, its start and the tier it joins. What happens to a
pledge once it runs is ``lifecycle.py``'s.

Every draw is keyed by the creator, the month or the pledge id, so a creator's pledges come out the
same in any batch.
"""

from __future__ import annotations

import numpy as np

from synth_spark import vocabulary
from synth_spark.config import Config
from synth_spark.simulation import rhythm, streams
from synth_spark.simulation.anomalies import NO_ANOMALIES, AnomalyPlan
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.churn import stock_age_cdf
from synth_spark.simulation.creators import open_rank
from synth_spark.simulation.growth import arrival_rates
from synth_spark.simulation.rng import categorical, normal, poisson, uniform
from synth_spark.vocabulary import DAY


def _draw_patrons(
    seed: int, pledge_id: np.ndarray, creator_idx: np.ndarray, pool: int, anomalies: AnomalyPlan
) -> np.ndarray:
    """Patron ids drawn uniformly from the pool, never an account opened for the viral wave; a
    patron pledges to a creator at most once."""
    patron = 1 + np.floor(uniform(seed, streams.PLEDGE_PATRON, pledge_id) * pool).astype(np.int64)
    wave = anomalies.wave_account(seed, patron, pool)  # hashed once per draw, not per round
    for attempt in range(1, 16):
        key = creator_idx.astype(np.int64) * (pool + 1) + patron
        order = np.lexsort((pledge_id, key))
        dup_sorted = np.zeros(key.size, dtype=bool)
        dup_sorted[1:] = key[order][1:] == key[order][:-1]
        dup = np.zeros(key.size, dtype=bool)
        dup[order] = dup_sorted
        dup |= wave
        if not dup.any():
            return patron
        patron[dup] = 1 + np.floor(
            uniform(seed, streams.PLEDGE_PATRON, pledge_id[dup], attempt) * pool
        ).astype(np.int64)
        wave[dup] = anomalies.wave_account(seed, patron[dup], pool)
    return np.where(dup, 0, patron)  # 0 marks a pledge with no free patron left; dropped by the caller


def draw_arrivals(
    cfg: Config,
    cal: Calendar,
    cre: dict[str, np.ndarray],
    pool: int,
    churn_norm: float = 1.0,
    anomalies: AnomalyPlan = NO_ANOMALIES,
) -> dict[str, np.ndarray]:
    """Every pledge of the batch: those running when the window opens and those arriving in it."""
    seed, ids, n_m = cfg.seed, cre["creator_id"], cal.months
    departs = anomalies.departure_of(ids)
    existing = cre["joined_month"] < 0
    stock = np.where(
        existing,
        poisson(uniform(seed, streams.STOCK_N, ids), cre["audience"], normal(seed, streams.STOCK_N_Z, ids)),
        0,
    )

    m = np.arange(n_m)[None, :]
    vol = cre["volatility"][:, None]
    noise = np.exp(vol * normal(seed, streams.ARRIVALS_NOISE, ids[:, None], m) - vol**2 / 2)
    lam = arrival_rates(cfg, cal, cre, churn_norm) * noise
    # A collapsing category attracts fewer patrons; a departed creator none.
    lam = lam * anomalies.collapse_arrival_factor(cre["category_code"][:, None], m)
    lam = lam * anomalies.scenarios.month_factor("arrivals", ids[:, None], m)
    lam = np.where(cal.month_start(m) >= departs[:, None], 0.0, lam)
    u = (cre["stratum"][:, None] + uniform(seed, streams.ARRIVALS_SHIFT, m)) % 1.0
    arrivals = poisson(u, lam, normal(seed, streams.ARRIVALS_N_Z, ids[:, None], m))

    counts = np.concatenate([stock[:, None], arrivals], axis=1)
    per_creator = counts.sum(axis=1)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    c_idx, col = cell // (n_m + 1), cell % (n_m + 1)
    seq = np.arange(cell.size) - np.repeat(np.cumsum(per_creator) - per_creator, per_creator)
    pledge_id = vocabulary.pledge_id(ids[c_idx], seq + 1)
    created = cre["created_t"][c_idx]

    # Pledges already running: ages from the steady state of the tenure curve for the creator's
    # growth, never older than the creator.
    g_bin, cdf = stock_age_cdf(cfg, cre["growth"])
    rows = cdf[g_bin[c_idx]]
    oldest = np.clip(-cal.month_index(created), 1, Calendar.HISTORY)
    target = uniform(seed, streams.STOCK_AGE, pledge_id) * rows[np.arange(rows.shape[0]), oldest]
    age = np.clip((rows <= target[:, None]).sum(axis=1), 1, oldest)
    start_m = np.where(col == 0, -age, col - 1)
    lo = np.maximum(cal.month_start(start_m), created + 3600)
    hi = cal.month_end(start_m)
    start_t = lo + (uniform(seed, streams.PLEDGE_START, pledge_id) * np.maximum(hi - lo, 1)).astype(np.int64)
    fits = lo < hi  # a creator created in the last hour of a month gets that month's arrivals dropped

    viral = np.nonzero(ids == anomalies.viral_creator)[0]
    if viral.size and anomalies.viral_patrons:
        # The viral wave: extra patrons joining the one creator. Word spreads, peaks and fades: the
        # wait from the start is a gamma(2) draw (a sum of two exponentials) peaking on the peak day,
        # so at the default most arrive inside the two weeks and a thin tail comes after.
        v = viral[0]
        k = np.arange(anomalies.viral_patrons)
        v_id = vocabulary.pledge_id(ids[v], per_creator[v] + k + 1)
        theta = anomalies.viral_peak_days * DAY
        wait = -theta * (
            np.log1p(-uniform(seed, streams.ANOMALY_VIRAL_TIME, v_id, 0))
            + np.log1p(-uniform(seed, streams.ANOMALY_VIRAL_TIME, v_id, 1))
        )
        v_t = np.minimum(anomalies.viral_start + wait.astype(np.int64), cal.end - 1)
        c_idx = np.concatenate([c_idx, np.full(k.size, v)])
        pledge_id = np.concatenate([pledge_id, v_id])
        start_t = np.concatenate([start_t, v_t])
        # the wave's day holds; its hour moves to the patron's evening like any other pledge
        lo = np.concatenate([lo, np.maximum(v_t - DAY // 2, anomalies.viral_start)])
        hi = np.concatenate([hi, np.minimum(v_t + DAY // 2, cal.end)])
        fits = np.concatenate([fits, anomalies.viral_start + wait < cal.end])
    wave = np.zeros(pledge_id.size, dtype=bool)
    if viral.size and anomalies.viral_patrons:
        wave[-anomalies.viral_patrons :] = True

    n_tiers = cre["n_tiers"][c_idx].astype(np.int64)
    shares = np.zeros((5, 4))
    for k, s in cfg.tiers.patron_share_by_tier_count.items():
        shares[k, : len(s)] = s
    rank = 1 + categorical(uniform(seed, streams.PLEDGE_TIER, pledge_id), shares[n_tiers])
    # the wave's patrons came for the content they saw, most of them on the cheapest tier
    entry = wave & (uniform(seed, streams.ANOMALY_VIRAL_ENTRY, pledge_id) < anomalies.viral_entry_share)
    rank = np.where(entry, 1, rank)
    patron = _draw_patrons(seed, pledge_id, c_idx, pool, anomalies)
    if wave.any():
        patron[wave] = _wave_patrons(seed, pledge_id[wave], patron[wave], pool, anomalies)
    # A pledge starts at a time of day (and on a day of the week) that suits its patron.
    start_t = rhythm.in_rhythm(
        start_t,
        lo,
        hi,
        rhythm.patron_zone(seed, patron),
        rhythm.Rhythm.of(cfg.rhythm.patrons),
        rhythm.clock_for(cal),
        uniform(seed, streams.RHYTHM_PLEDGE_DAY, pledge_id),
        uniform(seed, streams.RHYTHM_PLEDGE_HOUR, pledge_id),
    )
    start_m = cal.month_index(start_t)
    fits &= start_t < departs[c_idx]
    # a patron joins a tier open at the time: added later, or archived, it is not on offer
    rank = open_rank(cre, c_idx, rank, start_t)
    keep = (patron > 0) & fits
    out = {
        "pledge_id": pledge_id,
        "creator_idx": c_idx,
        "patron_id": patron,
        "start_t": start_t,
        "start_m": start_m,
        "rank": rank.astype(np.int64),
        "n_tiers": n_tiers,
        "wave": wave,
    }
    return {k: v[keep] for k, v in out.items()}


#: ids hashed at a time while looking for the wave's accounts (the pool reaches 15M at 1,000x)
_SCAN = 1 << 20


def _wave_patrons(
    seed: int, pledge_id: np.ndarray, drawn: np.ndarray, pool: int, anomalies: AnomalyPlan
) -> np.ndarray:
    """The wave's patrons: the accounts opened for it (in an order of their own), one each, then
    patrons of the platform drawn as usual for the rest."""
    accounts = np.concatenate(
        [
            ids[anomalies.wave_account(seed, ids, pool)]
            for lo in range(1, pool + 1, _SCAN)
            for ids in [np.arange(lo, min(lo + _SCAN, pool + 1), dtype=np.int64)]
        ]
    )
    accounts = accounts[np.argsort(uniform(seed, streams.ANOMALY_VIRAL_NEW, accounts), kind="stable")]
    n = min(accounts.size, pledge_id.size)
    out = drawn.copy()
    out[:n] = accounts[:n]
    return out
