"""Engagement events: each engaged pledge-month becomes views, likes, comments and shares on the
creator's posts that the patron's tier can see, while the pledge runs and after the post is out.
"""

from __future__ import annotations

import numpy as np

from synth_spark import vocabulary
from synth_spark.config import Config
from synth_spark.simulation import streams
from synth_spark.simulation.lifecycle import Lifecycle
from synth_spark.simulation.rng import categorical, uniform
from synth_spark.vocabulary import EVENT_TYPES

MAX_EVENTS_PER_MONTH = 99
#: chance that an event is on the newest visible post rather than an older one
RECENCY = 0.45
_KEY = np.int64(1) << 34  # larger than any epoch second we produce


def draw_events(cfg: Config, posts: dict[str, np.ndarray], life: Lifecycle) -> dict[str, np.ndarray]:
    seed, eg, pl = cfg.seed, life.engaged, life.pledges
    counts = np.minimum(eg["n_events"], MAX_EVENTS_PER_MONTH)
    row = np.repeat(np.arange(counts.size), counts)
    k = np.arange(row.size) - np.repeat(np.cumsum(counts) - counts, counts)
    p_idx = eg["pledge_idx"][row]
    pledge_id = pl["pledge_id"][p_idx]
    month = eg["month"][row]
    event_id = vocabulary.event_id(pledge_id, month, k)
    lo, hi = eg["lo"][row], eg["hi"][row]
    t = lo + (uniform(seed, streams.EVENT_TIME, event_id) * (hi - lo)).astype(np.int64)
    c_idx = pl["creator_idx"][p_idx]
    rank = eg["rank"][row]

    post_id = np.zeros(row.size, dtype=np.int64)
    back = np.floor(np.log1p(-uniform(seed, streams.EVENT_POST, event_id)) / np.log(1 - RECENCY)).astype(np.int64)
    for r in range(1, 5):
        sel = np.nonzero(rank == r)[0]
        if sel.size == 0:
            continue
        visible = posts["min_rank"] <= r
        p_key = posts["creator_idx"][visible] * _KEY + posts["published_t"][visible]
        ids = posts["post_id"][visible]
        e_key = c_idx[sel] * _KEY + t[sel]
        newest = np.searchsorted(p_key, e_key, side="right") - 1
        oldest = np.searchsorted(p_key, c_idx[sel] * _KEY, side="left")
        post_id[sel] = ids[np.maximum(newest - back[sel], oldest)]

    kind = categorical(uniform(seed, streams.EVENT_TYPE, event_id), [cfg.engagement.event_types[e] for e in EVENT_TYPES])
    return {
        "event_id": event_id,
        "patron_id": pl["patron_id"][p_idx],
        "creator_idx": c_idx,
        "post_id": post_id,
        "event_type": kind.astype(np.int8),
        "event_t": t,
    }
