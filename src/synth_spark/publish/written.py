"""What a run wrote inside each folder of a dataset, file by file, so that replacing the dataset
moves that and nothing else.

A publish records every file and folder of each table entry it brings in (the manifest's
``files``, listed from the staging folder once the writers are done), and ``validate`` records the
report files it is about to write (``REPORT_RECORD`` in the report folder, written first). Anything
else found inside those folders is a user's: ``--overwrite`` refuses rather than move it.

A Delta table changes in place after it is published (``advance`` merges days into it, a restore
or a user's OPTIMIZE adds commits), so inside a Delta entry the files Delta's own writers name
(its log, its change data, data files named ``part-NNNNN-<uuid>``) are the table's too.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath

from synth_spark.manifest import GENERATOR, Format
from synth_spark.publish.storage import PARTIAL_PREFIX, write_synced

#: the manifest's record of every file and folder (``sub/``) inside each of its folder entries
FILES = "files"
#: in a report folder: the files ``validate`` writes there, recorded before it writes them
REPORT_RECORD = ".synth-spark-report.json"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: what Delta's writers put in a table's folder (relative paths)
_DELTA_OWN = re.compile(
    rf"(_delta_log|_change_data)(/.*)?|(.*/)?\.?part-\d{{5}}-{_UUID}[^/]*|"
    rf"(.*/)?\.?deletion_vector_{_UUID}\.bin(\.crc)?"
)


def listing(folder) -> list[str]:
    """Every file and folder under ``folder``, relative to it, folders ending in ``/``; sorted."""
    if not isinstance(folder, Path):
        return sorted(folder.walk())
    found = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        found += [f"{(rel / d).as_posix()}/" for d in dirs] + [(rel / f).as_posix() for f in files]
    return sorted(found)


def record(staging, entries: list[str]) -> dict[str, list[str]]:
    """What each of ``entries`` holds in ``staging``, for the manifest (a file entry holds nothing)."""
    return {e: listing(staging / e) for e in entries if (staging / e).is_dir()}


def with_files(manifest_text: str, staging, entries: list[str]) -> str:
    """The manifest ``manifest_text`` with the files of each of ``entries`` recorded in it."""
    from synth_spark import manifest

    return manifest.text({**json.loads(manifest_text), FILES: record(staging, entries)})


def strays(folder, recorded: list[str] | None, delta: bool = False) -> list[str]:
    """What inside ``folder`` its run did not write (a folder once, not what is in it). ``recorded``
    None: the run recorded nothing (a dataset published before files were recorded), so the whole
    folder is taken as its."""
    if recorded is None or not folder.is_dir():
        return []
    ours, found = set(recorded), []
    for rel in listing(folder):
        if rel in ours or delta and _DELTA_OWN.fullmatch(rel.rstrip("/")):
            continue
        if not any(rel.startswith(f) for f in found if f.endswith("/")):
            found.append(rel)
    return found


def manifest_files(manifest: dict, entry: str) -> list[str] | None:
    """The files the manifest records for ``entry``; None when it records none (an older dataset)."""
    files = manifest.get(FILES)
    if not isinstance(files, dict):
        return None
    listed = files.get(entry, [])
    return [f for f in listed if isinstance(f, str)] if isinstance(listed, list) else []


def is_delta(entry: str) -> bool:
    return PurePosixPath(entry).parts[0] == Format.DELTA


def write_report_record(folder, names: list[str]) -> None:
    """Before ``validate`` writes ``names`` into ``folder``: the record that says they are ours."""
    write_synced(
        folder / REPORT_RECORD, json.dumps({"generator": GENERATOR, "files": sorted(names)}, indent=2) + "\n"
    )


def report_files(folder) -> list[str] | None:
    """The files of a validate report in ``folder``, the record and a partial write of it included;
    None when ``folder`` holds no record of ours."""
    try:
        value = json.loads((folder / REPORT_RECORD).read_text())
    except (OSError, ValueError):
        return None
    names = value.get("files") if isinstance(value, dict) and value.get("generator") == GENERATOR else None
    if not isinstance(names, list) or not all(isinstance(n, str) and "/" not in n for n in names):
        return None
    return [*names, REPORT_RECORD, PARTIAL_PREFIX + REPORT_RECORD]
