"""The published tables as Spark sees them: a schema per table from the vocabulary's DDL, how a
published table is read back in any of its formats, and the checksum that says two tables hold the
same rows."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from synth_spark.manifest import Format
from synth_spark.vocabulary import ddl


def schema(table: str) -> StructType:
    return StructType.fromDDL(ddl(table))


#: how timestamps are written to, and read back from, CSV
CSV_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
#: the zone of those timestamps: UTC, as the 'Z' says, whatever the session's time zone
CSV_TIME_ZONE = "UTC"


def read_table(spark: SparkSession, fmt: str, path, table: str, version: int | None = None) -> DataFrame:
    """A published table as Spark reads it: CSV with the documented schema, as the data dictionary
    documents it; a Delta table at ``version`` when given (time travel), else its latest."""
    if fmt == Format.PARQUET:
        return spark.read.parquet(str(path))
    if fmt == Format.DELTA:
        reader = spark.read.format("delta")
        return (reader if version is None else reader.option("versionAsOf", version)).load(str(path))
    return spark.read.option("timeZone", CSV_TIME_ZONE).csv(
        str(path), header=True, schema=schema(table), timestampFormat=CSV_TIMESTAMP_FORMAT, mode="FAILFAST"
    )


def checksum_aggregates(df: DataFrame) -> list:
    # The sum of 64-bit hashes, taken as two sums of 32-bit halves: long sums that cannot overflow
    # below 2**31 rows, and far cheaper than summing as decimals.
    h = F.xxhash64(*df.columns)
    return [
        F.count(F.lit(1)).alias("n"),
        F.sum(h.bitwiseAND(0xFFFFFFFF)).alias("lo"),
        F.sum(F.shiftright(h, 32)).alias("hi"),
    ]


def checksum_of(row) -> tuple[int, str]:
    total = ((int(row["hi"] or 0) << 32) + int(row["lo"] or 0)) % (1 << 64)
    return int(row["n"]), f"{total:016x}"


def checksum(df: DataFrame) -> tuple[int, str]:
    """Row count and an order-independent content checksum: the sum of every row's xxhash64,
    modulo 2**64, so two datasets compare equal whatever their partitioning or file order."""
    return checksum_of(df.agg(*checksum_aggregates(df)).first())


def checksums_by(df: DataFrame, column: str) -> dict:
    """:func:`checksum` of each group of rows sharing ``column``'s value (the column itself left out)."""
    body = df.drop(column)
    return {r[column]: checksum_of(r) for r in df.groupBy(column).agg(*checksum_aggregates(body)).collect()}
