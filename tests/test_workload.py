"""Placing creators on generation tasks: balanced by expected work, deterministic, complete."""

import numpy as np
import pytest

from synth_spark.config import load_config
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.creators import draw_creators
from synth_spark.simulation.workload import (
    ROWS_PER_PLEDGE_MONTH,
    ROWS_PER_TASK,
    Workload,
    creator_work,
    default_tasks,
)


@pytest.fixture(scope="module")
def creators_1x():
    cfg = load_config(scale=1, seed=7)
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    return creators, creator_work(cal, creators)


def _placed(w: Workload, n: int) -> np.ndarray:
    rows = np.concatenate([r for t in range(w.tasks) for r in w.chunks_of(t)])
    assert len(rows) == n
    return rows


@pytest.mark.parametrize("tasks", [1, 2, 7, 64, 600])
def test_every_creator_is_placed_exactly_once(creators_1x, tasks):
    creators, work = creators_1x
    w = Workload.balance(work, creators["creator_id"], tasks)
    rows = _placed(w, len(work))
    assert sorted(rows.tolist()) == list(range(len(work)))
    assert np.allclose(w.load.sum(), work.sum())


def test_the_power_law_does_not_unbalance_the_tasks(creators_1x):
    creators, work = creators_1x
    # At 1x the largest creator is several percent of all the work: hashing creators onto 8 tasks
    # leaves the busiest with far more than its share; placing by expected work does not.
    assert work.max() / work.sum() > 0.02
    hashed = np.bincount(creators["creator_id"] % 8, weights=work, minlength=8)
    placed = Workload.balance(work, creators["creator_id"], 8)
    assert hashed.max() / hashed.mean() > 1.3
    assert placed.imbalance < 1.02


def test_a_creator_larger_than_a_task_share_is_a_task_of_its_own():
    work = np.array([100.0, 1.0, 1.0, 1.0, 1.0])
    w = Workload.balance(work, np.arange(1, 6), 2)
    assert [sorted(np.concatenate(w.chunks_of(t)).tolist()) for t in range(2)] == [[0], [1, 2, 3, 4]]
    assert w.imbalance == pytest.approx(100 / 52)


def test_placement_is_deterministic_and_independent_of_input_order(creators_1x):
    creators, work = creators_1x
    a = Workload.balance(work, creators["creator_id"], 5)
    b = Workload.balance(work, creators["creator_id"], 5)
    assert np.array_equal(a.order, b.order) and np.array_equal(a.chunks, b.chunks)
    perm = np.random.default_rng(0).permutation(len(work))
    c = Workload.balance(work[perm], creators["creator_id"][perm], 5)
    for t in range(5):
        ids_a = sorted(creators["creator_id"][np.concatenate(a.chunks_of(t))])
        ids_c = sorted(creators["creator_id"][perm][np.concatenate(c.chunks_of(t))])
        assert ids_a == ids_c


def test_chunks_bound_the_work_simulated_at_once(creators_1x):
    creators, work = creators_1x
    w = Workload.balance(work, creators["creator_id"], 2, chunk_work=5_000)
    for t in range(2):
        for rows in w.chunks_of(t):
            assert len(rows) == 1 or work[rows].sum() <= 5_000
    assert len(w.chunks) > 2 * work.sum() / 5_000 / 2


def test_default_tasks_follow_the_rows_and_the_cores():
    per_task_work = ROWS_PER_TASK / ROWS_PER_PLEDGE_MONTH
    small = np.full(50, 10.0)
    assert default_tasks(small, 2) == 2  # little work: one task per core
    assert default_tasks(np.full(10, per_task_work), 2) == 10  # 10 tasks' worth on 2 cores
    assert default_tasks(np.full(10, per_task_work), 64) == 10  # never more tasks than creators
    assert default_tasks(np.full(1000, per_task_work / 100), 2) == 10
    assert default_tasks(np.full(1000, per_task_work / 100), 3) % 3 == 0
