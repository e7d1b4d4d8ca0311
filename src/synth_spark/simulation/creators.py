"""The creator plan, drawn on the driver: who the creators are and how each one's business behaves.

Creators are few (500 at 1x, 50k at 100x), so the whole population is drawn at once with numpy.
Category and size-tier mixes are stratified (exact counts, assigned through a seeded permutation)
so that the target shares hold at every scale instead of drifting by sampling noise.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from synth_spark import vocabulary
from synth_spark.config import Config
from synth_spark.simulation import emails, fx, identity, rhythm, streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.rng import categorical, uniform
from synth_spark.vocabulary import CATEGORIES, CURRENCIES, DAY, NEVER, SIZE_TIERS

#: columns the simulation kernels read; the public creators table is derived from these later
PLAN_COLUMNS = (
    "creator_id",
    "category_code",
    "size_code",
    "created_t",
    "joined_month",
    "audience",
    "growth",
    "volatility",
    "posts_rate",
    "churn_multiplier",
    "stratum",
    "n_tiers",
    "price_1",
    "price_2",
    "price_3",
    "price_4",
    "price_currency",
    "anniversary_billing",
    "platform_fee",
    "tier_from_1",
    "tier_from_2",
    "tier_from_3",
    "tier_from_4",
    "tier_until_1",
    "tier_until_2",
    "tier_until_3",
    "tier_until_4",
)


def stratified(n: int, shares: list[float], u: np.ndarray) -> np.ndarray:
    """Exactly ``round(share * n)`` members per class (largest remainder), placed by the order of ``u``."""
    quotas = np.asarray(shares, dtype=np.float64) * n
    counts = np.floor(quotas).astype(np.int64)
    short = n - counts.sum()
    if short > 0:
        counts[np.argsort(-(quotas - counts), kind="stable")[:short]] += 1
    labels = np.repeat(np.arange(len(shares)), counts)
    out = np.empty(n, dtype=np.int64)
    out[np.argsort(u, kind="stable")] = labels
    return out


_INV_CDF = np.vectorize(NormalDist().inv_cdf, otypes=[np.float64])


def stratified_normal(seed: int, stream: str, ids: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Standard normal scores that fill each group's distribution evenly (Latin hypercube):
    member k of n in a group gets a draw from the k-th of n equal-probability slices, in a seeded
    order. The power-law shape stays, but totals no longer swing with a few lucky draws."""
    z = np.empty(ids.size, dtype=np.float64)
    order_u = uniform(seed, stream + ".order", ids)
    within = uniform(seed, stream + ".within", ids)
    for g in np.unique(groups):
        members = np.nonzero(groups == g)[0]
        rank = np.empty(members.size, dtype=np.int64)
        rank[np.argsort(order_u[members], kind="stable")] = np.arange(members.size)
        z[members] = _INV_CDF((rank + within[members]) / members.size)
    return z


def draw_creators(cfg: Config, cal: Calendar) -> dict[str, np.ndarray]:
    """All creators' identity columns and simulation parameters, keyed by column name."""
    seed, n = cfg.seed, cfg.n_creators
    ids = np.arange(1, n + 1, dtype=np.int64)
    cc = cfg.creators
    cat_names = [c for c in CATEGORIES if c in cc.categories]
    cat_local = stratified(
        n, [cc.categories[c] for c in cat_names], uniform(seed, streams.CREATOR_CATEGORY, ids)
    )
    category_code = np.array([CATEGORIES.index(c) for c in cat_names])[cat_local]
    size_code = stratified(
        n, [cc.size_tiers[t].share for t in SIZE_TIERS], uniform(seed, streams.CREATOR_SIZE, ids)
    )
    tiers = [cc.size_tiers[t] for t in SIZE_TIERS]

    def per_size(attr: str) -> np.ndarray:
        return np.array([getattr(t, attr) for t in tiers], dtype=np.float64)[size_code]

    audience = per_size("audience_median") * np.exp(
        per_size("audience_sigma") * stratified_normal(seed, streams.CREATOR_AUDIENCE, ids, size_code)
    )
    growth = per_size("monthly_growth") + per_size("growth_sd") * stratified_normal(
        seed, streams.CREATOR_GROWTH, ids, size_code
    )
    growth = np.clip(growth, -0.12, 0.15)  # a creator doubling every five months is already a breakout
    posts_rate = per_size("posts_per_month") * np.exp(
        0.6 * stratified_normal(seed, streams.CREATOR_POSTS, ids, size_code)
    )

    lo = np.array([t.tiers[0] for t in tiers])[size_code]
    hi = np.array([t.tiers[1] for t in tiers])[size_code]
    n_tiers = lo + np.floor(uniform(seed, streams.CREATOR_N_TIERS, ids) * (hi - lo + 1)).astype(np.int64)

    joined_month = joining_months(seed, ids, size_code, per_size("joined_in_window"), cal.months)
    joins = joined_month >= 0
    years_before = (
        np.array([3.0, 5.0, 7.0])[size_code] * uniform(seed, streams.CREATOR_AGE, ids)
        + np.array([0.25, 1.0, 2.0])[size_code]
    )
    before = cal.start - (years_before * 365.25 * DAY).astype(np.int64)
    join_m = np.maximum(joined_month, 0)
    in_window = cal.month_start(join_m) + (
        uniform(seed, streams.CREATOR_JOIN_DAY, ids) * (cal.days_in_month(join_m) - 1) * DAY
    ).astype(np.int64)
    created_t = np.where(joins, in_window, before)
    # signing up is something people do in their own evenings and weekends too
    lo = np.where(joins, cal.month_start(join_m), created_t - 3 * DAY)
    hi = np.where(
        joins,
        cal.month_start(join_m) + (cal.days_in_month(join_m) - 1) * DAY,
        np.minimum(created_t + 3 * DAY, cal.start),
    )
    created_t = rhythm.in_rhythm(
        created_t,
        lo,
        hi,
        rhythm.creator_zone(seed, ids),
        rhythm.Rhythm.of(cfg.rhythm.patrons),
        rhythm.clock_for(cal),
        uniform(seed, streams.RHYTHM_CREATOR_JOIN_DAY, ids),
        uniform(seed, streams.RHYTHM_CREATOR_JOIN_HOUR, ids),
    )

    plans = list(cc.plan_types)
    plan_idx = categorical(uniform(seed, streams.CREATOR_PLAN, ids), [cc.plan_types[p].share for p in plans])
    platform_fee = np.array([cc.plan_types[p].platform_fee for p in plans])[plan_idx]

    country = identity.draw_country(uniform(seed, streams.CREATOR_COUNTRY, ids))
    currency = fx.currency_index(identity.currency_for(country))
    # a creator prices in their own currency where it has price points, else in US dollars
    priced_locally = np.isin(currency, fx.currency_index(list(cfg.tiers.local_prices)))
    price_currency = np.where(priced_locally, currency, fx.currency_index(["USD"])[0])
    prices = _tier_prices(cfg, ids, n_tiers, price_currency)
    category = np.array(CATEGORIES, dtype=object)[category_code]
    sub_idx = uniform(seed, streams.CREATOR_SUBCATEGORY, ids)
    subcategory = np.empty(n, dtype=object)
    for code, cat in enumerate(CATEGORIES):
        mask = category_code == code
        if mask.any():
            subs = np.array(cc.subcategories[cat], dtype=object)
            subcategory[mask] = subs[np.minimum((sub_idx[mask] * len(subs)).astype(np.int64), len(subs) - 1)]
    u_first, u_last = uniform(seed, streams.CREATOR_FIRST, ids), uniform(seed, streams.CREATOR_LAST, ids)
    first, last = identity.person_names(country, u_first, u_last)
    # The person behind the page: a creator named after themselves (or "<Last> Studio") writes from
    # their own address, a brand from the brand's.
    u_kind = uniform(seed, streams.CREATOR_NAME_KIND, ids)
    name = identity.creator_names(
        country, category, u_kind, u_first, u_last, uniform(seed, streams.CREATOR_NAME_WORD, ids)
    )
    brand = identity.is_brand_name(u_kind)
    verified = np.array([cc.verified_share[t] for t in SIZE_TIERS])[size_code]

    return {
        "creator_id": ids,
        "category_code": category_code.astype(np.int8),
        "size_code": size_code.astype(np.int8),
        "created_t": created_t.astype(np.int64),
        "joined_month": joined_month,
        "audience": audience,
        "growth": growth,
        "volatility": per_size("volatility"),
        "posts_rate": posts_rate,
        "churn_multiplier": per_size("churn_multiplier"),
        # Each creator's place in an even spread of [0, 1): arrival draws are stratified across
        # creators, so platform totals per month carry little sampling noise (seasonality shows).
        "stratum": (
            np.argsort(np.argsort(uniform(seed, streams.CREATOR_STRATUM, ids), kind="stable"), kind="stable")
            + 0.5
        )
        / n,
        "n_tiers": n_tiers.astype(np.int8),
        **tier_lives(cfg, cal, ids, created_t, n_tiers),
        **{f"price_{r}": prices[r] for r in (1, 2, 3, 4)},
        "price_currency": price_currency,
        "anniversary_billing": uniform(seed, streams.CREATOR_ANNIVERSARY, ids) < cc.anniversary_billing_share,
        "platform_fee": platform_fee,
        # identity columns, published as they are
        "creator_name": name,
        "email": _creator_emails(cfg, ids, name, brand, first, last, country),
        "category": category,
        "subcategory": subcategory,
        "country_code": country,
        "currency_code": identity.currency_for(country),
        "plan_type": np.array(plans, dtype=object)[plan_idx],
        "is_nsfw": uniform(seed, streams.CREATOR_NSFW, ids) < cc.nsfw_share,
        "is_verified": uniform(seed, streams.CREATOR_VERIFIED, ids) < verified,
    }


def _tier_prices(
    cfg: Config, ids: np.ndarray, n_tiers: np.ndarray, price_currency: np.ndarray
) -> dict[int, np.ndarray]:
    """Each creator's price of each tier rank (0 past its last tier): a point of its currency's
    list, recorded in US cents at the currency's reference rate (the list price)."""
    prices = {}
    for rank in (1, 2, 3, 4):
        u = uniform(cfg.seed, streams.tier_price(rank), ids)
        cents = np.zeros(ids.size, dtype=np.int64)
        for code in np.unique(price_currency):
            rows = np.nonzero(price_currency == code)[0]
            local = cfg.tiers.local_prices.get(CURRENCIES[code], {}).get(rank)
            if local is None:  # priced in US dollars
                points = np.asarray(cfg.tiers.prices[rank], dtype=np.int64) * 100
            else:
                local_cents = np.rint(np.asarray(local) * 100).astype(np.int64)
                points = fx.list_price_cents(cfg, np.full(local_cents.size, code), local_cents)
            pick = np.minimum((u[rows] * len(points)).astype(np.int64), len(points) - 1)
            cents[rows] = points[pick]
        prices[rank] = np.where(n_tiers >= rank, cents, 0)
    return prices


def joining_months(
    seed: int, ids: np.ndarray, size_code: np.ndarray, share: np.ndarray, months: int
) -> np.ndarray:
    """The window month each creator's page opens in, or -1 for a creator older than the window.

    Exactly ``round(share * n)`` creators of each size tier join (chosen in a seeded order), and the
    joiners are spread evenly over the window's months: the platform gains creators at a steady
    pace, and which months they land in is not left to a handful of lucky draws."""
    u = uniform(seed, streams.CREATOR_JOINS, ids)
    joins = np.zeros(ids.size, dtype=bool)
    for g in np.unique(size_code):
        members = np.nonzero(size_code == g)[0]
        k = int(round(float(share[members[0]]) * members.size))
        joins[members[np.argsort(u[members], kind="stable")[:k]]] = True
    out = np.full(ids.size, -1, dtype=np.int64)
    joiners = np.nonzero(joins)[0]
    if joiners.size:
        rank = np.empty(joiners.size, dtype=np.int64)
        rank[np.argsort(uniform(seed, streams.CREATOR_JOIN_MONTH, ids[joiners]), kind="stable")] = np.arange(
            joiners.size
        )
        out[joiners] = np.minimum(((rank + 0.5) / joiners.size * months).astype(np.int64), months - 1)
    return out


def tier_ranks(creators: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each tier of ``creators``: its creator's row, its rank (1 to the creator's ``n_tiers``), its id."""
    n_tiers = creators["n_tiers"].astype(np.int64)
    owner = np.repeat(np.arange(len(n_tiers)), n_tiers)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(n_tiers) - n_tiers, n_tiers) + 1
    return owner, rank, vocabulary.tier_id(creators["creator_id"][owner], rank)


def draw_tiers(cfg: Config, creators: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each creator's 2-4 pricing tiers; ``tier_id`` is ``creator_id * 10 + rank``."""
    seed = cfg.seed
    owner, rank, tier_id = tier_ranks(creators)
    creator_id = creators["creator_id"][owner]
    price = np.choose(rank - 1, [creators[f"price_{r}"][owner] for r in (1, 2, 3, 4)])
    until = np.choose(rank - 1, [creators[f"tier_until_{r}"][owner] for r in (1, 2, 3, 4)])
    return {
        "tier_id": tier_id,
        "creator_id": creator_id,
        "tier_name": identity.tier_names(rank, uniform(seed, streams.TIER_NAME, tier_id)),
        "tier_rank": rank.astype(np.int32),
        "price_cents": price,
        "description": identity.tier_descriptions(
            rank,
            np.array(CATEGORIES, dtype=object)[creators["category_code"][owner]],
            uniform(seed, streams.TIER_DESCRIPTION, tier_id),
        ),
        # open to new patrons from created_t; archived (is_active false) at archived_t when that is
        # inside the window; pledges start only while their tier is open
        "is_active": until >= NEVER,
        "created_t": np.choose(rank - 1, [creators[f"tier_from_{r}"][owner] for r in (1, 2, 3, 4)]),
        "archived_t": until,
    }


def _creator_emails(
    cfg: Config,
    ids: np.ndarray,
    name: np.ndarray,
    brand: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    country: np.ndarray,
) -> np.ndarray:
    seed = cfg.seed
    u_style = uniform(seed, streams.CREATOR_EMAIL_STYLE, ids)
    local = np.where(
        brand,
        emails.brand_locals(name, u_style),
        emails.person_locals(first, last, u_style, uniform(seed, streams.CREATOR_EMAIL_NUMBER, ids)),
    )
    return emails.deduplicated(
        emails.addresses(
            local, uniform(seed, streams.CREATOR_EMAIL_DOMAIN, ids), country, cfg.identities.email_domains
        ),
        ids,
    )


def tier_lives(
    cfg: Config, cal: Calendar, ids: np.ndarray, created_t: np.ndarray, n_tiers: np.ndarray
) -> dict[str, np.ndarray]:
    """When each rank's tier opens to new patrons and when it is archived (NEVER if it is not):
    ``tier_from_r`` and ``tier_until_r``. The first tier opens with the page and stays; ranks a
    creator does not have never open."""
    seed, tc = cfg.seed, cfg.tiers
    out = {}
    for r in (1, 2, 3, 4):
        out[f"tier_from_{r}"] = np.where(n_tiers >= r, created_t, NEVER).astype(np.int64)
        out[f"tier_until_{r}"] = np.full(ids.size, NEVER, dtype=np.int64)
    rich = n_tiers >= 3
    # the top tier added later in the creator's life (before or during the window)
    later = rich & (uniform(seed, streams.TIER_ADDED, ids) < tc.added_later_share)
    added = created_t + (0.6 * uniform(seed, streams.TIER_ADDED_AT, ids) * (cal.end - created_t)).astype(
        np.int64
    )
    for n in (3, 4):
        sel = later & (n_tiers == n)
        out[f"tier_from_{n}"] = np.where(sel, added, out[f"tier_from_{n}"])
    # the second tier archived during the window, at least a month after the page opened
    archived = rich & (uniform(seed, streams.TIER_ARCHIVED, ids) < tc.archive_share)
    lo = np.maximum(cal.start, created_t + 30 * DAY)
    when = lo + (uniform(seed, streams.TIER_ARCHIVED_AT, ids) * np.maximum(cal.end - lo, 1)).astype(np.int64)
    out["tier_until_2"] = np.where(archived & (when < cal.end), when, NEVER).astype(np.int64)
    return out


def tier_open(cre: dict[str, np.ndarray], c_idx: np.ndarray, rank: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Whether each creator's tier of this rank takes new patrons at time t."""
    rank = np.asarray(rank)
    frm = np.choose(np.clip(rank, 1, 4) - 1, [cre[f"tier_from_{r}"][c_idx] for r in (1, 2, 3, 4)])
    until = np.choose(np.clip(rank, 1, 4) - 1, [cre[f"tier_until_{r}"][c_idx] for r in (1, 2, 3, 4)])
    return (rank >= 1) & (rank <= 4) & (frm <= t) & (t < until)


def open_rank(cre: dict[str, np.ndarray], c_idx: np.ndarray, rank: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The rank a new patron takes: the one drawn if its tier is open at t, else the nearest open
    one below (the first tier always is)."""
    out = np.asarray(rank, dtype=np.int64).copy()
    todo = ~tier_open(cre, c_idx, out, t)
    for step in (1, 2, 3):
        cand = np.maximum(np.asarray(rank) - step, 1)
        hit = todo & tier_open(cre, c_idx, cand, t)
        out[hit] = cand[hit]
        todo &= ~hit
    out[todo] = 1
    return out
