"""The published tables as Spark sees them: a schema per table from the vocabulary's DDL, and
how a published table is read back in any of its formats."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from synth_spark.vocabulary import ddl


def schema(table: str) -> StructType:
    return StructType.fromDDL(ddl(table))


#: how timestamps are written to, and read back from, CSV
CSV_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
#: the zone of those timestamps: UTC, as the 'Z' says, whatever the session's time zone
CSV_TIME_ZONE = "UTC"


def read_table(spark: SparkSession, fmt: str, path, table: str, version: int | None = None) -> DataFrame:
    """A published table as Spark reads it: CSV with the documented schema, as the data dictionary documents it;
    a Delta table at ``version`` when given (time travel), else its latest."""
    if fmt == "parquet":
        return spark.read.parquet(str(path))
    if fmt == "delta":
        reader = spark.read.format("delta")
        return (reader if version is None else reader.option("versionAsOf", version)).load(str(path))
    return spark.read.option("timeZone", CSV_TIME_ZONE).csv(str(path), header=True, schema=schema(table),
                                                           timestampFormat=CSV_TIMESTAMP_FORMAT, mode="FAILFAST")


