"""The executor side: a task's chunks of creators in, each chunk simulated once, Arrow batches of a
table's raw rows out.

One ``mapInArrow`` pass simulates every chunk and hands Spark its state (posts, pledges, payment
attempts, engaged months: :class:`Simulated`), one row per chunk with each part pickled in its own
column, which the job keeps on the executors' disks; each table is then its own pass over the parts
of those states it needs, emitting only that table, so no pass holds another table's rows in memory
and no pass simulates again (it did, once per table, at a quarter of the generation's CPU). Rows
leave in the published types (decimals, strings of the closed sets) built with Arrow's vectorised
kernels: decoding them in Spark instead doubled the JVM's time on the transactions.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth_spark import vocabulary
from synth_spark.job.chunk_keys import CHUNK_KEYS, CHUNK_REFERENCES, ChunkKeys
from synth_spark.job.chunk_state import Simulated, from_state, pickled, pieces, simulate_chunk, state_row
from synth_spark.job.ingestion import ingested
from synth_spark.simulation import billing, identity, streams
from synth_spark.simulation.creators import tier_ranks
from synth_spark.simulation.engagement import draw_events
from synth_spark.simulation.patron_parts import patron_parts
from synth_spark.simulation.plan import RunConstants
from synth_spark.simulation.rng import uniform
from synth_spark.simulation.workload import Workload
from synth_spark.vocabulary import (
    ACCESS_LEVELS,
    CATEGORIES,
    CHURN_REASONS,
    EVENT_TYPES,
    FAILURE_CODES,
    NEVER,
    PAYMENT_METHODS,
    PLEDGE_STATUSES,
    POST_TYPES,
    TRANSACTION_STATUSES,
    TRANSACTION_TYPES,
)

TS = pa.timestamp("us", tz="UTC")
#: rows per Arrow batch handed back to Spark, so the JVM never holds a whole chunk's table at once
OUTPUT_BATCH_ROWS = 200_000
#: the columns of :meth:`CreatorsByTask.task_rows`
TASK, CHUNKS = "task", "chunks"


@dataclass(frozen=True)
class CreatorsByTask:
    """The creators' simulation parameters and which of them each task simulates; each task
    receives only its own chunks, as data (:meth:`task_rows`)."""

    creators: dict[str, np.ndarray]
    workload: Workload

    @classmethod
    def of(cls, plan, tasks: int) -> "CreatorsByTask":
        """The plan's creators spread over ``tasks`` tasks by their expected work."""
        work = plan.expected_work()
        return cls(plan.simulation_columns(), Workload.balance(work, plan.creators["creator_id"], tasks))

    def chunks(self, task: int) -> Iterator[dict[str, np.ndarray]]:
        for rows in self.workload.chunks_of(task):
            yield {k: v[rows] for k, v in self.creators.items()}

    def task_rows(self, tasks: int) -> pa.Table:
        """One row per task: its number and its chunks of creators, pickled. The plan travels to the
        executors as data (a table Spark joins to the tasks), so the job needs no broadcast variable
        and runs the same over Spark Connect."""
        return pa.table(
            {
                TASK: pa.array(range(tasks), type=pa.int64()),
                CHUNKS: pa.array([pickled(list(self.chunks(t))) for t in range(tasks)], type=pa.binary()),
            }
        )


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    micros = np.asarray(seconds, dtype=np.int64) * 1_000_000
    mask = None if valid is None else ~np.asarray(valid)
    return pa.array(micros, type=pa.int64(), mask=mask).cast(TS)


def money(cents: np.ndarray, precision: int = 10) -> pa.Array:
    """Integer cents as ``decimal(precision, 2)``, exactly: a decimal128 is its unscaled value as a
    16-byte two's-complement integer, so the cents are its low word and their sign its high word."""
    c = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(c), 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = c >> 63
    return pa.Array.from_buffers(pa.decimal128(precision, 2), len(c), [None, pa.py_buffer(words)])


def decoded(codes: np.ndarray, values: tuple[str | None, ...]) -> pa.Array:
    """Small integer codes to the strings they stand for; a ``None`` value decodes to null."""
    return pa.array(values, type=pa.string()).take(pa.array(np.asarray(codes, dtype=np.int32)))


def _simulated(job: RunConstants, chunk: Simulated | dict[str, np.ndarray]) -> Simulated:
    """Emitters take a simulated chunk, or a chunk of creators to simulate (tests, tools)."""
    return chunk if isinstance(chunk, Simulated) else simulate_chunk(job, chunk)


def posts_batch(job: RunConstants, chunk: Simulated | dict[str, np.ndarray]) -> pa.RecordBatch:
    seed = job.cfg.seed
    sim = _simulated(job, chunk)
    cre, p = sim.creators, sim.posts
    category = np.array(CATEGORIES, dtype=object)[cre["category_code"][p["creator_idx"]].astype(np.int64)]
    title = identity.post_titles(
        category,
        p["post_type"],
        p["number"],
        uniform(seed, streams.POST_TITLE, p["post_id"]),
        uniform(seed, streams.POST_W1, p["post_id"]),
        uniform(seed, streams.POST_W2, p["post_id"]),
    )
    min_tier = vocabulary.tier_id(p["creator_id"], p["min_rank"])
    return pa.RecordBatch.from_pydict(
        {
            "post_id": p["post_id"],
            "creator_id": p["creator_id"],
            "title": pa.array(title, type=pa.string()),
            "post_type": decoded(p["post_type"], POST_TYPES),
            "access_level": decoded(p["access"], ACCESS_LEVELS),
            "minimum_tier_id": pa.array(min_tier, mask=p["min_rank"] == 0),
            "published_at": timestamps(p["published_t"]),
            "is_pinned": p["is_pinned"],
        }
    )


def pledges_batch(job: RunConstants, chunk: Simulated | dict[str, np.ndarray]) -> pa.RecordBatch:
    """Every column of the pledges but ``is_first_pledge``, which needs the patron's other creators."""
    cal = job.cal
    sim = _simulated(job, chunk)
    cre, pl = sim.creators, sim.life.pledges
    creator_id = cre["creator_id"][pl["creator_idx"]]
    ended = pl["end_t"] < cal.end
    paused = pl["pause_t"] < cal.end
    return pa.RecordBatch.from_pydict(
        {
            "pledge_id": pl["pledge_id"],
            "patron_id": pl["patron_id"],
            "creator_id": creator_id,
            "tier_id": vocabulary.tier_id(creator_id, pl["rank"]),
            "pledge_amount_usd": money(pl["amount_cents"]),
            "pledge_status": decoded(pl["status"], PLEDGE_STATUSES),
            "started_at": timestamps(pl["start_t"]),
            "ended_at": timestamps(np.where(ended, pl["end_t"], 0), ended),
            "pause_started_at": timestamps(np.where(paused, pl["pause_t"], 0), paused),
            "churn_reason": decoded(np.where(ended, pl["reason"], 0), (None, *CHURN_REASONS)),
        }
    )


#: what a pledge's row does not show of its past: each pause (``until`` null while it lasts) and
#: each tier change (the tier and amount it left); internal, for snapshots and change feeds
HISTORY_DDL = (
    "pledge_id bigint, kind string, at timestamp, until timestamp, from_tier_id bigint, "
    "from_amount_usd decimal(10,2)"
)


def history_batch(job: RunConstants, chunk: Simulated | dict[str, np.ndarray]) -> pa.RecordBatch:
    sim = _simulated(job, chunk)
    cre, life = sim.creators, sim.life
    pl, pauses, moves = life.pledges, life.pauses, life.moves
    ended = pauses["end_t"] < NEVER
    mv = moves["pledge_idx"]
    creator_id = cre["creator_id"][pl["creator_idx"][mv]]
    from_amount = np.stack(
        [np.zeros(len(cre["creator_id"]), dtype=np.int64)] + [cre[f"price_{r}"] for r in (1, 2, 3, 4)], axis=1
    )[pl["creator_idx"][mv], moves["from_rank"]]
    n_p, n_m = pauses["pledge_idx"].size, mv.size
    return pa.RecordBatch.from_pydict(
        {
            "pledge_id": np.concatenate([pl["pledge_id"][pauses["pledge_idx"]], pl["pledge_id"][mv]]),
            "kind": pa.array(["pause"] * n_p + ["move"] * n_m, type=pa.string()),
            "at": timestamps(np.concatenate([pauses["start_t"], moves["t"]])),
            "until": timestamps(
                np.concatenate([np.where(ended, pauses["end_t"], 0), np.zeros(n_m, dtype=np.int64)]),
                np.concatenate([ended, np.zeros(n_m, dtype=bool)]),
            ),
            "from_tier_id": pa.array(
                np.concatenate(
                    [np.zeros(n_p, dtype=np.int64), vocabulary.tier_id(creator_id, moves["from_rank"])]
                ),
                mask=np.arange(n_p + n_m) < n_p,
            ),
            "from_amount_usd": pc.if_else(
                pa.array(np.arange(n_p + n_m) < n_p),
                pa.scalar(None, pa.decimal128(10, 2)),
                money(np.concatenate([np.zeros(n_p, dtype=np.int64), from_amount])),
            ),
        }
    )


def transactions_batch(job: RunConstants, chunk: Simulated | dict[str, np.ndarray]) -> pa.RecordBatch:
    cal = job.cal
    sim = _simulated(job, chunk)
    cre, life = sim.creators, sim.life
    at, pl = life.attempts, life.pledges
    keep = at["t"] < cal.end
    at = {k: v[keep] for k, v in at.items()}
    p_idx = at["pledge_idx"]
    pledge_id = pl["pledge_id"][p_idx]
    c_idx = pl["creator_idx"][p_idx]
    gross = at["amount_cents"]
    platform, processing, net = billing.fees(job.cfg, gross, cre["platform_fee"][c_idx])
    ok = at["ok"].astype(bool)
    pay = billing.PatronPayment(job.cfg, pl["patron_id"][p_idx])
    return pa.RecordBatch.from_pydict(
        {
            "transaction_id": vocabulary.transaction_id(pledge_id, at["month"], at["attempt"]),
            "pledge_id": pledge_id,
            "patron_id": pl["patron_id"][p_idx],
            "creator_id": cre["creator_id"][c_idx],
            "transaction_type": decoded(at["attempt"] > 0, TRANSACTION_TYPES),
            "transaction_status": decoded(~ok, TRANSACTION_STATUSES),
            "gross_amount_usd": money(gross),
            "platform_fee_usd": money(np.where(ok, platform, 0)),
            "processing_fee_usd": money(np.where(ok, processing, 0)),
            "net_amount_usd": money(np.where(ok, net, 0)),
            "payment_method": decoded(pay.method, PAYMENT_METHODS),
            "failure_reason": decoded(at["reason"], FAILURE_CODES),
            "transaction_at": timestamps(at["t"]),
        }
    )


def events_batch(job: RunConstants, chunk: Simulated | dict[str, np.ndarray]) -> pa.RecordBatch:
    sim = _simulated(job, chunk)
    cre = sim.creators
    ev = draw_events(job.cfg, job.cal, sim.posts, sim.life)
    return pa.RecordBatch.from_pydict(
        {
            "event_id": ev["event_id"],
            "patron_id": ev["patron_id"],
            "creator_id": cre["creator_id"][ev["creator_idx"]],
            "post_id": ev["post_id"],
            "event_type": decoded(ev["event_type"], EVENT_TYPES),
            "event_at": timestamps(ev["event_t"]),
        }
    )


#: a chunk's part of each of its patrons' derived columns (simulation/patron_parts.py); internal
PATRON_PARTS_DDL = (
    "patron_id bigint, first_pledge_at timestamp, any_active int, any_paused int, spend_cents bigint"
)


def patron_parts_batch(job: RunConstants, chunk: Simulated | dict[str, np.ndarray]) -> pa.RecordBatch:
    parts = patron_parts(job.cal, _simulated(job, chunk).life)
    return pa.RecordBatch.from_pydict(
        {
            "patron_id": parts["patron_id"],
            "first_pledge_at": timestamps(parts["first_t"]),
            "any_active": parts["any_active"],
            "any_paused": parts["any_paused"],
            "spend_cents": parts["spend_cents"],
        }
    )


def simulating_mapper(job: RunConstants):
    """A ``mapInArrow`` function over :meth:`CreatorsByTask.task_rows`: simulates each chunk of creators of
    each task it is given and yields its state (:data:`STATE_PARTS`)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for blob in batch.column(CHUNKS):
                for creators in pickle.loads(blob.as_buffer()):
                    row = state_row(simulate_chunk(job, creators))
                    yield pa.RecordBatch.from_pydict(
                        {k: pa.array([v], type=pa.binary()) for k, v in row.items()}
                    )

    return run


def chunk_keys(table: str, sim: Simulated) -> ChunkKeys | None:
    """The check of ``table``'s keys in this chunk, with the parents it made that the table names."""
    if table not in CHUNK_KEYS:
        return None
    made = {
        "pledges": lambda: sim.life.pledges["pledge_id"],
        "posts": lambda: sim.posts["post_id"],
        "creators": lambda: sim.creators["creator_id"],
        "tiers": lambda: tier_ranks(sim.creators)[2],
    }
    parents = {parent: made[parent]() for parent in CHUNK_REFERENCES.get(table, {}).values()}
    return ChunkKeys(table, int(sim.creators["creator_id"][0]), parents)


def mapper(
    job: RunConstants,
    emit: Callable[[RunConstants, Simulated], pa.RecordBatch],
    table: str,
    tally=None,
    incidents: tuple = (),
):
    """A ``mapInArrow`` function over the simulating pass's rows (some of their parts): runs ``emit``
    on each piece of each chunk (:func:`pieces` of ``table``), and checks the chunk's keys once all
    its pieces are made (job/chunk_keys.py), adding the rows it hands on to ``tally`` (an
    accumulator) if given. ``incidents``: the data incidents the rows then pass through
    (job/ingestion.py), after their keys were checked."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for i in range(batch.num_rows):
                row = {name: batch.column(name)[i].as_buffer() for name in batch.schema.names}
                sim = from_state(row)
                keys = chunk_keys(table, sim)
                handed = 0
                for piece in pieces(sim, table):
                    out = emit(job, piece)
                    if keys is not None:
                        keys.add(out)
                    if incidents:
                        out = ingested(job.cfg.seed, incidents, table, out)
                    handed += out.num_rows
                    for offset in range(0, out.num_rows, OUTPUT_BATCH_ROWS):
                        yield out.slice(offset, OUTPUT_BATCH_ROWS)
                    del out  # or a piece's rows stay alive while the next piece is made
                if keys is not None:
                    keys.check()
                    if tally is not None:
                        # keyed by the chunk (its first creator): a chunk made again (a task
                        # retried, a lost partition recomputed) counts once
                        tally.add({(table, keys.chunk): handed})

    return run
