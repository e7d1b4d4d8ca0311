"""The growth of a size tier's running pledges, chained month by month: with nothing left out it is
the tier's last month over its first, and a creator-month a scenario instance touches is left out
of the months it links."""

from __future__ import annotations

import pytest

from synth_spark.validation.size_tiers import chained_growth


def _frames(spark, rows, founders):
    cma = spark.createDataFrame(rows, "creator_id long, m int, active long")
    return cma, spark.createDataFrame(founders, "creator_id long, size string")


def test_with_nothing_touched_the_chain_is_last_over_first(spark):
    # creator 1 doubles over 4 months, creator 2 stays flat, creator 3 has no pledges in month 2
    rows = [(1, m, 10 * 2 ** (m / 4)) for m in range(5)] + [(2, m, 10) for m in range(5)]
    rows += [(3, 0, 4), (3, 1, 2), (3, 3, 3), (3, 4, 6)]
    cma, founders = _frames(
        spark, [(c, m, int(round(a))) for c, m, a in rows], [(1, "a"), (2, "a"), (3, "a")]
    )
    first = sum(int(round(a)) for c, m, a in rows if m == 0)
    last = sum(int(round(a)) for c, m, a in rows if m == 4)
    assert chained_growth(cma, founders, None, 4)["a"] == pytest.approx((last / first) ** (1 / 4) - 1)


def test_a_touched_creator_month_is_left_out_of_the_months_it_links(spark):
    # creator 2 grows 10% a month; creator 1 too, but loses half its pledges in month 2 (an instance)
    rows = [(2, m, round(100 * 1.1**m)) for m in range(5)]
    rows += [(1, m, round(100 * 1.1**m * (0.5 if m >= 2 else 1))) for m in range(5)]
    cma, founders = _frames(spark, rows, [(1, "a"), (2, "a")])
    touched = spark.createDataFrame([(1, 2)], "creator_id long, m int")
    plain = chained_growth(cma, founders, None, 4)["a"]
    left_out = chained_growth(cma, founders, touched, 4)["a"]
    assert plain < 0.05  # the halving pulls the plain chain far below 10%
    assert left_out == pytest.approx(0.1, abs=0.01)
