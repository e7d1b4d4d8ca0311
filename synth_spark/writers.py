"""Writing a dataset: Parquet first into a staging folder, every other format from that Parquet
(so the simulation runs once per table), checksums from what was written, then publication by
renaming into place with ``_manifest.json`` last: a reader that sees a manifest sees a whole dataset.

A staging folder records its owner (host, pid, process start); a later run removes the staging
folders whose owner is no longer running (a killed run), never those of a run still going.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from .storage import HadoopPath, remove_tree, write_synced

FORMATS = ("parquet", "delta", "csv")
MANIFEST = "_manifest.json"
STAGING_PREFIX = ".staging-"
#: the owner record of a staging folder
OWNER_FILE = "_owner.json"
#: a staging folder without an owner record (left by an older synth-spark) is stale after this long
UNOWNED_STALE_SECONDS = 600
#: where an overwritten dataset is moved inside the staging folder until the new one is in place
REPLACED = "_replaced"
#: how timestamps are written to, and read back from, CSV
CSV_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
#: tables up to this many rows are published as one CSV file with a header
CSV_SINGLE_FILE_MAX_ROWS = 2_000_000


def _checksum_aggregates(df: DataFrame) -> list:
    # The sum of 64-bit hashes, taken as two sums of 32-bit halves: long sums that cannot overflow
    # below 2**31 rows, and far cheaper than summing as decimals.
    h = F.xxhash64(*df.columns)
    return [F.count(F.lit(1)).alias("n"), F.sum(h.bitwiseAND(0xFFFFFFFF)).alias("lo"),
            F.sum(F.shiftright(h, 32)).alias("hi")]


def _checksum_of(row) -> tuple[int, str]:
    total = ((int(row["hi"] or 0) << 32) + int(row["lo"] or 0)) % (1 << 64)
    return int(row["n"]), f"{total:016x}"


def checksum(df: DataFrame) -> tuple[int, str]:
    """Row count and an order-independent content checksum: the sum of every row's xxhash64,
    modulo 2**64, so two datasets compare equal whatever their partitioning or file order."""
    return _checksum_of(df.agg(*_checksum_aggregates(df)).first())


def _process_start(pid: int) -> str | None:
    """When a process started (Linux: clock ticks since boot), to tell it from a later one with
    the same pid; None where /proc is not available. "Z" for a zombie: it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return "Z" if fields[0] in ("Z", "X") else fields[19]


def _owner() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "start": _process_start(os.getpid())}


def _owner_running(owner: dict) -> bool:
    if owner.get("host") != socket.gethostname():
        return True  # another machine's run (a shared folder): cannot tell, so leave it alone
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = _process_start(pid)
    return start != "Z" and (start is None or owner.get("start") in (None, start))


def stale_staging(out: Path | HadoopPath) -> list[Path | HadoopPath]:
    """Staging folders in ``out`` left by runs that are no longer running. One without a readable
    owner record (an older synth-spark's, or one being created right now) counts as stale only
    once it is older than UNOWNED_STALE_SECONDS."""
    stale = []
    for folder in sorted(out.glob(f"{STAGING_PREFIX}*")):
        if not folder.is_dir():
            continue
        try:
            owner = json.loads((folder / OWNER_FILE).read_text())
            if not isinstance(owner, dict):
                raise ValueError(owner)
        except (OSError, ValueError):
            try:
                if time.time() - folder.stat().st_mtime > UNOWNED_STALE_SECONDS:
                    stale.append(folder)
            except OSError:
                pass
            continue
        if not _owner_running(owner):
            stale.append(folder)
    return stale


class Staging:
    """A private folder under the output folder; published table by table only when complete."""

    def __init__(self, out: Path | HadoopPath):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        #: staging folders of killed runs, removed before this run starts writing
        self.removed_stale = stale_staging(out)
        for folder in self.removed_stale:
            remove_tree(folder, ignore_errors=True)
        self.root = out / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        self.root.mkdir()
        (self.root / OWNER_FILE).write_text(json.dumps(_owner()) + "\n", encoding="utf-8")
        #: rows and checksum of each table written to Parquet
        self.checksums: dict[str, tuple[int, str]] = {}

    def path(self, fmt: str, table: str) -> Path:
        return self.root / fmt / table

    def write_parquet(self, df: DataFrame, table: str) -> Path:
        """Write ``table``; its :func:`checksum` is taken from the rows on their way to the files
        (an observation, so no second read) and kept in ``self.checksums``."""
        path = self.path("parquet", table)
        seen = Observation(f"checksum_{table}")
        df.observe(seen, *_checksum_aggregates(df)).write.mode("overwrite").parquet(str(path))
        self.checksums[table] = _checksum_of(seen.get)
        return path

    def write_delta(self, df: DataFrame, table: str) -> Path:
        path = self.path("delta", table)
        df.write.format("delta").mode("overwrite").save(str(path))
        return path

    def write_csv(self, df: DataFrame, table: str, rows: int) -> Path:
        folder = self.path("csv", table)
        writer_df = df.coalesce(1) if rows <= CSV_SINGLE_FILE_MAX_ROWS else df
        (writer_df.write.mode("overwrite").option("header", True)
            .option("timestampFormat", CSV_TIMESTAMP_FORMAT).csv(str(folder)))
        if rows > CSV_SINGLE_FILE_MAX_ROWS:
            return folder
        (part,) = folder.glob("part-*.csv")
        single = folder.parent / f"{table}.csv"
        part.replace(single)
        remove_tree(folder)
        return single

    def publish(self, formats: list[str], manifest_text: str) -> None:
        """Move the staged formats into place, then write the manifest. A dataset already in the
        folder is replaced only here, by renames: its manifest goes first (no reader ever sees an
        old manifest over new data), then every format folder it has is moved aside into this
        staging folder, the new ones are moved in, the new manifest is written, and only then is
        the old dataset deleted. If a step fails, the old dataset is put back."""
        old = self.root / REPLACED
        old.mkdir()
        moved_aside: list[str] = []
        moved_in: list[str] = []
        try:
            for name in (MANIFEST, *FORMATS):  # every format: none of an old dataset's may linger
                if (self.out / name).exists():
                    (self.out / name).replace(old / name)
                    moved_aside.append(name)
            for fmt in formats:
                (self.root / fmt).replace(self.out / fmt)
                moved_in.append(fmt)
            staged = self.root / MANIFEST
            write_synced(staged, manifest_text)
            staged.replace(self.out / MANIFEST)
        except BaseException:
            for fmt in reversed(moved_in):
                (self.out / fmt).replace(self.root / fmt)
            for name in reversed(moved_aside):
                (old / name).replace(self.out / name)
            raise
        self.discard()

    def discard(self) -> None:
        remove_tree(self.root, ignore_errors=True)


def read_parquet(spark: SparkSession, path: Path | HadoopPath) -> DataFrame:
    return spark.read.parquet(str(path))
