"""Posts: how often each creator publishes, and what.

Posting frequency matters beyond the posts table: it moves churn (frequent posters keep patrons)
and gives engagement something to attach to.
"""

from __future__ import annotations

import numpy as np

from synth_spark import vocabulary
from synth_spark.config import Config
from synth_spark.simulation import rhythm, streams
from synth_spark.simulation.anomalies import NO_ANOMALIES, AnomalyPlan
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.rng import categorical, normal, poisson, uniform
from synth_spark.vocabulary import ACCESS_LEVELS, CATEGORIES, DAY

#: post-type mix per category, in POST_TYPES order
_TYPE_MIX = {
    "podcasts": (0.20, 0.05, 0.05, 0.62, 0.05, 0.03),
    "video": (0.12, 0.08, 0.70, 0.02, 0.05, 0.03),
    "visual_art": (0.12, 0.75, 0.05, 0.00, 0.05, 0.03),
    "education": (0.30, 0.10, 0.45, 0.05, 0.05, 0.05),
    "writing": (0.78, 0.07, 0.02, 0.03, 0.05, 0.05),
    "music": (0.10, 0.05, 0.20, 0.58, 0.04, 0.03),
    "games": (0.25, 0.20, 0.40, 0.00, 0.08, 0.07),
}
TYPE_MIX = np.array([_TYPE_MIX[c] for c in CATEGORIES])
#: posts a creator may have per month (caps the id space: vocabulary.post_id)
MAX_POSTS_PER_MONTH = 30
#: months of back catalogue before the window, so patrons have something to engage with from day one
BACK_CATALOGUE_MONTHS = 6


def monthly_post_counts(
    cfg: Config, cal: Calendar, creators: dict[str, np.ndarray], anomalies: AnomalyPlan = NO_ANOMALIES
) -> np.ndarray:
    """Posts per creator and month, shape (creators, BACK_CATALOGUE_MONTHS + months): column j is
    month j - BACK_CATALOGUE_MONTHS; none before a creator exists."""
    ids = creators["creator_id"][:, None]
    m = np.arange(-BACK_CATALOGUE_MONTHS, cal.months)[None, :]
    exists = cal.month_end(m) > creators["created_t"][:, None]
    # A creator's output drifts month to month around its own rate.
    drift = np.exp(0.35 * normal(cfg.seed, streams.POSTS_DRIFT, ids, m) - 0.06)
    lam = anomalies.posting_rate(creators["creator_id"], m, creators["posts_rate"][:, None]) * drift
    lam = lam * anomalies.scenarios.month_factor("posting", ids, m)
    counts = poisson(
        uniform(cfg.seed, streams.POSTS_COUNT, ids, m), lam, normal(cfg.seed, streams.POSTS_COUNT_Z, ids, m)
    )
    return np.where(exists, np.minimum(counts, MAX_POSTS_PER_MONTH), 0)


def draw_posts(
    cfg: Config,
    cal: Calendar,
    creators: dict[str, np.ndarray],
    counts: np.ndarray,
    departs: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """One row per post, ordered by creator then time; ``creator_idx`` indexes the batch.
    ``counts`` is :func:`monthly_post_counts`."""
    seed = cfg.seed
    n_c, n_m = counts.shape
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    c_idx, month = cell // n_m, cell % n_m - BACK_CATALOGUE_MONTHS
    number = (
        np.arange(cell.size)
        - np.repeat(np.cumsum(counts.sum(axis=1)) - counts.sum(axis=1), counts.sum(axis=1))
        + 1
    )
    creator_id = creators["creator_id"][c_idx]
    post_id = vocabulary.post_id(creator_id, number)

    lo = np.maximum(cal.month_start(month), creators["created_t"][c_idx] + DAY // 4)
    hi = cal.month_end(month)
    published = lo + (uniform(seed, streams.POSTS_TIME, post_id) * np.maximum(hi - lo, 1)).astype(np.int64)
    # Creators publish in their working hours, mostly on weekdays, where they live.
    published = rhythm.in_rhythm(
        published,
        lo,
        hi,
        rhythm.creator_zone(seed, creator_id),
        rhythm.Rhythm.of(cfg.rhythm.creators),
        rhythm.clock_for(cal),
        uniform(seed, streams.RHYTHM_POST_DAY, post_id),
        uniform(seed, streams.RHYTHM_POST_HOUR, post_id),
    )
    if departs is not None:  # a creator who left the platform publishes nothing after leaving
        stay = published < departs[c_idx]
        c_idx, month, creator_id, post_id, published = (
            a[stay] for a in (c_idx, month, creator_id, post_id, published)
        )
    order = np.lexsort((post_id, published, c_idx))
    c_idx, month, creator_id, post_id, published = (
        a[order] for a in (c_idx, month, creator_id, post_id, published)
    )
    # Renumber in publishing order so "Episode 12" comes after "Episode 11".
    per_creator = np.bincount(c_idx, minlength=n_c)
    number = np.arange(c_idx.size) - np.repeat(np.cumsum(per_creator) - per_creator, per_creator) + 1

    cat = creators["category_code"][c_idx].astype(np.int64)
    post_type = categorical(uniform(seed, streams.POSTS_TYPE, post_id), TYPE_MIX[cat])
    access = categorical(
        uniform(seed, streams.POSTS_ACCESS, post_id), [cfg.posts.access[a] for a in ACCESS_LEVELS]
    )
    n_tiers = creators["n_tiers"][c_idx].astype(np.int64)
    locked_rank = 2 + np.floor(uniform(seed, streams.POSTS_MIN_TIER, post_id) * (n_tiers - 1)).astype(
        np.int64
    )
    locked_rank = np.minimum(locked_rank, n_tiers)
    # a post cannot be locked to a tier the creator has not added yet: the next one down
    added = np.choose(locked_rank - 1, [creators[f"tier_from_{r}"][c_idx] for r in (1, 2, 3, 4)])
    locked_rank = np.where(added > published, locked_rank - 1, locked_rank)
    # 0 = public (no minimum tier), 1 = any patron, r = patrons of tier rank r and above
    min_rank = np.select([access == 0, access == 1], [0, 1], locked_rank)
    return {
        "post_id": post_id,
        "creator_idx": c_idx,
        "creator_id": creator_id,
        "number": number,
        "month": month,
        "published_t": published,
        "post_type": post_type.astype(np.int8),
        "access": access.astype(np.int8),
        "min_rank": min_rank.astype(np.int8),
        "is_pinned": uniform(seed, streams.POSTS_PINNED, post_id) < cfg.posts.pinned_share,
    }


def window_post_counts(counts: np.ndarray) -> np.ndarray:
    """The window's months of :func:`monthly_post_counts`, shape (creators, months)."""
    return counts[:, BACK_CATALOGUE_MONTHS:]
