"""What one chunk of creators knows about each of its patrons: the first pledge, whether one runs or
is paused, and what the patron paid those creators, before the window and in it.

A patron pledges to creators of many chunks, so Spark adds the parts up (min, max, sum); a chunk's
part is a few numbers per patron, where deriving them from the published tables meant reading every
transaction back and grouping it twice.
"""

from __future__ import annotations

import numpy as np

from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.lifecycle import Lifecycle
from synth_spark.vocabulary import PLEDGE_STATUSES

ACTIVE, PAUSED = PLEDGE_STATUSES.index("active"), PLEDGE_STATUSES.index("paused")


def pledge_spend(cal: Calendar, life: Lifecycle) -> np.ndarray:
    """Cents each pledge paid up to the window's end: its successful charges in the window, and for a
    pledge running when the window opens, one charge a month from its start month on, at the amount of
    its first charge in the window (its pledge amount when it has none)."""
    pl, at = life.pledges, life.attempts
    seen = at["t"] < cal.end
    p_idx, t, gross, ok = (
        at["pledge_idx"][seen],
        at["t"][seen],
        at["amount_cents"][seen],
        at["ok"][seen].astype(bool),
    )
    n = pl["pledge_id"].size
    # bincount adds in float64: exact for sums below 2**53 cents
    spend = np.bincount(p_idx[ok], weights=gross[ok], minlength=n).astype(np.int64)
    # the first charge of each pledge: the earliest of its attempts
    order = np.lexsort((t, p_idx))
    first = order[np.r_[True, p_idx[order][1:] != p_idx[order][:-1]]] if order.size else order
    first_amount = pl["amount_cents"].copy()
    first_amount[p_idx[first]] = gross[first]
    before = pl["start_t"] < cal.start
    months = -cal.month_index(pl["start_t"][before])
    spend[before] += first_amount[before] * months
    return spend


def patron_parts(cal: Calendar, life: Lifecycle) -> dict[str, np.ndarray]:
    """One row per patron of the chunk: first pledge start, any pledge active, any paused (0/1), and
    the cents paid."""
    pl = life.pledges
    patrons, row = np.unique(pl["patron_id"], return_inverse=True)
    first = np.full(patrons.size, np.iinfo(np.int64).max)
    np.minimum.at(first, row, pl["start_t"])
    active = np.zeros(patrons.size, dtype=np.int32)
    np.maximum.at(active, row, (pl["status"] == ACTIVE).astype(np.int32))
    paused = np.zeros(patrons.size, dtype=np.int32)
    np.maximum.at(paused, row, (pl["status"] == PAUSED).astype(np.int32))
    spend = np.bincount(row, weights=pledge_spend(cal, life), minlength=patrons.size).astype(np.int64)
    return {
        "patron_id": patrons,
        "first_t": first,
        "any_active": active,
        "any_paused": paused,
        "spend_cents": spend,
    }
