"""Engagement events: each engaged pledge-month becomes views, likes, comments and shares on the
creator's posts that the patron's tier can see, while the pledge runs and after the post is out.

People engage with what is new: most events land on the posts of the month (or of the week before
it) within a day or two of their publication, decaying from there; a thin tail goes back to older
posts at any time of the month. A patron likes or shares a post at most once: a repeat becomes a
view, which may repeat.
"""

from __future__ import annotations

import numpy as np

from synth_spark import vocabulary
from synth_spark.config import Config
from synth_spark.simulation import rhythm, streams
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.lifecycle import Lifecycle
from synth_spark.simulation.rng import categorical, uniform
from synth_spark.vocabulary import DAY, EVENT_TYPES

MAX_EVENTS_PER_MONTH = 99
#: a tail event goes back from the newest post before the month by a geometric number of posts
RECENCY = 0.45
_KEY = np.int64(1) << 34  # larger than any epoch second we produce
#: event types a patron does once per post
_ONCE = tuple(EVENT_TYPES.index(e) for e in ("like", "share"))
_VIEW = EVENT_TYPES.index("view")


def _after_publication(u: np.ndarray, since: np.ndarray, until: np.ndarray, mean: float) -> np.ndarray:
    """Seconds after publication: an exponential delay with the given mean, conditioned to fall in
    [since, until) (inverse CDF of the truncated law, so one uniform per event)."""
    span = (until - since).astype(np.float64)
    tail = -np.expm1(-span / mean)
    offset = -mean * np.log1p(-u * tail)
    return since + np.minimum(offset.astype(np.int64), until - since - 1)


def _once_per_post(
    patron: np.ndarray, post: np.ndarray, kind: np.ndarray, t: np.ndarray, event_id: np.ndarray
) -> np.ndarray:
    """The event types with each repeated like or share of a patron on a post (after the first, in
    time) turned into a view."""
    kind = kind.copy()
    once = np.isin(kind, _ONCE)
    sel = np.nonzero(once)[0]
    order = sel[np.lexsort((event_id[sel], t[sel], kind[sel], post[sel], patron[sel]))]
    repeat = np.zeros(order.size, dtype=bool)
    repeat[1:] = (
        (patron[order][1:] == patron[order][:-1])
        & (post[order][1:] == post[order][:-1])
        & (kind[order][1:] == kind[order][:-1])
    )
    kind[order[repeat]] = _VIEW
    return kind


def _visible_by_rank(posts: dict[str, np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each tier rank: the rows of the posts it can see, and their (creator, time) search keys
    (posts are ordered by creator, then time, so the keys are sorted)."""
    out = {}
    for r in range(1, 5):
        visible = np.nonzero(posts["min_rank"] <= r)[0]
        out[r] = visible, posts["creator_idx"][visible] * _KEY + posts["published_t"][visible]
    return out


def _recent_weights(
    by_rank: dict,
    published_t: np.ndarray,
    c_idx: np.ndarray,
    rank: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    recent_days: float,
    mean: float,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """For each row (a pledge-month, or an event of one): where its recent posts start among the
    posts its rank can see, how many there are (published in the ``recent_days`` before ``lo``, or
    up to ``hi``), and for the k-th of them the share of its readers' delays that fall in [lo, hi).

    A post from the last days of the month before has most of its readers behind it; one from the
    month's last day has most of them ahead, in the next month. Weighting by these shares keeps
    the month's edges at the level of its middle."""
    first = np.zeros(c_idx.size, dtype=np.int64)
    count = np.zeros(c_idx.size, dtype=np.int64)
    visible_of = np.zeros(c_idx.size, dtype=np.int64)  # which rank's list a row searches
    for r in range(1, 5):
        sel = np.nonzero(rank == r)[0]
        if sel.size == 0:
            continue
        _, p_key = by_rank[r]
        base = c_idx[sel] * _KEY
        first[sel] = np.searchsorted(p_key, base + lo[sel] - int(recent_days * DAY), side="left")
        count[sel] = np.searchsorted(p_key, base + hi[sel], side="left") - first[sel]
        visible_of[sel] = r
    weights = []
    for k in range(int(count.max()) if count.size else 0):
        has = np.nonzero(count > k)[0]
        w = np.zeros(c_idx.size)
        for r in range(1, 5):
            rows = has[visible_of[has] == r]
            if rows.size == 0:
                continue
            visible, _ = by_rank[r]
            pub = published_t[visible[first[rows] + k]]
            w[rows] = np.exp(-np.maximum(lo[rows] - pub, 0) / mean) - np.exp(-(hi[rows] - pub) / mean)
        weights.append(w)
    return first, count, weights


def _month_posts(
    cfg: Config, posts: dict[str, np.ndarray], life: Lifecycle, by_rank: dict
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """:func:`_recent_weights` of each engaged pledge-month (its events share them)."""
    eg = life.engaged
    return _recent_weights(
        by_rank,
        posts["published_t"],
        life.pledges["creator_idx"][eg["pledge_idx"]],
        eg["rank"],
        eg["lo"],
        eg["hi"],
        cfg.engagement.recent_days,
        cfg.engagement.delay_days * DAY,
    )


def _first_above(
    weights: list[np.ndarray], count: np.ndarray, row: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """For each event: the first of its month's recent posts at which the running sum of their
    weights exceeds ``target`` (the last one if none does). The running sums are laid out month by
    month and searched by bisection, so an event costs a few lookups however many posts its month
    had, not one pass per post."""
    if not weights:
        return np.zeros(row.size, dtype=np.int64)
    start = np.cumsum(count) - count
    sums = np.empty(int(count.sum()))
    running = np.zeros(count.size)
    for k, w in enumerate(weights):
        running = running + w
        has = np.nonzero(count > k)[0]
        sums[start[has] + k] = running[has]
    lo, hi = start[row], start[row] + count[row]
    for _ in range(int(count.max()).bit_length()):
        mid = (lo + hi) // 2
        go_right = (mid < hi) & (sums[np.minimum(mid, sums.size - 1)] <= target)
        lo, hi = np.where(go_right, mid + 1, lo), np.where(go_right, hi, mid)
    return np.clip(lo - start[row], 0, np.maximum(count[row] - 1, 0))


def events_per_month(
    cfg: Config,
    cal: Calendar,
    posts: dict[str, np.ndarray],
    life: Lifecycle,
    by_rank: dict | None = None,
    recent: tuple | None = None,
) -> np.ndarray:
    """Events of each engaged pledge-month: its drawn count, but in a month with nothing new for
    the patron's tier only a look back at an older post or two."""
    eg, ec = life.engaged, cfg.engagement
    _, count, weights = recent or _month_posts(cfg, posts, life, by_rank or _visible_by_rank(posts))
    fresh = count > 0
    # A month whose only new posts came out just before it (or just before it ends) holds only the
    # share of their readers that reach them in it, and a pledge that runs for part of the month
    # only that part's: at least one event, as the month was engaged.
    share = np.minimum(np.sum(weights, axis=0) if weights else np.zeros(count.size), 1.0)
    share = share * (eg["hi"] - eg["lo"]) / (cal.month_end(eg["month"]) - cal.month_start(eg["month"]))
    pledge_id = life.pledges["pledge_id"][eg["pledge_idx"]]
    u = uniform(cfg.seed, streams.ENGAGE_SHARE, pledge_id, eg["month"])
    held = np.maximum(np.floor(eg["n_events"] * share + u).astype(np.int64), 1)
    return np.minimum(
        np.where(fresh, held, np.minimum(eg["n_events"], ec.events_without_new_posts)), MAX_EVENTS_PER_MONTH
    )


def draw_events(
    cfg: Config, cal: Calendar, posts: dict[str, np.ndarray], life: Lifecycle
) -> dict[str, np.ndarray]:
    seed, eg, pl, ec = cfg.seed, life.engaged, life.pledges, cfg.engagement
    by_rank = _visible_by_rank(posts)
    month_first, month_count, month_weights = recent = _month_posts(cfg, posts, life, by_rank)
    counts = events_per_month(cfg, cal, posts, life, by_rank, recent)
    row = np.repeat(np.arange(counts.size), counts)
    k = np.arange(row.size) - np.repeat(np.cumsum(counts) - counts, counts)
    p_idx = eg["pledge_idx"][row]
    pledge_id = pl["pledge_id"][p_idx]
    month = eg["month"][row]
    event_id = vocabulary.event_id(pledge_id, month, k)
    lo, hi = eg["lo"][row], eg["hi"][row]
    c_idx = pl["creator_idx"][p_idx]
    rank = eg["rank"][row]
    u_post = uniform(seed, streams.EVENT_POST, event_id)
    u_time = uniform(seed, streams.EVENT_TIME, event_id)
    tail = uniform(seed, streams.EVENT_TAIL, event_id) < ec.old_post_share

    # a recent post is chosen by the share of its readers' delays that fall in the month (the
    # month's weights, gathered for each of its events)
    first_recent, n_recent = month_first[row], month_count[row]
    target = u_post * (np.sum(month_weights, axis=0)[row] if month_weights else 0.0)
    k_recent = _first_above(month_weights, month_count, row, target)

    post_row = np.zeros(row.size, dtype=np.int64)
    for r in range(1, 5):
        sel = np.nonzero(rank == r)[0]
        if sel.size == 0:
            continue
        visible, p_key = by_rank[r]
        base = c_idx[sel] * _KEY
        before = np.searchsorted(p_key, base + lo[sel], side="right") - 1  # published by lo
        oldest = np.searchsorted(p_key, base, side="left")
        old = tail[sel] | (n_recent[sel] <= 0)
        # nothing new: the latest post; a tail event: any older one, the recent ones likelier
        back = np.where(tail[sel], np.floor(np.log1p(-u_post[sel]) / np.log(1 - RECENCY)).astype(np.int64), 0)
        pick = np.where(old, np.maximum(before - back, oldest), first_recent[sel] + k_recent[sel])
        post_row[sel] = visible[pick]
        tail[sel] = old

    published = posts["published_t"][post_row]
    fresh = (
        _after_publication(u_time, np.maximum(lo - published, 0), hi - published, ec.delay_days * DAY)
        + published
    )
    t = np.where(tail, lo + (u_time * (hi - lo)).astype(np.int64), fresh)
    post_id = posts["post_id"][post_row]
    patron = pl["patron_id"][p_idx]
    # ...at an hour that suits the patron where they live, never before the post or outside the month
    t = rhythm.in_rhythm(
        t,
        np.maximum(lo, published),
        hi,
        rhythm.patron_zone(seed, patron),
        rhythm.Rhythm.of(cfg.rhythm.patrons),
        rhythm.clock_for(cal),
        uniform(seed, streams.RHYTHM_EVENT_DAY, event_id),
        uniform(seed, streams.RHYTHM_EVENT_HOUR, event_id),
    )
    kind = categorical(uniform(seed, streams.EVENT_TYPE, event_id), [ec.event_types[e] for e in EVENT_TYPES])
    return {
        "event_id": event_id,
        "patron_id": patron,
        "creator_idx": c_idx,
        "post_id": post_id,
        "event_type": _once_per_post(patron, post_id, kind, t, event_id).astype(np.int8),
        "event_t": t,
    }
