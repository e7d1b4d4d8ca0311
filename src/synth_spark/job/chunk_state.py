"""A simulated chunk of creators (:class:`Simulated`): how it is simulated, how its state crosses
from the simulating pass to each table's pass (each part pickled in its own column, so a table's
pass reads only the parts it needs) and how it is cut into pieces a worker's memory holds."""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from synth_spark.simulation.engagement import MAX_EVENTS_PER_MONTH
from synth_spark.simulation.lifecycle import Lifecycle, simulate
from synth_spark.simulation.plan import RunConstants
from synth_spark.simulation.posts import draw_posts, monthly_post_counts, window_post_counts

#: most rows of a table made from one piece of a chunk (see :func:`pieces`): about 400 MB of a
#: Python worker's memory for the events, the most costly per row
PIECE_ROWS = 1_000_000


@dataclass(frozen=True)
class Simulated:
    """A chunk of creators and everything simulated for them: what every table's rows come from."""

    creators: dict[str, np.ndarray]
    posts: dict[str, np.ndarray]
    #: posts per creator and month
    post_counts: np.ndarray
    life: Lifecycle


def simulate_chunk(job: RunConstants, cre: dict[str, np.ndarray]) -> Simulated:
    counts = monthly_post_counts(job.cfg, job.cal, cre, job.anomalies)
    posts = draw_posts(job.cfg, job.cal, cre, counts, job.anomalies.departure_of(cre["creator_id"]))
    life = simulate(
        job.cfg, job.cal, cre, posts, window_post_counts(counts), job.pool, job.churn_norm, job.anomalies
    )
    return Simulated(cre, posts, counts, life)


#: what the simulating pass hands Spark, one row per chunk: each part of its state pickled in its own
#: column, so that a table's pass reads only the parts it needs (at 100x the whole state is ~1.4 GB,
#: and moving it to Python for every table cost more than the posts' own rows)
STATE_PARTS = ("creators", "posts", "pledges", "attempts", "engaged", "history")
STATE_DDL = ", ".join(f"{part} binary" for part in STATE_PARTS)
#: the parts of the state each table is made from
NEEDS = {
    "posts": ("creators", "posts"),
    "pledges": ("creators", "pledges"),
    "transactions": ("creators", "pledges", "attempts"),
    "engagement_events": ("creators", "posts", "pledges", "engaged"),
    "history": ("creators", "pledges", "history"),
    "patron_parts": ("pledges", "attempts"),
}


def pieces(sim: Simulated, table: str, most: int = PIECE_ROWS) -> Iterator[Simulated]:
    """The chunk in pieces that each make at most about ``most`` rows of ``table``, together
    exactly the chunk's rows. A chunk's expected work is bounded, but a creator is never split, and
    the viral creator's extra patrons grow with the scale: at 1000x its chunk alone made 21M events,
    7 GB in one worker. Events are split by patron, since a patron's repeated like of a post
    becomes a view (all of a patron's events on a creator's posts stay in one piece); payment
    attempts are independent rows."""
    life = sim.life
    if table == "engagement_events" and life.engaged:
        bound = int(np.minimum(life.engaged["n_events"], MAX_EVENTS_PER_MONTH).sum())
        k = math.ceil(bound / most)
        if k > 1:
            group = life.pledges["patron_id"][life.engaged["pledge_idx"]] % k
            for g in range(k):
                mine = group == g
                yield replace(sim, life=replace(life, engaged={c: v[mine] for c, v in life.engaged.items()}))
            return
    if table == "transactions" and life.attempts:
        n = len(life.attempts["t"])
        if n > most:
            for start in range(0, n, most):
                attempts = {c: v[start : start + most] for c, v in life.attempts.items()}
                yield replace(sim, life=replace(life, attempts=attempts))
            return
    yield sim


def pickled(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def state_row(sim: Simulated) -> dict[str, bytes]:
    life = sim.life
    return {
        "creators": pickled(sim.creators),
        "posts": pickled((sim.posts, sim.post_counts)),
        "pledges": pickled(life.pledges),
        "attempts": pickled(life.attempts),
        "engaged": pickled(life.engaged),
        "history": pickled((life.pauses, life.moves)),
    }


def from_state(row: dict[str, bytes]) -> Simulated:
    """A :class:`Simulated` from the parts of a state row that are given (the others left empty)."""
    part = {name: pickle.loads(value) for name, value in row.items()}
    posts, counts = part.get("posts", ({}, None))
    pauses, moves = part.get("history", ({}, {}))
    return Simulated(
        part.get("creators", {}),
        posts,
        counts,
        Lifecycle(part.get("pledges", {}), part.get("attempts", {}), part.get("engaged", {}), pauses, moves),
    )
