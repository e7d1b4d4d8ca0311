"""Writing a dataset: Parquet first into a staging folder, every other format from that Parquet
(so the simulation runs once per table), checksums from what was written, then publication as a
journaled transaction (journal.py) with ``_manifest.json`` last: a reader that sees a manifest sees
a whole dataset.

A staging folder records its owner (host, pid, process start) and its own name; a later run holding
the dataset's lock removes the staging folders whose owner is no longer running (a killed run),
never those of a run still going, nor any folder without such a record.
"""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, Observation, SparkSession

from synth_spark.manifest import Format
from synth_spark.publish import journal
from synth_spark.publish.dataset_folder import make_staging
from synth_spark.publish.storage import HadoopPath, remove_tree
from synth_spark.runtime.tables import CSV_TIME_ZONE, CSV_TIMESTAMP_FORMAT, checksum_aggregates, checksum_of

#: tables up to this many rows are published as one CSV file with a header
CSV_SINGLE_FILE_MAX_ROWS = 2_000_000


class Staging:
    """A private folder under the output folder; published table by table only when complete."""

    def __init__(self, out: Path | HadoopPath):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.root = make_staging(out)
        #: rows and checksum of each table written to Parquet
        self.checksums: dict[str, tuple[int, str]] = {}

    def counts(self, tables) -> tuple[dict[str, int], dict[str, str]]:
        """The rows and the checksum of each of ``tables`` (written to Parquet), in that order."""
        return {t: self.checksums[t][0] for t in tables}, {t: self.checksums[t][1] for t in tables}

    def path(self, fmt: str, table: str) -> Path:
        return self.root / fmt / table

    def write_parquet(self, df: DataFrame, table: str, fmt: str = "parquet") -> Path:
        """Write ``table`` to the ``fmt`` folder; for "parquet" (what is published) its :func:`checksum`
        is taken from the rows on their way to the files (an observation, so no second read) and kept
        in ``self.checksums``."""
        path = self.path(fmt, table)
        if fmt != Format.PARQUET:
            df.write.mode("overwrite").parquet(str(path))
            return path
        seen = Observation(f"checksum_{table}")
        df.observe(seen, *checksum_aggregates(df)).write.mode("overwrite").parquet(str(path))
        self.checksums[table] = checksum_of(seen.get)
        return path

    def write_delta(self, df: DataFrame, table: str) -> Path:
        path = self.path("delta", table)
        df.write.format("delta").mode("overwrite").save(str(path))
        return path

    def write_csv(self, df: DataFrame, table: str, rows: int) -> Path:
        folder = self.path("csv", table)
        writer_df = df.coalesce(1) if rows <= CSV_SINGLE_FILE_MAX_ROWS else df
        (
            writer_df.write.mode("overwrite")
            .option("header", True)
            .option("timestampFormat", CSV_TIMESTAMP_FORMAT)
            .option("timeZone", CSV_TIME_ZONE)
            .csv(str(folder))
        )
        if rows > CSV_SINGLE_FILE_MAX_ROWS:
            return folder
        (part,) = folder.glob("part-*.csv")
        single = folder.parent / f"{table}.csv"
        part.replace(single)
        remove_tree(folder)
        return single

    def publish(self, entries: list[str], manifest_text: str) -> None:
        """Put the staged ``entries`` (``parquet/pledges``, ``csv/tiers.csv``, ...) in place of
        whatever dataset the folder holds, manifest last (journal.publish), then remove the staging."""
        journal.publish(self.out, self.root, entries, manifest_text)
        self.discard()

    def discard(self) -> None:
        """Remove the staging folder, unless an unfinished publish journal still needs it."""
        if not journal.pending_for(self.out, self.root):
            remove_tree(self.root, ignore_errors=True)


def read_parquet(spark: SparkSession, path: Path | HadoopPath) -> DataFrame:
    return spark.read.parquet(str(path))
