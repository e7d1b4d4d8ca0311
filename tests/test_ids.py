"""Ids cannot collide: each counter has a fixed room in its id, the config cannot ask for more, and
the simulation refuses to write a counter that outgrew its room."""

from __future__ import annotations

import numpy as np
import pytest

from synth_spark.config import ConfigError, load_config
from synth_spark.simulation.engagement import MAX_EVENTS_PER_MONTH
from synth_spark.simulation.posts import BACK_CATALOGUE_MONTHS, MAX_POSTS_PER_MONTH
from synth_spark.vocabulary import (
    EVENT_ID,
    ID_LAYOUTS,
    MAX_RETRIES,
    MAX_WINDOW_MONTHS,
    POST_ID,
    TIER_ID,
    TRANSACTION_ID,
    IdOverflow,
    event_id,
    transaction_id,
)


def test_the_published_formulas_are_the_layouts():
    assert [layout.formula() for layout in ID_LAYOUTS] == [
        "creator_id * 10 + rank",
        "creator_id * 1,000,000 + number",
        "creator_id * 10,000 + number",
        "pledge_id * 1,000 + month * 8 + attempt",
        "pledge_id * 10,000 + month * 100 + number",
    ]
    assert event_id(7, 23, 98) == 70_000 + 2_300 + 98
    assert transaction_id(7, 23, 4) == 7_000 + 23 * 8 + 4


@pytest.mark.parametrize("layout", ID_LAYOUTS, ids=lambda layout: layout.column)
def test_a_counter_past_its_room_is_refused_not_written(layout):
    owner = np.array([5, 5])
    fields = [np.array([0, size - 1]) for _, size in layout.fields]
    ids = layout.compose(owner, *fields)
    assert ids[1] == 6 * layout.span - 1  # the last id of owner 5, just below owner 6's first
    for i, (name, size) in enumerate(layout.fields):
        over = [f if j != i else np.array([0, size]) for j, f in enumerate(fields)]
        with pytest.raises(IdOverflow, match=rf"^{layout.column}: {name} {size} is outside 0\.\.{size - 1}"):
            layout.compose(owner, *over)
        under = [f if j != i else np.array([0, -1]) for j, f in enumerate(fields)]
        with pytest.raises(IdOverflow):
            layout.compose(owner, *under)


def test_what_the_simulation_makes_fits_its_ids():
    assert MAX_EVENTS_PER_MONTH < EVENT_ID.size("number")
    assert (BACK_CATALOGUE_MONTHS + MAX_WINDOW_MONTHS) * MAX_POSTS_PER_MONTH < POST_ID.size("number")
    assert 4 < TIER_ID.size("rank")  # a creator has 2 to 4 tiers
    assert MAX_WINDOW_MONTHS <= min(EVENT_ID.size("month"), TRANSACTION_ID.size("month"))
    assert MAX_RETRIES + 1 == TRANSACTION_ID.size("attempt")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"window": {"months": MAX_WINDOW_MONTHS + 1}},
            r"^config: window\.months: at most 100 months \(event ids are pledge_id \* 10,000 \+ month \* 100 "
            r"\+ number, with room for months 0-99\) \(got 101\)$",
        ),
        (
            {"payments": {"retry_days": list(range(1, 9)), "retry_success": [0.1] * 8}},
            r"^config: payments: retry_days: at most 7 retries \(transaction ids are ",
        ),
    ],
    ids=["window-longer-than-the-event-ids-hold", "more-retries-than-the-transaction-ids-hold"],
)
def test_a_config_that_would_outgrow_an_id_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(**overrides)


def test_the_longest_window_and_the_most_retries_are_accepted():
    cfg = load_config(
        window={"months": MAX_WINDOW_MONTHS},
        payments={"retry_days": list(range(1, MAX_RETRIES + 1)), "retry_success": [0.1] * MAX_RETRIES},
    )
    assert cfg.window.months == 100 and len(cfg.payments.retry_days) == 7
