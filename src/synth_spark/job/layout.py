"""How the rows of the large tables are spread over files.

``tasks`` (the default): a file per generation task, each holding its creators' rows over the whole
window, so a query on a day range reads every file. ``time``: the rows are range-partitioned on
the table's event time (``vocabulary.EVENT_TIME``) into as many files as tasks, and at least one
per month of the window, each covering a stretch of time that no other file covers; the min/max
statistics of Parquet and of the Delta log then let a query on a day range skip the files outside
it. No column is added to the schemas, and the rows (so the checksums) are the same in both layouts.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from synth_spark.manifest import LAYOUTS  # noqa: F401  (the layouts arranged() knows)
from synth_spark.vocabulary import EVENT_TIME


def arranged(df: DataFrame, table: str, partitions: int, layout: str, months: int) -> DataFrame:
    """``df`` spread over files as ``layout`` asks (tables without an event time as they are)."""
    column = EVENT_TIME.get(table)
    if layout != "time" or column is None:
        return df
    return df.repartitionByRange(max(partitions, months), column)
