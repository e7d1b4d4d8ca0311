"""A chunk too large for one worker's memory is emitted in pieces: the same rows, whatever the
pieces, and the viral creator (whose extra patrons grow with the scale) weighs what it costs."""

import numpy as np
import pyarrow as pa
import pytest

from synth_spark.config import load_config
from synth_spark.job.chunk_state import pieces, simulate_chunk
from synth_spark.job.emitters import CreatorsByTask, events_batch, transactions_batch
from synth_spark.simulation.plan import Plan
from synth_spark.simulation.workload import creator_work


@pytest.fixture(scope="module")
def plan():
    return Plan.make(load_config(scale=2, seed=42))


@pytest.fixture(scope="module")
def viral_chunk(plan):
    """The chunk holding the viral creator, simulated (a single task, so chunks are as large as allowed)."""
    shared = CreatorsByTask.of(plan, 1)
    viral = plan.constants.anomalies.viral_creator
    chunk = next(c for c in shared.chunks(0) if viral in c["creator_id"])
    return simulate_chunk(plan.constants, chunk)


def _table(batches, key: str) -> pa.Table:
    return pa.Table.from_batches(batches).sort_by(key)


@pytest.mark.parametrize(
    "table, emit, key",
    [("engagement_events", events_batch, "event_id"), ("transactions", transactions_batch, "transaction_id")],
)
def test_a_chunk_in_pieces_makes_exactly_the_rows_of_the_whole_chunk(plan, viral_chunk, table, emit, key):
    whole = _table([emit(plan.constants, viral_chunk)], key)
    most = whole.num_rows // 7
    parts = list(pieces(viral_chunk, table, most))
    assert len(parts) >= 7
    batches = [emit(plan.constants, p) for p in parts]
    assert max(b.num_rows for b in batches) <= 1.5 * most  # pieces of events are by patron: about even
    assert _table(batches, key).equals(whole)


def test_a_chunk_under_the_bound_is_one_piece(viral_chunk):
    assert [p is viral_chunk for p in pieces(viral_chunk, "engagement_events")] == [True]
    assert [p is viral_chunk for p in pieces(viral_chunk, "pledges", most=1)] == [True]


def test_the_viral_creators_extra_patrons_count_in_the_planned_work(plan):
    viral = plan.creators["creator_id"] == plan.constants.anomalies.viral_creator
    base, planned = creator_work(plan.cal, plan.creators), plan.expected_work()
    assert np.array_equal(planned[~viral], base[~viral])
    # 1,000 extra patrons at 2x, arriving with 17 months left: each stays for months, not for all of them
    extra = planned[viral][0] - base[viral][0]
    assert 1_000 * 5 < extra < 1_000 * 17
