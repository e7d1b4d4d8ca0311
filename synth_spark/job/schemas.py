"""The published tables as Spark sees them: a schema per table, from the vocabulary's DDL."""

from __future__ import annotations

from pyspark.sql.types import StructType

from synth_spark.vocabulary import ddl


def schema(table: str) -> StructType:
    return StructType.fromDDL(ddl(table))
