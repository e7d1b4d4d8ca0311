"""Publish one dataset over another exactly as ``generate`` ends (a staging folder, then
``journal.publish``, then the staging folder's removal), without Spark, so that
tests/test_publish_faults.py can put a fault at each system call of the publish under strace.

    python tests/publish_harness.py OUT NEW_DATASET [--claimed]

``--claimed``: holding the folder's lock first, as generate's claim does, so that the staging
folder is made (and named in the lock file) under strace too.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from synth_spark.manifest import MANIFEST
from synth_spark.publish.dataset_folder import make_staging
from synth_spark.publish.journal import pending_for, publish
from synth_spark.publish.lock import DatasetLock
from synth_spark.publish.storage import remove_tree

#: the fault tests count the publish's system calls from this (failing) access on
BEGIN = "/synth-spark-publish-begins"
#: this script, as the tests run it in a process of its own
HARNESS = Path(__file__)


def main(out: Path, source: Path, claimed: bool = False) -> int:
    if claimed:
        lock = DatasetLock(out)
        lock.acquire()  # released by the kernel when the process ends, however it ends
    manifest_text = (source / MANIFEST).read_text()
    manifest = json.loads(manifest_text)
    entries = [p for t in manifest["tables"].values() for p in t["paths"].values()]
    staging = make_staging(out)
    for entry in entries:  # hard links: the staged tables cost no writes, as Spark's are done by then
        if (source / entry).is_dir():
            shutil.copytree(source / entry, staging / entry, copy_function=os.link)
        else:
            (staging / entry).parent.mkdir(parents=True, exist_ok=True)
            os.link(source / entry, staging / entry)
    os.access(BEGIN, os.F_OK)
    try:
        publish(out, staging, entries, manifest_text)
    finally:
        if not pending_for(out, staging):
            remove_tree(staging, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), "--claimed" in sys.argv[3:]))
