"""Reading a dataset that another run may be writing: one publish's manifest and data, or one line
saying the dataset is being written.

A reader (verify, validate, check) takes no lock: it may not be allowed to write the folder, and a
writer must never wait for it. Instead it notes what it opened before reading (the manifest's bytes,
whether a publish journal is there) and looks again once it has read everything. A publish that began
or ended meanwhile changes one of them; the reader then says so in one line (exit 2, like a writer
that finds the folder taken) instead of judging files that moved under it, and a read that failed
because they moved is said the same way, never as an internal error.

``advance`` rewrites Delta tables in place and the manifest only at its end, so a reader reads each
Delta table at one version: the one the advance started from while an advance is under way (its
note names them: they are what the manifest describes), else the latest when it opened the dataset.
Delta keeps every version, so what an advance merges meanwhile is never seen.

Nothing here needs Spark; paths are ``pathlib.Path`` or ``storage.HadoopPath``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from synth_spark import manifest as manifests
from synth_spark.failures import ConfigError
from synth_spark.manifest import Format
from synth_spark.publish.dataset_folder import ADVANCING, JOURNAL, read_json


class BeingWritten(ConfigError):
    """The dataset changed while it was read: a publish or an advance by another run."""


def being_written(name: str, dataset) -> BeingWritten:
    return BeingWritten(
        f"{name}: {dataset} is being written by another synth-spark run (it changed while this "
        "command read it); run this command again when that run ends"
    )


def _digest(path) -> str | None:
    try:
        return hashlib.sha256(path.read_text().encode()).hexdigest()
    except (OSError, ValueError):
        return None


def _stamp(path) -> tuple | None:
    """The file itself, not its bytes: publishing the same dataset again (the same manifest's bytes)
    puts a new file in place, and a reader that straddled the two publishes must see that."""
    try:
        if hasattr(path, "stat"):
            st = path.stat()
            return st.st_ino, st.st_mtime_ns
        return (path.modified(),)
    except (OSError, AttributeError):
        return None


@dataclass(frozen=True)
class Seen:
    """What identifies one publish of a dataset, as a reader sees it."""

    manifest: str | None  # the manifest's bytes, hashed: a publish writes a new one (its run's time in it)
    stamp: tuple | None  # and which file holds them
    journal: bool

    @classmethod
    def of(cls, dataset) -> "Seen":
        journal = (dataset / JOURNAL).exists()
        path = dataset / manifests.MANIFEST
        return cls(_digest(path), _stamp(path), journal)


def latest_delta_version(table) -> int | None:
    """A Delta table's latest version, from its log's commit files (no Spark); None if it has none."""
    try:
        commits = [
            int(p.name.split(".")[0])
            for p in (table / "_delta_log").glob("*.json")
            if p.name.split(".")[0].isdigit()
        ]
    except OSError:
        return None
    return max(commits) if commits else None


class Reading:
    """One reader's view of a folder dataset: ``open()`` its manifest (after ``settle``), read what
    ``delta_versions`` says, then ``still()`` before trusting what was read. ``guarded()`` turns a
    read that failed because the dataset changed into the same one line."""

    def __init__(self, dataset, name: str = "DATASET"):
        self.dataset, self.name = dataset, name
        self.seen: Seen | None = None
        self.versions: dict[str, int] = {}

    def open(self, settle: Callable[..., None] | None = None) -> dict:
        """The manifest of the dataset as it stands now, its Delta versions chosen; the folder
        settled first by ``settle`` (finishing a publish a dead run left)."""
        if settle is not None and self.dataset.is_dir():
            settle(self.dataset, self.name)
        self.seen = Seen.of(self.dataset)
        if self.seen.journal:  # settle left it: its run is alive and swapping now
            raise being_written(self.name, self.dataset)
        try:
            manifest = manifests.read(self.dataset, self.name)
        except ConfigError:
            if Seen.of(self.dataset) != self.seen:  # the manifest went aside for a publish
                raise being_written(self.name, self.dataset) from None
            raise
        self.versions = self._delta_versions(manifest)
        return manifest

    def _delta_versions(self, manifest: dict) -> dict[str, int]:
        if Format.DELTA not in manifest.get("formats", []):
            return {}
        tables = {
            t: e.get("paths", {}).get("delta")
            for t, e in manifest.get("tables", {}).items()
            if isinstance(e, dict) and isinstance(e.get("paths"), dict)
        }
        latest = {
            t: latest_delta_version(self.dataset / rel) for t, rel in tables.items() if isinstance(rel, str)
        }
        # looked at after the versions: an advance that began before them has its note there by now
        note = read_json(self.dataset / ADVANCING)
        started = note.get("versions") if note else None
        if isinstance(started, dict):
            latest.update({t: v for t, v in started.items() if t in latest and isinstance(v, int)})
        return {t: v for t, v in latest.items() if v is not None}

    def changed(self) -> bool:
        """Whether the dataset is another publish, or mid-publish, since ``open``. An advance that
        began meanwhile is not a change: every Delta table is read at the version chosen at ``open``."""
        now = Seen.of(self.dataset)
        return (now.manifest, now.stamp) != (self.seen.manifest, self.seen.stamp) or now.journal

    def still(self) -> None:
        """Raise the one line when what was read may mix two publishes."""
        if self.changed():
            raise being_written(self.name, self.dataset)

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Around the reads: a failure caused by the dataset changing under them is that one line."""
        try:
            yield
        except ConfigError:
            raise
        except Exception:
            if self.changed():
                raise being_written(self.name, self.dataset) from None
            raise
