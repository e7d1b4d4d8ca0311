"""The pledge-month panel validate measures from: a row per pledge and window month it was running,
with its engagement the month before and whether it churns the month after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from synth_spark.validation.metrics import Dataset

T = dt.datetime


def test_each_pledge_month_knows_the_month_before_and_after(spark):
    pledges = spark.createDataFrame(
        [
            # January to April, cancelled in April
            (1, 10, 1, 100, Decimal("5.00"), T(2024, 1, 15), T(2024, 4, 10), None, "voluntary"),
            # started before the window, paused in February
            (2, 11, 1, 100, Decimal("5.00"), T(2023, 12, 1), None, T(2024, 2, 5), None),
        ],
        "pledge_id long, patron_id long, creator_id long, tier_id long, pledge_amount_usd decimal(10,2), "
        "started_at timestamp, ended_at timestamp, pause_started_at timestamp, churn_reason string",
    )
    events = spark.createDataFrame(
        [(10, 1, T(2024, 2, 3)), (10, 1, T(2024, 4, 2)), (10, 1, T(2024, 4, 3))],
        "patron_id long, creator_id long, event_at timestamp",
    )
    tables = {
        "pledges": pledges,
        "engagement_events": events,
        "tiers": spark.createDataFrame([(100, 1)], "tier_id long, tier_rank int"),
        "posts": spark.createDataFrame([(1, T(2024, 3, 1))], "creator_id long, published_at timestamp"),
    }
    ds = Dataset(spark, tables, dt.date(2024, 1, 1), 24)
    pledge = {0: 1, -1: 2}  # told apart by their first month (the panel keeps no ids it does not need)
    rows = {(pledge[r["start_m"]], r["m"]): r for r in ds.panel().collect()}

    assert sorted(rows) == [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)]
    assert [rows[1, m]["events"] for m in range(4)] == [0, 1, 0, 2]
    # -1: not running the month before (its first month, or the window's first month)
    assert [rows[1, m]["engaged_before"] for m in range(4)] == [-1, 0, 1, 0]
    assert [rows[2, m]["engaged_before"] for m in range(2)] == [-1, 0]
    # None: not running the month after (ended, or paused from then on)
    assert [rows[1, m]["churned_next"] for m in range(4)] == [0, 0, 1, None]
    assert [rows[2, m]["churned_next"] for m in range(2)] == [0, None]
    assert [rows[1, m]["churned"] for m in range(4)] == [0, 0, 0, 1]
    assert rows[1, 2]["posts"] == 1 and rows[1, 1]["posts"] == 0


def test_a_part_of_the_creators_measures_as_a_dataset_of_their_rows_alone(spark, small_dataset, small_config):
    from pyspark.sql import functions as F

    from synth_spark.runtime.tables import checksum

    whole = Dataset.load(spark, str(small_dataset), small_config.window.start, small_config.window.months)
    odd = F.col("creator_id") % 2 == 1
    part = whole.of_creators(odd)
    alone = Dataset(spark, dict(part.tables), whole.start, whole.months)  # built afresh from the part's rows
    assert 0 < part.panel().count() < whole.panel().count()
    assert checksum(part.panel()) == checksum(alone.panel())
    assert checksum(part.creator_months()) == checksum(alone.creator_months())
    assert part.monthly().equals(alone.monthly())
