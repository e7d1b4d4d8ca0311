"""Writing a dataset: Parquet first into a staging folder, every other format from that Parquet
(so the simulation runs once per table), checksums from what was written, then publication by
renaming into place with ``_manifest.json`` last: a reader that sees a manifest sees a whole dataset.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

FORMATS = ("parquet", "delta", "csv")
MANIFEST = "_manifest.json"
STAGING_PREFIX = ".staging-"
#: tables up to this many rows are published as one CSV file with a header
CSV_SINGLE_FILE_MAX_ROWS = 2_000_000


def checksum(df: DataFrame) -> tuple[int, str]:
    """Row count and an order-independent content checksum: the sum of every row's xxhash64,
    modulo 2**64, so two datasets compare equal whatever their partitioning or file order."""
    row = df.agg(F.count(F.lit(1)).alias("n"),
                 F.sum(F.xxhash64(*df.columns).cast("decimal(38,0)")).alias("s")).first()
    total = int(row["s"] or 0) % (1 << 64)
    return int(row["n"]), f"{total:016x}"


class Staging:
    """A private folder under the output folder; published table by table only when complete."""

    def __init__(self, out: Path):
        self.out = out
        self.root = out / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        self.root.mkdir(parents=True)

    def path(self, fmt: str, table: str) -> Path:
        return self.root / fmt / table

    def write_parquet(self, df: DataFrame, table: str) -> Path:
        path = self.path("parquet", table)
        df.write.mode("overwrite").parquet(str(path))
        return path

    def write_delta(self, df: DataFrame, table: str) -> Path:
        path = self.path("delta", table)
        df.write.format("delta").mode("overwrite").save(str(path))
        return path

    def write_csv(self, df: DataFrame, table: str, rows: int) -> Path:
        folder = self.path("csv", table)
        writer_df = df.coalesce(1) if rows <= CSV_SINGLE_FILE_MAX_ROWS else df
        (writer_df.write.mode("overwrite").option("header", True)
            .option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ss'Z'").csv(str(folder)))
        if rows > CSV_SINGLE_FILE_MAX_ROWS:
            return folder
        (part,) = folder.glob("part-*.csv")
        single = folder.parent / f"{table}.csv"
        part.replace(single)
        shutil.rmtree(folder)
        return single

    def publish(self, formats: list[str], manifest_text: str) -> None:
        for fmt in formats:
            src, dst = self.root / fmt, self.out / fmt
            if dst.exists():
                shutil.rmtree(dst)
            src.replace(dst)
        tmp = self.out / f"{MANIFEST}.tmp"
        tmp.write_text(manifest_text, encoding="utf-8")
        tmp.replace(self.out / MANIFEST)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def read_parquet(spark: SparkSession, path: Path) -> DataFrame:
    return spark.read.parquet(str(path))
