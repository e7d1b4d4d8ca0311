"""What in an output folder is ours, and what is not.

A synth-spark dataset is a folder holding our marker file and a manifest written by synth-spark
(or, in the middle of a publish, a publish journal). Only the entries its manifest lists (one
folder or file per table and format), the manifest, the marker, the journal, the lock file and our
own staging folders are ours; anything else a user keeps there is never moved or removed.

A staging folder is ours only if its name has our prefix and it holds an owner record naming that
very folder in this very dataset, or if the lock file of the run that made it names it (a run
killed, or out of space, before the owner record was written): a user's folder that merely looks
like one, or one copied from another dataset, is left alone. This module needs no Spark: it works
on ``pathlib.Path`` and on ``storage.HadoopPath`` alike.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from pathlib import Path

from synth_spark.failures import ConfigError
from synth_spark.manifest import FORMATS, GENERATOR, MANIFEST, entries
from synth_spark.manifest import load as read_manifest  # None unless it is ours
from synth_spark.publish.storage import PARTIAL_PREFIX, remove_tree, write_synced
from synth_spark.publish.written import is_delta, manifest_files, report_files, strays

#: written once into every dataset we publish; with the manifest, it says the folder is ours
MARKER = ".synth-spark-dataset"
#: the write-ahead record of a publish in progress (see journal.py)
JOURNAL = ".synth-spark-journal"
#: one writer per dataset (see lock.py)
LOCK = ".synth-spark.lock"
#: the table versions an ``advance`` in progress started from (see job/advance.py)
ADVANCING = ".synth-spark-advancing.json"
#: staging folders: our prefix plus 32 random hex digits, so no user folder is taken for one
STAGING_PREFIX = ".synth-spark-staging-"
OWNER_FILE = "_owner.json"
#: our own files at the top of a dataset, besides the entries its manifest lists
HOUSEKEEPING = (MANIFEST, MARKER, JOURNAL, LOCK, ADVANCING)
#: where ``synth-spark validate`` writes its report by default; replaced with the dataset
REPORT = "report"
#: a whole-write of one of our files cut short (storage.write_synced), left for the next claim
PARTIALS = tuple(PARTIAL_PREFIX + name for name in HOUSEKEEPING)
_STAGING_NAME = re.compile(re.escape(STAGING_PREFIX) + "[0-9a-f]{32}")


def process_start(pid: int) -> str | None:
    """When a process started (Linux: clock ticks since boot), to tell it from a later one with
    the same pid; None where /proc is not available. "Z" for a zombie: it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return "Z" if fields[0] in ("Z", "X") else fields[19]


def owner_record(**extra) -> dict:
    return {
        "generator": GENERATOR,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "start": process_start(os.getpid()),
        **extra,
    }


def owner_running(owner: dict) -> bool:
    """Whether the process an owner record names may still be running (True when we cannot tell)."""
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
    start = process_start(pid)
    return start != "Z" and (start is None or owner.get("start") in (None, start))


def describe_owner(owner: dict) -> str:
    return f"pid {owner.get('pid')} on {owner.get('host')}"


def dataset_id(out) -> str:
    """How owner records name a dataset folder: its real path, or its URI."""
    return str(out.resolve()) if isinstance(out, Path) else str(out)


def make_staging(out):
    """A new staging folder of ours in ``out``, its owner record written before anything else. A
    run that holds the folder's lock names the folder in its lock file first, so that a staging
    folder left without its owner record (the run killed, the disk full) is still known for ours."""
    folder = out / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    note_in_lock(out, folder.name)
    try:
        if isinstance(folder, Path):  # elsewhere the owner record's creation makes the folder
            folder.mkdir()
        owner = owner_record(staging=folder.name, dataset=dataset_id(out))
        write_synced(folder / OWNER_FILE, json.dumps(owner) + "\n")
    except BaseException:
        remove_tree(folder, ignore_errors=True)
        raise
    return folder


def lock_record(out) -> list[dict]:
    """The lines of ``out``'s lock file: its holder's owner record, then one per staging folder it
    made (a torn last line, written by a run killed at that instant, is left out)."""
    try:
        text = (out / LOCK).read_text()
    except (OSError, ValueError):
        return []
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            break
        if not isinstance(value, dict):
            break
        lines.append(value)
    return lines if lines and lines[0].get("generator") == GENERATOR else []


def _ours(owner: dict) -> bool:
    """Whether an owner record is this very process's."""
    return (
        owner.get("host") == socket.gethostname()
        and owner.get("pid") == os.getpid()
        and owner.get("start") == process_start(os.getpid())
    )


def note_in_lock(out, name: str) -> None:
    """Add a staging folder's name to ``out``'s local lock file when this process holds it (appended
    and synced; the lock file is the one the lock holds, so it is never replaced)."""
    if not isinstance(out, Path):
        return  # a lease on an object store: there the owner record appears whole or not at all
    held = lock_record(out)
    if not held or not _ours(held[0]):
        return
    with open(out / LOCK, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"staging": name}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def locked_staging(out, record: list[dict] | None = None) -> set[str]:
    """The staging folders a lock record (``out``'s lock file, or ``record``) names for ``out``."""
    record = lock_record(out) if record is None else record
    if not record or record[0].get("dataset") != dataset_id(out):
        return set()
    names = (r.get("staging") for r in record[1:])
    return {n for n in names if isinstance(n, str) and _STAGING_NAME.fullmatch(n)}


def read_json(path) -> dict | None:
    """A JSON object from a file, or None when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def staging_owner(folder) -> dict | None:
    """The owner record of one of our staging folders: one that names the folder and the dataset
    it is in. None for anything else (a user's folder, one copied from another dataset)."""
    if not _STAGING_NAME.fullmatch(folder.name):
        return None
    owner = read_json(folder / OWNER_FILE)
    if (
        owner is None
        or owner.get("generator") != GENERATOR
        or owner.get("staging") != folder.name
        or owner.get("dataset") != dataset_id(folder.parent)
    ):
        return None
    return owner


def stale_staging(out, record: list[dict] | None = None) -> list:
    """Our staging folders in ``out`` left by runs that are no longer running: those whose owner
    record names a dead process, and those the lock record of a dead holder names (``record``: the
    lock file as the caller found it before taking the lock). Any other folder is not ours to judge."""
    named = locked_staging(out, record) if record and not owner_running(record[0]) else set()
    stale = []
    for folder in sorted(out.glob(f"{STAGING_PREFIX}*")):
        owner = staging_owner(folder) if folder.is_dir() else None
        if owner is not None and not owner_running(owner) or folder.name in named and folder.is_dir():
            stale.append(folder)
    return stale


def own_report(folder) -> bool:
    """A validate report of ours in ``folder`` (it holds validate's record of its files)."""
    return folder.is_dir() and report_files(folder) is not None


def foreign_entries(folder, manifest: dict | None) -> list[str]:
    """What in ``folder`` synth-spark did not write (sorted paths): anything beside our own files,
    and inside the folders of ours (the entries a manifest lists, a validate report) anything their
    run did not record. An empty format folder is left alone, whoever made it."""
    listed = set(entries(manifest)) if manifest else set()
    locked = locked_staging(folder)
    foreign = []
    for child in folder.iterdir():
        name = child.name
        if name in HOUSEKEEPING or name in PARTIALS or staging_owner(child) is not None or name in locked:
            continue
        if name == REPORT and own_report(child):
            foreign += [f"{REPORT}/{s}" for s in strays(child, report_files(child))]
            continue
        if name in FORMATS and child.is_dir():
            for c in child.iterdir():
                entry = f"{name}/{c.name}"
                if entry not in listed:
                    foreign.append(entry)
                elif manifest is not None:
                    recorded = manifest_files(manifest, entry)
                    foreign += [f"{entry}/{s}" for s in strays(c, recorded, is_delta(entry))]
            continue
        foreign.append(name)
    return sorted(foreign)


def refuse_foreign(out, manifest: dict | None, name: str = "DATASET") -> None:
    """One line naming what in ``out`` synth-spark did not write, if anything."""
    foreign = foreign_entries(out, manifest)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConfigError(
            f"{name}: {str(out)!r} holds files synth-spark did not write ({shown}); "
            "give an empty folder or one of synth-spark's datasets"
        )


def enclosing_dataset(path: Path) -> Path | None:
    """The nearest folder above ``path`` (not ``path`` itself) that holds one of our datasets."""
    for parent in path.absolute().parents:
        if (parent / MARKER).exists() or (parent / JOURNAL).exists() or read_manifest(parent) is not None:
            return parent
    return None


def check_target(out, overwrite: bool, name: str = "DATASET") -> None:
    """Refuse, in one line, an output folder that we must not write: a file, a folder inside another
    dataset, a folder holding anything that is not ours, or one of our datasets without
    ``--overwrite``. An empty or missing folder, or one of our datasets with ``overwrite``, passes."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{name}: {str(out)!r} is a file; give a folder")
    if isinstance(out, Path):
        inside = enclosing_dataset(out)
        if inside is not None:
            raise ConfigError(
                f"{name}: {str(out)!r} is inside the dataset {str(inside)!r}; give a folder outside it"
            )
    if not out.exists():
        return
    if (out / JOURNAL).exists():
        return  # a publish of ours was cut short: judged again once it is completed or undone
    manifest = read_manifest(out)
    if manifest is None and (out / MANIFEST).exists():
        raise ConfigError(
            f"{name}: {str(out)!r} holds a {MANIFEST} that synth-spark did not write; give another folder"
        )
    refuse_foreign(out, manifest, name)
    if manifest is not None and not overwrite:
        raise ConfigError(f"{name}: {str(out)!r} already holds a dataset; pass --overwrite to replace it")
