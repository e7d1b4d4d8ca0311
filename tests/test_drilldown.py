"""The per-creator drill-downs are computed in Spark and only their top rows reach the driver: they
must rank as the plain pandas definition does, and measure what their docstrings say."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from synth_spark.validation.aggregates import Aggregates
from synth_spark.validation.drilldown import rank, rank_in_spark
from synth_spark.validation.metrics import Dataset


@pytest.mark.parametrize("direction", [+1, -1])
def test_ranking_in_spark_agrees_with_the_pandas_ranking(spark, direction):
    rng = np.random.default_rng(7)
    values = rng.normal(0, 100, 200).round(3)
    values[[3, 50]] = np.nan  # a creator with nothing to compare against
    series = pd.Series(values, index=np.arange(1, 201))
    frame = spark.createDataFrame(
        [(int(k), None if np.isnan(v) else float(v)) for k, v in series.items()],
        "creator_id long, delta double",
    )
    expected, got = rank(series, direction, n=5), rank_in_spark(frame, "creator_id", "delta", direction, n=5)
    assert [c.value for c in got] == [c.value for c in expected]
    assert [c.contribution for c in got] == pytest.approx([c.contribution for c in expected])
    assert [c.share for c in got] == pytest.approx([c.share for c in expected])


def _creator_months(spark, rows):
    frame = pd.DataFrame(rows, columns=["creator_id", "m", "mrr", "new_pledges", "active", "category"])
    frame["mrr"] = frame["mrr"].map(lambda v: Decimal(str(v)))
    ds = Dataset(spark, {}, dt.date(2024, 1, 1), 6)
    ds._creator_months = spark.createDataFrame(
        frame, "creator_id long, m int, mrr decimal(20,2), new_pledges long, active long, category string"
    )
    return Aggregates(ds)


def test_a_creators_mrr_change_is_measured_against_its_usual_monthly_change(spark):
    agg = _creator_months(
        spark,
        [
            # steady growth of 10 a month, then a jump of 60 in month 4: 50 more than usual
            *[(1, m, 10 * (m + 1), 1, 3, "video") for m in range(4)],
            (1, 4, 100, 5, 8, "video"),
            # no running pledges in month 2: that month counts zero MRR
            (2, 0, 30, 1, 2, "music"),
            (2, 1, 30, 0, 2, "music"),
            (2, 3, 30, 0, 2, "music"),
            (2, 4, 30, 0, 2, "music"),
            # on the platform only from month 4: all of it is new
            (3, 4, 12.5, 2, 2, "games"),
        ],
    )
    delta = {r["creator_id"]: r["delta"] for r in agg.creator_delta(4).collect()}
    assert delta[1] == pytest.approx(60 - 10)
    assert delta[2] == pytest.approx((30 - 30) - (30 - 30) / 3)
    assert delta[3] == pytest.approx(12.5)
    # over months 4..5, twice the usual change is expected
    assert {r["creator_id"]: r["delta"] for r in agg.creator_delta(4, last=5).collect()}[1] == pytest.approx(
        (0 - 40) - 2 * 10
    )
    new = {r["creator_id"]: r["change"] for r in agg.new_pledges_change(4).collect()}
    assert new == {1: pytest.approx(5 - 1), 2: pytest.approx(0 - 0), 3: 0.0}  # creator 3 has no months before
    assert agg.platform()["mrr"].tolist() == pytest.approx([40, 50, 30, 70, 142.5, 0])
