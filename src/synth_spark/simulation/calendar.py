"""The fixed clock: month boundaries of the window as UTC epoch seconds.

Month index 0 is the window's first month; negative indices are months before the window (where
pledges already running at the start began). "Now" is the window's end, never the machine's clock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from synth_spark.config import Window
from synth_spark.vocabulary import DAY


def _epoch(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())


class Calendar:
    """Month arithmetic over the window, vectorised."""

    #: how far before the window a pledge or creator may start, in months
    HISTORY = 120

    def __init__(self, window: Window):
        self.months = window.months
        first = np.datetime64(window.start.strftime("%Y-%m"), "M")
        span = np.arange(-self.HISTORY, self.months + 1)
        starts = (first + span).astype("datetime64[s]").astype(np.int64)
        self._starts = starts  # starts[i] is the start of month index (i - HISTORY)
        self._first = first
        self._absolute = (first + span).astype(np.int64) + 1970 * 12  # months since year 0
        self._month_of_year = (self._absolute % 12) + 1
        self.start = _epoch(window.start)
        self.end = _epoch(window.end)  # exclusive

    def month_start(self, m: np.ndarray | int) -> np.ndarray:
        return self._starts[np.asarray(m) + self.HISTORY]

    def month_end(self, m: np.ndarray | int) -> np.ndarray:
        return self._starts[np.asarray(m) + self.HISTORY + 1]

    def month_of_year(self, m: np.ndarray | int) -> np.ndarray:
        """1 = January ... 12 = December."""
        return self._month_of_year[np.asarray(m) + self.HISTORY]

    def absolute_month(self, m: np.ndarray | int) -> np.ndarray:
        """Months since January of year 0, for yearly and multi-year cycles."""
        return self._absolute[np.asarray(m) + self.HISTORY]

    def month_index(self, t: np.ndarray) -> np.ndarray:
        """Month index containing epoch second ``t``."""
        return np.searchsorted(self._starts, np.asarray(t), side="right") - 1 - self.HISTORY

    def days_in_month(self, m: np.ndarray | int) -> np.ndarray:
        return (self.month_end(m) - self.month_start(m)) // DAY

    def anniversary(self, m: int, day: np.ndarray, time_of_day: np.ndarray) -> np.ndarray:
        """A monthly anniversary in month ``m`` (any month, the window's next one too): the same
        day of the month (0-based) and time of day, on the month's last day where it is shorter
        (a pledge started on 31 January renews on 28 February, then on 31 March)."""
        start, end = (self._first + np.array([m, m + 1])).astype("datetime64[s]").astype(np.int64)
        return start + np.minimum(day, (end - start) // DAY - 1) * DAY + time_of_day
