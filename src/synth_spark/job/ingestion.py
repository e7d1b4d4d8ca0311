"""The data incidents of the catalogue: faults of the pipeline that copies the platform's rows into
the warehouse. The simulation, the platform's own database and everything derived from it (a
patron's lifetime spend, a snapshot as of a day, a change feed) are untouched; only the copied rows
of a table are lost, repeated or rescaled, as a broken ingestion would leave them.

A chunk's rows are checked against their keys before this step (job/chunk_keys.py), so a key the
copy repeats is one the ground truth labels, never a bug of the simulation.

Which rows an incident hits is a function of (seed, stream, the row's key, the incident's number):
the same rows whatever the partitioning. An incident with ``size`` s hits a share s of the rows of
its window (and of its payment method, when its segment names one).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth_spark.simulation import streams
from synth_spark.simulation.rng import uniform
from synth_spark.simulation.scenarios import Effect
from synth_spark.vocabulary import PAYMENT_METHODS

#: the table each incident type corrupts
TABLE_OF = {
    "events_lost": "engagement_events",
    "transactions_duplicated": "transactions",
    "amounts_in_cents": "transactions",
}
#: the incidents that copy rows twice, so their table repeats its keys on purpose
REPEATS = ("transactions_duplicated",)
#: the columns an incident reads: the row's key (its draws) and its time (its window)
KEY = {"engagement_events": "event_id", "transactions": "transaction_id"}
TIME = {"engagement_events": "event_at", "transactions": "transaction_at"}
#: the money columns a feed in cents writes 100 times too large
MONEY_COLUMNS = ("gross_amount_usd", "platform_fee_usd", "processing_fee_usd", "net_amount_usd")
_HUNDRED = pa.scalar(Decimal(100), pa.decimal128(3, 0))


def hit(seed: int, e: Effect, batch: pa.RecordBatch, table: str) -> np.ndarray:
    """The rows of ``batch`` that incident ``e`` hits."""
    seconds = pc.cast(batch.column(TIME[table]), pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
    out = (seconds >= e.start) & (seconds < e.end)
    if e.methods is not None and out.any():
        names = [PAYMENT_METHODS[m] for m in e.methods]
        out &= pc.is_in(batch.column("payment_method"), pa.array(names)).to_numpy(zero_copy_only=False)
    if out.any() and e.size < 1.0:
        key = batch.column(KEY[table]).to_numpy(zero_copy_only=False).astype(np.int64)
        out &= uniform(seed, streams.SCENARIO_INGESTION, key, e.number) < e.size
    return out


def in_cents(batch: pa.RecordBatch, rows: np.ndarray) -> pa.RecordBatch:
    """``batch`` with its money columns 100 times larger in ``rows``: the amounts written in cents."""
    mask = pa.array(rows)
    columns = []
    for name in batch.schema.names:
        col = batch.column(name)
        if name in MONEY_COLUMNS:
            col = pc.if_else(mask, pc.cast(pc.multiply_checked(col, _HUNDRED), col.type), col)
        columns.append(col)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def ingested(seed: int, incidents: tuple[Effect, ...], table: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """The rows of ``table`` as the warehouse received them, through the incidents acting on it."""
    for e in incidents:
        if TABLE_OF[e.kind] != table or batch.num_rows == 0:
            continue
        rows = hit(seed, e, batch, table)
        if not rows.any():
            continue
        if e.kind == "events_lost":
            batch = batch.filter(pa.array(~rows))
        elif e.kind == "transactions_duplicated":
            # the day's file loaded a second time: its rows again, after the first copy
            again = batch.filter(pa.array(rows))
            batch = pa.Table.from_batches([batch, again]).combine_chunks().to_batches()[0]
        else:
            batch = in_cents(batch, rows)
    return batch
