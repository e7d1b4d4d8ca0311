"""The simulated tables' keys, checked where their rows are made: in each chunk of creators, in
numpy, before Spark sees a row.

Why this is enough for the whole table: every simulated id is composed from its owner's id and
counters in fields of fixed room (vocabulary.IdLayout), and composing refuses a counter outside its
field, so two different owners never share an id. A creator's pledges, posts, payments and events
are all made in the chunk that simulates the creator, and each creator is simulated in exactly one
chunk (:func:`check_chunks`, on the driver). So a table's ids are unique once they are unique
within every chunk, and a reference to a parent of the same creator (a payment's pledge, an event's
post, a pledge's tier: the tiers table holds ranks 1 to each creator's ``n_tiers``, as the chunk
does) is set once the chunk holds that parent.

Checking here costs a sort of each chunk's keys; reading the staged tables back to check them cost
a fifth of a 10x run. The patrons, made from every chunk's part after the simulation, and the
pledges' references to them are checked on the staged files (job/keys.py).

Nothing here needs Spark: it runs in the Python workers.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

#: the simulated tables whose primary key each chunk checks
CHUNK_KEYS = {
    "pledges": "pledge_id",
    "posts": "post_id",
    "transactions": "transaction_id",
    "engagement_events": "event_id",
}
#: the references each chunk checks against the parents it made or simulates: child column -> parent table
CHUNK_REFERENCES = {
    "pledges": {"creator_id": "creators", "tier_id": "tiers"},
    "posts": {"creator_id": "creators", "minimum_tier_id": "tiers"},
    "transactions": {"pledge_id": "pledges"},
    "engagement_events": {"post_id": "posts"},
}
#: the references checked before the staged files exist: in the chunks, and the plan's tiers
CHECKED_REFERENCES = {**CHUNK_REFERENCES, "tiers": {"creator_id": "creators"}}
#: marks the failure so the driver can find its one line inside Spark's report of the failed task
MARK = "synth-spark broken keys: "


class BrokenKeys(RuntimeError):
    """A dataset breaks its own keys: a bug, so the run ends as an internal error."""


def _ids(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, int]:
    nulls = column.null_count
    if nulls:
        column = column.drop_null()
    return column.to_numpy(zero_copy_only=False).astype(np.int64, copy=False), nulls


class ChunkKeys:
    """The keys and references of one table in one chunk, gathered over the chunk's pieces
    (a chunk's rows of one table may come in several pieces) and checked once it is whole."""

    def __init__(self, table: str, chunk: int, parents: dict[str, np.ndarray] | None = None):
        self.table, self.key, self.chunk = table, CHUNK_KEYS[table], chunk
        self.references = CHUNK_REFERENCES.get(table, {})
        self.parents = parents or {}
        self.parts: list[np.ndarray] = []
        self.nulls = 0
        self.orphans = dict.fromkeys(self.references, 0)

    def add(self, batch: pa.RecordBatch) -> None:
        keys, nulls = _ids(batch.column(self.key))
        self.parts.append(keys)
        self.nulls += nulls
        for column, parent in self.references.items():
            ids, _ = _ids(batch.column(column))
            self.orphans[column] += int(np.count_nonzero(~np.isin(ids, self.parents[parent])))

    def problems(self) -> list[str]:
        keys = np.sort(np.concatenate(self.parts)) if self.parts else np.empty(0, np.int64)
        repeats = int(np.count_nonzero(keys[1:] == keys[:-1]))
        rows = len(keys) + self.nulls
        out = []
        if self.nulls:
            out.append(
                f"{self.table}.{self.key}: {self.nulls:,} of {rows:,} rows of a chunk have no {self.key}"
            )
        if repeats:
            out.append(
                f"{self.table}.{self.key}: {rows:,} rows of a chunk but {len(keys) - repeats:,} distinct "
                "values"
            )
        for column, n in self.orphans.items():
            if n:
                out.append(
                    f"{self.table}.{column}: {n:,} of {rows:,} rows of a chunk name a {column} "
                    f"that {self.references[column]} does not hold"
                )
        return out

    def check(self) -> None:
        """Raise :class:`BrokenKeys` with the first problem (and how many more) in one line."""
        problems = self.problems()
        if problems:
            raise BrokenKeys(MARK + said(problems))


def said(problems: list[str]) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"the dataset breaks its own keys, so nothing was published: {problems[0]}{more}"


def one_line(err: BaseException) -> str | None:
    """The one line a chunk's check raised, found in whatever Spark made of it (the worker's
    traceback inside a Java exception); None when ``err`` is not such a failure."""
    text = str(err)
    at = text.rfind(MARK)
    if at < 0:
        return None
    return text[at + len(MARK) :].splitlines()[0].strip()


def planned_rows(
    creator_ids: np.ndarray, tier_ids: np.ndarray, tier_creators: np.ndarray, anomaly_ids: list
) -> dict[str, int]:
    """The rows of the tables the driver makes from the plan (creators, tiers, the ground truth),
    their keys and the tiers' creators checked here; the staged tables must hold exactly these."""
    problems = []
    for table, key, ids in (
        ("creators", "creator_id", creator_ids),
        ("tiers", "tier_id", tier_ids),
        ("anomalies", "anomaly_id", np.asarray(anomaly_ids, dtype=np.int64)),
    ):
        distinct = len(np.unique(ids))
        if distinct != len(ids):
            problems.append(f"{table}.{key}: {len(ids):,} rows but {distinct:,} distinct values")
    orphans = int(np.count_nonzero(~np.isin(tier_creators, creator_ids)))
    if orphans:
        problems.append(
            f"tiers.creator_id: {orphans:,} of {len(tier_ids):,} rows name a creator_id that creators does "
            "not hold"
        )
    if problems:
        raise BrokenKeys(said(problems))
    return {"creators": len(creator_ids), "tiers": len(tier_ids), "anomalies": len(anomaly_ids)}


def check_chunks(chunks: Iterable[np.ndarray], creators: int) -> None:
    """Each of the ``creators`` in exactly one chunk (``chunks``: each chunk's creator ids)."""
    ids = np.concatenate([np.asarray(c, dtype=np.int64) for c in chunks] or [np.empty(0, np.int64)])
    distinct = len(np.unique(ids))
    if len(ids) != creators or distinct != creators:
        raise BrokenKeys(
            said(
                [f"the chunks hold {len(ids):,} creators ({distinct:,} distinct) of the plan's {creators:,}"]
            )
        )
