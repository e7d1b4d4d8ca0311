"""The session settings the written values depend on: fixed for every run, whatever a user asks
for with --spark-conf, so that the same seed writes the same bytes on any session."""

from __future__ import annotations

#: the session settings the written values depend on, fixed for every run (runtime/session.py applies them
#: last, over a user's): a
#: dataset's timestamps are UTC instants in microseconds whatever a session would make of them
DATA_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_LTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
}
