"""What in an output folder is ours, and what is not.

A synth-spark dataset is a folder holding our marker file and a manifest written by synth-spark
(or, in the middle of a publish, a publish journal). Only the entries its manifest lists (one
folder or file per table and format), the manifest, the marker, the journal, the lock file and our
own staging folders are ours; anything else a user keeps there is never moved or removed.

A staging folder is ours only if its name has our prefix and it holds an owner record naming that
very folder: a user's folder that merely looks like one is left alone. This module needs no Spark:
it works on ``pathlib.Path`` and on ``storage.HadoopPath`` alike.
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
from synth_spark.publish.storage import write_synced

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


def process_start(pid: int) -> str | None:
    """When a process started (Linux: clock ticks since boot), to tell it from a later one with
    the same pid; None where /proc is not available. "Z" for a zombie: it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return "Z" if fields[0] in ("Z", "X") else fields[19]


def owner_record(**extra) -> dict:
    return {"generator": GENERATOR, "host": socket.gethostname(), "pid": os.getpid(),
            "start": process_start(os.getpid()), **extra}


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


def make_staging(out):
    """A new staging folder of ours in ``out``, its owner record written before anything else."""
    folder = out / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    folder.mkdir()
    write_synced(folder / OWNER_FILE, json.dumps(owner_record(staging=folder.name)) + "\n")
    return folder


def read_json(path) -> dict | None:
    """A JSON object from a file, or None when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def staging_owner(folder) -> dict | None:
    """The owner record of one of our staging folders; None for anything else."""
    if not folder.name.startswith(STAGING_PREFIX) or not re.fullmatch(r"[0-9a-f]{32}", folder.name[len(STAGING_PREFIX):]):
        return None
    owner = read_json(folder / OWNER_FILE)
    if owner is None or owner.get("generator") != GENERATOR or owner.get("staging") != folder.name:
        return None
    return owner


def stale_staging(out) -> list:
    """Our staging folders in ``out`` whose owner is no longer running. A folder without a valid
    owner record is not ours to judge and is never listed."""
    stale = []
    for folder in sorted(out.glob(f"{STAGING_PREFIX}*")):
        owner = staging_owner(folder) if folder.is_dir() else None
        if owner is not None and not owner_running(owner):
            stale.append(folder)
    return stale


def own_report(folder) -> bool:
    """A validate report of ours (``report.json`` written by synth-spark) in ``folder``."""
    report = read_json(folder / "report.json") if folder.is_dir() else None
    return report is not None and (report.get("generator") == GENERATOR or "dataset" in report and "checks" in report)


def foreign_entries(folder, manifest: dict | None) -> list[str]:
    """What in ``folder`` is neither ours nor inside a format folder of ours (sorted names)."""
    listed = set(entries(manifest)) if manifest else set()
    foreign = []
    for child in folder.iterdir():
        name = child.name
        if name in HOUSEKEEPING or staging_owner(child) is not None or name == REPORT and own_report(child):
            continue
        if name in FORMATS and child.is_dir():  # an empty one is a leftover of ours
            foreign += [f"{name}/{c.name}" for c in child.iterdir() if f"{name}/{c.name}" not in listed]
            continue
        foreign.append(name)
    return sorted(foreign)


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
            raise ConfigError(f"{name}: {str(out)!r} is inside the dataset {str(inside)!r}; give a folder outside it")
    if not out.exists():
        return
    if (out / JOURNAL).exists():
        return  # a publish of ours was cut short: judged again once it is completed or undone
    manifest = read_manifest(out)
    if manifest is None and (out / MANIFEST).exists():
        raise ConfigError(f"{name}: {str(out)!r} holds a {MANIFEST} that synth-spark did not write; give another folder")
    foreign = foreign_entries(out, manifest)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConfigError(f"{name}: {str(out)!r} holds files synth-spark did not write ({shown}); "
                          "give an empty folder or one of synth-spark's datasets")
    if manifest is not None and not overwrite:
        raise ConfigError(f"{name}: {str(out)!r} already holds a dataset; pass --overwrite to replace it")
