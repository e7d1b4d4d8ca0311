"""Every config the tool accepts gives tables that keep their own keys, references and times.

Hypothesis draws configs across the accepted ranges (the window's start and length up to its
longest, the smallest scales, each scenario on or off, the probabilities at their bounds, the most
retries) and runs the numpy kernels on them, no Spark: every primary key is unique, every foreign
key names a row that exists, and every time stamp falls inside the window and its row's life. A
config the tool refuses is a valid outcome (one line, before any work), never a crash. A failing
example shrinks to the few settings that break it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from synth_spark.config import ConfigError, load_config
from synth_spark.job.chunk_state import simulate_chunk
from synth_spark.job.emitters import events_batch, pledges_batch, posts_batch, transactions_batch
from synth_spark.simulation.plan import Plan, refuse_unplannable
from synth_spark.vocabulary import ANOMALY_TYPES, MAX_RETRIES, MAX_WINDOW_MONTHS

#: single probabilities of the config, each drawn at 0, its default or 1
PROBABILITIES = (
    ("creators", "nsfw_share"),
    ("creators", "anniversary_billing_share"),
    ("tiers", "change_per_month"),
    ("tiers", "upgrade_share"),
    ("tiers", "added_later_share"),
    ("tiers", "archive_share"),
    ("churn", "creator_removed_share"),
    ("churn", "pause_rate"),
    ("churn", "paused_churn"),
    ("churn", "return_share"),
    ("churn", "pause_resume_rate"),
    ("payments", "first_attempt_failure"),
    ("engagement", "old_post_share"),
    ("posts", "pinned_share"),
)
TENURE = ("month_1", "months_2_3", "months_4_12", "months_13_plus")
#: what the runs of this module did, for the summary line
TRIED: Counter = Counter()


def _set(tree: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


@st.composite
def configs(draw) -> dict:
    """Overrides of the default config: the keyword arguments of ``load_config``."""
    # the scenarios' dates are in 2023-2024: elsewhere in time a window runs without them
    anywhere = draw(st.booleans())
    start = (
        draw(st.dates(dt.date(1971, 1, 1), dt.date(2190, 12, 1))).replace(day=1)
        if anywhere
        else dt.date(2023, 1, 1)
    )
    out: dict = {
        "seed": draw(st.integers(0, 2**63 - 1)),
        "scale": draw(st.sampled_from([0.002, 0.005, 0.01, 0.02, 0.04])),
        "window": {"start": start, "months": draw(st.integers(1, MAX_WINDOW_MONTHS))},
    }
    for path in PROBABILITIES:
        bound = draw(st.sampled_from([None, 0.0, 1.0]))
        if bound is not None:
            _set(out, path, bound)
    if draw(st.booleans()):
        _set(out, ("churn", "by_tenure"), {k: draw(st.sampled_from([0.0, 0.03, 0.3, 1.0])) for k in TENURE})
    retries = draw(st.integers(1, MAX_RETRIES))
    days = sorted(draw(st.sets(st.integers(1, 28), min_size=retries, max_size=retries)))
    _set(out, ("payments", "retry_days"), days)
    _set(out, ("payments", "retry_success"), [draw(st.sampled_from([0.0, 0.3, 1.0])) for _ in days])
    _set(out, ("engagement", "by_tier"), {r: draw(st.sampled_from([0.0, 0.5, 1.0])) for r in (1, 2, 3, 4)})
    for name in ANOMALY_TYPES:
        _set(out, ("anomalies", name, "enabled"), not anywhere and draw(st.booleans()))
    return out


def _unique(table: pa.Table, key: str) -> np.ndarray:
    ids = table.column(key).to_numpy()
    assert np.unique(ids).size == ids.size, f"{key}: {ids.size - np.unique(ids).size} duplicates"
    return np.sort(ids)


def _refers(ids: np.ndarray, keys: np.ndarray, what: str) -> None:
    missing = np.setdiff1d(ids, keys)
    assert missing.size == 0, f"{what}: {missing.size} ids with no row, e.g. {missing[:3].tolist()}"


def _seconds(table: pa.Table, column: str) -> np.ndarray:
    """Epoch seconds of a timestamp column; nulls as -1."""
    col = table.column(column).cast(pa.int64()).fill_null(-1_000_000)
    return col.to_numpy() // 1_000_000


def _by_key(keys: np.ndarray, table: pa.Table, key: str, column: str) -> np.ndarray:
    """``column`` of the rows of ``table`` whose ``key`` is each of ``keys``."""
    own = table.column(key).to_numpy()
    order = np.argsort(own)
    values = (
        _seconds(table, column)
        if pa.types.is_timestamp(table.schema.field(column).type)
        else table.column(column).to_numpy()
    )
    return values[order][np.searchsorted(own[order], keys)]


def check_tables(plan: Plan) -> dict[str, int]:
    """Assert the rules on one plan's tables; their row counts."""
    job, cal = plan.constants, plan.cal
    sim = simulate_chunk(job, plan.simulation_columns())
    posts, pledges = posts_batch(job, sim), pledges_batch(job, sim)
    tx, ev = transactions_batch(job, sim), events_batch(job, sim)
    posts, pledges, tx, ev = (pa.Table.from_batches([b]) for b in (posts, pledges, tx, ev))
    start, end = cal.start, cal.end
    creator_ids = _unique(pa.table({"creator_id": plan.creators["creator_id"]}), "creator_id")
    tier_ids = _unique(pa.table({"tier_id": plan.tiers["tier_id"]}), "tier_id")
    pledge_ids, post_ids = _unique(pledges, "pledge_id"), _unique(posts, "post_id")
    _unique(tx, "transaction_id")
    _unique(ev, "event_id")

    _refers(pledges.column("creator_id").to_numpy(), creator_ids, "pledges.creator_id")
    _refers(pledges.column("tier_id").to_numpy(), tier_ids, "pledges.tier_id")
    _refers(posts.column("creator_id").to_numpy(), creator_ids, "posts.creator_id")
    _refers(posts.column("minimum_tier_id").drop_null().to_numpy(), tier_ids, "posts.minimum_tier_id")
    _refers(tx.column("pledge_id").to_numpy(), pledge_ids, "transactions.pledge_id")
    _refers(ev.column("post_id").to_numpy(), post_ids, "engagement_events.post_id")

    # a pledge starts after its creator's page opened (those running when the window opens, before
    # it) and ends by the window's end
    started, ended = _seconds(pledges, "started_at"), _seconds(pledges, "ended_at")
    assert np.all(started < end), "a pledge starts after the window"
    ended_ok = (ended == -1) | ((started <= ended) & (ended <= end))
    assert np.all(ended_ok), "a pledge ends before it starts or after the window"
    created = dict(zip(plan.creators["creator_id"].tolist(), plan.creators["created_t"].tolist()))
    opened = np.array([created[c] for c in pledges.column("creator_id").to_pylist()], dtype=np.int64)
    assert np.all(opened <= started), "a pledge starts before its creator's page opened"

    # a charge falls in the window, within its pledge's life, and names the pledge's people
    t = _seconds(tx, "transaction_at")
    p_of = tx.column("pledge_id").to_numpy()
    assert np.all((start <= t) & (t < end)), "a transaction outside the window"
    assert np.all(_by_key(p_of, pledges, "pledge_id", "started_at") <= t), "a charge before its pledge"
    p_end = _by_key(p_of, pledges, "pledge_id", "ended_at")
    assert np.all((p_end == -1) | (t <= p_end)), "a charge after its pledge ended"
    for column in ("patron_id", "creator_id"):
        assert np.array_equal(_by_key(p_of, pledges, "pledge_id", column), tx.column(column).to_numpy()), (
            column
        )

    # posts come out while their creator's page is open; events follow the post, inside the window
    published = _seconds(posts, "published_at")
    assert np.all(published < end), "a post after the window"
    e_t = _seconds(ev, "event_at")
    assert np.all((start <= e_t) & (e_t < end)), "an event outside the window"
    e_post = ev.column("post_id").to_numpy()
    assert np.all(_by_key(e_post, posts, "post_id", "published_at") <= e_t), "an event before its post"
    assert np.array_equal(_by_key(e_post, posts, "post_id", "creator_id"), ev.column("creator_id").to_numpy())
    return {"pledges": pledges.num_rows, "transactions": tx.num_rows, "events": ev.num_rows}


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_every_accepted_config_keeps_keys_references_and_times(overrides):
    try:
        cfg = load_config(**overrides)
        refuse_unplannable(cfg)
    except ConfigError as err:
        assert "\n" not in str(err)  # refused in one line, before any work: allowed
        TRIED["refused"] += 1
        event("refused")
        return
    rows = check_tables(Plan.make(cfg))
    TRIED["ran"] += 1
    TRIED["rows"] += sum(rows.values())
    event("ran, with rows" if rows["transactions"] else "ran, nothing billed")


def test_the_config_space_was_explored():
    """Most drawn configs must run: a space refused whole would prove nothing."""
    if not TRIED:
        pytest.skip("the property test did not run in this process")
    print(
        f"\nconfig space: {TRIED['ran']} configs ran the kernels ({TRIED['rows']:,} rows checked), "
        f"{TRIED['refused']} refused"
    )
    assert TRIED["ran"] >= 2 * TRIED["refused"] and TRIED["rows"] > 0
