"""A dataset opened for reading, the one way every reading command (verify, validate, check) opens
one: a folder settled first (a publish a killed run left, finished or undone), its manifest read
and checked before any table is; or a database of the catalog, a replace a killed run left undone
first. The handle says which publish was opened and, once everything is read, whether it still is
(``publish/readers.py`` says why a reader needs that)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from synth_spark.manifest import Format
from synth_spark.manifest import check as check_manifest
from synth_spark.publish.claim import settle
from synth_spark.publish.database import Database
from synth_spark.publish.readers import Reading, being_written


def say(message: str) -> None:
    print(f"synth-spark: {message}", file=sys.stderr, flush=True)


@dataclass
class Opened:
    """One publish of a dataset: its ``manifest``, the ``formats`` it holds, and where it is (a
    folder's ``reading``, or a catalog's ``db``)."""

    manifest: dict
    formats: list[str]
    reading: Reading | None = None
    db: Database | None = None

    @property
    def name(self) -> str:
        """How the dataset is named in a line: the folder, or the database."""
        return str(self.reading.dataset) if self.reading is not None else self.db.name

    @property
    def versions(self) -> dict[str, int]:
        """The Delta version of each table that belongs to this publish."""
        return self.reading.versions if self.reading is not None else self.db.reading_versions(self.manifest)

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Around the reads: a failure caused by the dataset changing under them is one line."""
        if self.reading is None:
            yield
            return
        with self.reading.guarded():
            yield

    def still(self) -> None:
        """Raise the one line when the dataset is no longer the publish that was opened."""
        if self.reading is not None:
            self.reading.still()
        elif self.db.manifest().get("run_id") != self.manifest.get("run_id"):  # replaced while it was read
            raise being_written("--database", self.db.name)


def open_folder(folder, name: str = "DATASET") -> Opened:
    """A folder dataset (a ``Path``, or a ``HadoopPath`` once a session reaches its store), settled,
    its manifest read and checked; refused in one line if it is none, or is being written."""
    reading = Reading(folder, name)
    manifest = reading.open(settle)
    formats, _ = check_manifest(manifest, name)
    return Opened(manifest, formats, reading=reading)


def open_database(spark, name: str, tell: Callable[[str], None] = say) -> Opened:
    """The dataset in the database ``name`` of ``spark``'s catalog, a replace a killed run left
    undone (or finished) first, said through ``tell``."""
    db = Database(spark, name)
    db.recover(tell)
    return Opened(db.manifest(), [Format.DELTA], db=db)


def open_dataset(
    folder: Path | None = None,
    database: str | None = None,
    spark=None,
    name: str = "DATASET",
    tell: Callable[[str], None] = say,
) -> Opened:
    """``folder`` or ``database`` (exactly one; a database needs the session ``spark``)."""
    if (folder is None) == (database is None):
        raise ValueError("open_dataset: give a folder or a database, one of the two")
    if database is not None:
        return open_database(spark, database, tell)
    return open_folder(folder, name)
