"""Nothing in the rows gives the data away: no clock time is stamped on many rows, in the anomaly
run or in its control. A time of the hour (a second of it, or a minute) holding a few times its
expected share of a column's rows would let a GROUP BY find what the analysis should."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from synth_spark.vocabulary import TABLES, column_types

#: the clock's divisions a stamped time shows in: a second of the hour, a minute of the hour
DIVISIONS = {"second of the hour": (3600, 1), "minute of the hour": (60, 60)}


def stamped_times(seconds: np.ndarray) -> list[str]:
    """The divisions of the clock whose busiest value holds over three times its expected share of
    the rows, and by more than six standard deviations of chance (the hours' own rhythm does not
    reach inside an hour; a division with under one row expected per value is not judged)."""
    found = []
    for name, (values, width) in DIVISIONS.items():
        expected = seconds.size / values
        if expected < 1:
            continue
        counts = np.bincount((seconds % (values * width)) // width, minlength=values)
        worst = int(counts.argmax())
        if counts[worst] > 3 * expected and counts[worst] > expected + 6 * math.sqrt(expected):
            found.append(f"{name} {worst}: {counts[worst]} rows, {expected:.1f} expected")
    return found


def _timestamp_seconds(folder) -> dict[str, np.ndarray]:
    con = duckdb.connect()
    out = {}
    for table in TABLES:
        for column, kind in column_types(table).items():
            if kind == "timestamp":
                out[f"{table}.{column}"] = con.execute(
                    f"select epoch({column})::bigint as s from read_parquet('{folder}/parquet/{table}/*.parquet') "
                    f"where {column} is not null"
                ).fetchnumpy()["s"]
    return out


def test_a_stamped_time_is_found_when_there_is_one():
    rng = np.random.default_rng(0)
    ordinary = rng.integers(0, 730 * 86_400, 20_000)
    assert stamped_times(ordinary) == []
    # a page closed at 12:01:00 on a few days: fifty rows on one second of the hour
    stamped = np.concatenate([ordinary, 12 * 3600 + 60 + 86_400 * rng.integers(0, 730, 50)])
    found = stamped_times(stamped)
    assert len(found) == 1 and found[0].startswith("second of the hour 60:"), found


@pytest.mark.parametrize("run", ["small_dataset", "small_control"])
def test_no_clock_time_is_stamped_on_many_rows(run, request):
    folder = request.getfixturevalue(run)
    stamped = {
        column: found
        for column, seconds in _timestamp_seconds(folder).items()
        if (found := stamped_times(seconds))
    }
    assert not stamped, stamped
