"""Spreading creators over generation tasks by the rows they are expected to produce.

Creators are the unit of work, but their sizes follow a power law: at 1x the largest creator
alone is expected to produce 4% of all rows. Hashing creators onto tasks would leave one task with
far more work than the others, and a task per handful of creators would pay Spark's per-task
overhead hundreds of times. So the driver places creators on a few tasks by expected work
(longest-processing-time first), and each task simulates its creators in chunks of bounded work
so that memory does not grow with the scale.

Where a creator is simulated never changes what it produces (every draw comes from identity), so
any placement gives the same tables; the placement is still deterministic so that output files
are the same from run to run.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.growth import expected_pledge_months

#: output rows (all simulated tables) per expected pledge-month, measured at 1x
ROWS_PER_PLEDGE_MONTH = 4.8
#: expected output rows a generation task aims at: big enough that Spark's per-task overhead is
#: small beside it, small enough that a 100x run still has several tasks per core
ROWS_PER_TASK = 4_000_000
#: expected pledge-months simulated at once inside a task, which bounds a Python worker's memory
CHUNK_PLEDGE_MONTHS = 100_000


def creator_work(cal: Calendar, creators: dict[str, np.ndarray]) -> np.ndarray:
    """Expected work of each creator, in pledge-months; every creator counts for at least one
    (its posts and the fixed cost of simulating it)."""
    return np.maximum(np.asarray(expected_pledge_months(cal, creators), dtype=np.float64), 0.0) + 1.0


def default_tasks(work: np.ndarray, parallelism: int) -> int:
    """Enough tasks to keep each near ROWS_PER_TASK, a multiple of the cores, at least two per core
    when there is enough work so one slow task does not leave the other cores idle."""
    parallelism = max(1, parallelism)
    rows = float(work.sum()) * ROWS_PER_PLEDGE_MONTH
    per_core = max(2 if rows > ROWS_PER_TASK else 1, math.ceil(rows / (ROWS_PER_TASK * parallelism)))
    return min(parallelism * per_core, len(work)) if len(work) else 1


@dataclass(frozen=True)
class Workload:
    """Which creators each task simulates, and in which chunks.

    ``order`` lists creator positions (rows of the plan) task by task; ``chunks`` holds, for each
    chunk, its task and its slice ``[start, stop)`` of ``order``.
    """

    tasks: int
    order: np.ndarray
    chunks: np.ndarray  # shape (n, 3): task, start, stop
    load: np.ndarray  # expected work per task

    @classmethod
    def balance(
        cls, work: np.ndarray, creator_id: np.ndarray, tasks: int, chunk_work: float = CHUNK_PLEDGE_MONTHS
    ) -> "Workload":
        if tasks < 1:
            raise ValueError("tasks must be 1 or more")
        # Largest first, ties by creator id: the same placement on every run.
        by_size = np.lexsort((creator_id, -work))
        heap = [(0.0, t) for t in range(tasks)]
        task_of = np.empty(len(work), dtype=np.int64)
        load = np.zeros(tasks)
        for i in by_size:
            total, t = heapq.heappop(heap)
            task_of[i] = t
            load[t] = total + work[i]
            heapq.heappush(heap, (load[t], t))
        order = np.lexsort((creator_id, task_of))
        chunks = []
        start = 0
        for t in range(tasks):
            stop = start + int(np.count_nonzero(task_of == t))
            chunks.extend(_split(work[order[start:stop]], chunk_work, t, start))
            start = stop
        return cls(tasks, order, np.array(chunks, dtype=np.int64).reshape(-1, 3), load)

    def chunks_of(self, task: int) -> list[np.ndarray]:
        """Plan rows of each chunk of ``task``."""
        mine = self.chunks[self.chunks[:, 0] == task]
        return [self.order[a:b] for _, a, b in mine]

    @property
    def imbalance(self) -> float:
        """The busiest task's expected work over the mean task's (1.0 is perfect balance)."""
        return float(self.load.max() / self.load.mean()) if self.load.sum() else 1.0


def _split(work: np.ndarray, limit: float, task: int, offset: int) -> list[tuple[int, int, int]]:
    """Consecutive slices of at most ``limit`` work (a creator bigger than that is a slice alone)."""
    out = []
    start, acc = 0, 0.0
    for i, w in enumerate(work):
        if i > start and acc + w > limit:
            out.append((task, offset + start, offset + i))
            start, acc = i, 0.0
        acc += w
    if len(work):
        out.append((task, offset + start, offset + len(work)))
    return out
