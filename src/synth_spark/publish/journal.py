"""Publishing a staged dataset as a journaled transaction, and finishing one that was interrupted.

The new dataset is complete in a staging folder, its manifest written and synced there, before
anything visible changes. Then a journal (``.synth-spark-journal``) appears in the dataset folder,
atomically, listing every rename of the swap: the old manifest and each entry the old manifest
lists go aside into the staging folder (``_replaced/``), each new entry comes in, the new manifest
comes last. Before each rename a line records which one is next; a rollback records its steps
the same way. So at every instant the folder holds the old complete dataset, the new one, or a
journal from which :func:`recover` restores one of them: forward when the swap was under way,
back when a failing run had started to put the old dataset back. On an object store a rename is
not atomic, so the step that was cut short may be found at both places; it is finished object by
object (``HadoopPath.finish_move``).

Nothing here needs Spark; paths are ``pathlib.Path`` or ``storage.HadoopPath``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

from synth_spark import manifest
from synth_spark.manifest import FORMATS, GENERATOR, MANIFEST
from synth_spark.publish.dataset_folder import (
    JOURNAL,
    MARKER,
    REPORT,
    own_report,
    owner_record,
    refuse_foreign,
)
from synth_spark.publish.storage import HadoopPath, remove_tree, sync_folder, write_synced
from synth_spark.publish.written import with_files

#: inside the staging folder: where the replaced dataset waits until the new one is in place
REPLACED = "_replaced"


class JournalError(RuntimeError):
    """A journal that cannot be carried out: the file system no longer matches what it records."""


class Journal:
    """The journal file of one publish: a header line, then one line per step begun."""

    def __init__(self, out, header: dict, records: list[dict] | None = None):
        self.out, self.header, self.records = out, header, list(records or [])
        self.path = out / JOURNAL

    @property
    def steps(self) -> list[tuple[str, str]]:
        return [tuple(s) for s in self.header["steps"]]

    @property
    def staging(self):
        return self.out / self.header["staging"]

    def _text(self) -> str:
        return "".join(json.dumps(r) + "\n" for r in (self.header, *self.records))

    def create(self) -> None:
        """Make the journal appear whole: written and synced in the staging folder, then renamed."""
        draft = self.staging / JOURNAL
        write_synced(draft, self._text())
        draft.replace(self.path)
        sync_folder(self.out)

    def record(self, **entry) -> None:
        self.records.append(entry)
        if isinstance(self.path, Path):
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        else:  # object stores have no append: the whole journal is written again
            write_synced(self.path, self._text())

    @classmethod
    def read(cls, out) -> "Journal | None":
        path = out / JOURNAL
        if not path.exists():
            return None
        try:
            text = path.read_text()
        except OSError as exc:
            raise JournalError(f"cannot read the publish journal {path}: {exc}") from None
        lines = text.split("\n")
        records = []
        for i, line in enumerate(lines):
            try:
                records.append(json.loads(line))
            except ValueError:
                if i < len(lines) - 1 and line.strip():  # only the last line may be torn (killed mid-write)
                    raise JournalError(f"the publish journal {path} is damaged at line {i + 1}") from None
        if not records or not isinstance(records[0], dict) or records[0].get("generator") != GENERATOR:
            raise JournalError(f"{path} is not a synth-spark publish journal")
        return cls(out, records[0], records[1:])

    # -- the state the records describe --------------------------------------------------------
    def _last(self, key: str) -> int | None:
        values = [r[key] for r in self.records if isinstance(r.get(key), int)]
        return values[-1] if values else None

    @property
    def finished(self) -> bool:
        return any(r.get("finished") for r in self.records)

    @property
    def rolling_back(self) -> bool:
        return any(r.get("rollback") for r in self.records)

    # -- carrying it out ---------------------------------------------------------------------------
    def _move(self, src: str, dst: str, resumed: bool = False) -> None:
        """One step, idempotent: done if the source is gone and the target is there. ``resumed``:
        this step may have been cut short before (the first one a recovery or a rollback takes)."""
        s, d = self.out / src, self.out / dst
        if s.exists() and not d.exists():
            s.replace(d)
        elif resumed and s.exists() and d.exists() and isinstance(s, HadoopPath):
            # On an object store a rename is copies then deletes, so one cut short leaves both;
            # a local rename is atomic, and there both means someone else put one of them there.
            s.finish_move(d)
        elif not (d.exists() and not s.exists()):
            raise JournalError(
                f"cannot move {src} to {dst} in {self.out}: "
                f"{'both are there' if s.exists() else 'neither is there'}"
            )

    def take(self, i: int, resumed: bool = False) -> None:
        """Step ``i`` of the swap: recorded as begun, then carried out."""
        self.record(step=i)
        self._move(*self.steps[i], resumed=resumed)

    def forward(self, start: int = 0, resumed: bool = False) -> None:
        for i in range(start, len(self.steps)):
            self.take(i, resumed=resumed and i == start)
        self.record(finished=True)
        sync_folder(self.out)
        self._tidy(keep=self.header["formats_after"])

    def back(self) -> None:
        """Undo the steps begun, newest first; the journal goes once the old dataset is back."""
        if not self.rolling_back:
            self.record(rollback=True)
        begun = self._last("step")
        undone = self._last("undo")
        start = undone if undone is not None else begun
        # the first step undone may be half done either way (cut short going or coming back)
        for i in range(start if start is not None else -1, -1, -1):
            self.record(undo=i)
            src, dst = self.steps[i]
            self._move(dst, src, resumed=i == start)
        sync_folder(self.out)
        self._tidy(keep=self.header["formats_before"])
        self.path.unlink()

    def _tidy(self, keep: list[str]) -> None:
        """Remove the format folders we made or emptied and the dataset no longer uses; an empty
        one we did not make (a user's) stays."""
        ours = set(self.header["formats_before"]) | set(self.header.get("formats_made", []))
        for fmt in FORMATS:
            folder = self.out / fmt
            if fmt in ours and fmt not in keep and folder.is_dir() and not list(folder.iterdir()):
                folder.rmdir()

    def finish(self) -> None:
        """After the swap: the replaced dataset is deleted, then the journal."""
        remove_tree(self.staging / "_replaced", ignore_errors=True)
        self.path.unlink()


def _formats_of(entries: list[str]) -> list[str]:
    return sorted({PurePosixPath(e).parts[0] for e in entries} & set(FORMATS))


def publish(out, staging, new_entries: list[str], manifest_text: str) -> None:
    """Replace whatever dataset ``out`` holds by the one staged in ``staging`` (a folder inside
    ``out`` holding ``new_entries``), as one journaled transaction. If a step fails, the old
    dataset is put back before the error is raised; if even that is cut short, the journal stays
    for :func:`recover`."""
    journal = begin(out, staging, new_entries, manifest_text)
    try:
        journal.forward()
    except BaseException:
        if not journal.finished:
            journal.back()
        raise
    journal.finish()


def begin(out, staging, new_entries: list[str], manifest_text: str) -> Journal:
    """Everything of a publish before its first rename: the new manifest in the staging folder
    (with every file of the new entries recorded), the folders the renames need, the marker, and the
    journal listing every step. Refused in one line if something not ours appeared in the folders
    that are to move since the run began: a folder moves only when all it holds is ours."""
    old = manifest.load(out)
    refuse_foreign(out, old)
    old_entries = [e for e in (manifest.entries(old) if old else []) if (out / e).exists()]
    if own_report(out / REPORT):  # a report on the old data would describe another dataset
        old_entries.append(REPORT)
    write_synced(staging / MANIFEST, with_files(manifest_text, staging, new_entries))
    aside = f"{staging.name}/{REPLACED}"
    (staging / REPLACED).mkdir(exist_ok=True)
    for fmt in _formats_of(old_entries):
        (staging / REPLACED / fmt).mkdir(parents=True, exist_ok=True)
    made = [fmt for fmt in _formats_of(new_entries) if not (out / fmt).exists()]
    for fmt in made:
        (out / fmt).mkdir()
    if not (out / MARKER).exists():
        write_synced(out / MARKER, json.dumps({"generator": GENERATOR}) + "\n")
    steps = (
        ([(MANIFEST, f"{aside}/{MANIFEST}")] if old else [])
        + [(e, f"{aside}/{e}") for e in old_entries]
        + [(f"{staging.name}/{e}", e) for e in new_entries]
        + [(f"{staging.name}/{MANIFEST}", MANIFEST)]
    )
    journal = Journal(
        out,
        {
            "generator": GENERATOR,
            "staging": staging.name,
            "owner": owner_record(),
            "formats_before": _formats_of(old_entries),
            "formats_after": _formats_of(new_entries),
            "formats_made": made,
            "steps": steps,
        },
    )
    journal.create()
    return journal


def recover(out) -> str | None:
    """Finish or undo a publish that was interrupted in ``out`` (the caller holds the lock). One
    line saying what was done, or None when there was nothing to do."""
    journal = Journal.read(out)
    if journal is None:
        return None
    if journal.finished:
        journal.finish()
        remove_tree(journal.staging, ignore_errors=True)
        return f"completed the cleanup of an interrupted publish in {out}"
    if journal.rolling_back:
        journal.back()
        remove_tree(journal.staging, ignore_errors=True)
        return f"restored the previous dataset in {out}: a publish had been interrupted while putting it back"
    begun = journal._last("step")
    journal.forward(begun or 0, resumed=begun is not None)
    journal.finish()
    remove_tree(journal.staging, ignore_errors=True)
    return f"completed an interrupted publish in {out}: it holds the dataset that run generated"


def pending_for(out, staging) -> bool:
    """Whether an unfinished journal in ``out`` still needs ``staging`` (then it must not be removed)."""
    try:
        journal = Journal.read(out)
    except JournalError:
        return True
    return journal is not None and journal.header.get("staging") == staging.name
