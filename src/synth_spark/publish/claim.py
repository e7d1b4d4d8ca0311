"""Taking an output folder for one run, and opening a dataset for reading.

``Claim(out, overwrite)`` is held for the whole of a generate run, from before Spark starts: it
refuses a folder we must not write (dataset_folder.check_target), takes the folder's lock, finishes
or undoes a publish a killed run left behind, removes what dead runs of ours left (their staging
folders, the partial file of a whole-write cut short) and checks the folder again under the lock.
A run that fails before publishing leaves the folder as it found it: the lock file goes, and so do
the folders the claim created.

Commands that only read a dataset (verify, validate, check) call :func:`settle` first, so they
never read a half-swapped folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from synth_spark.failures import ConfigError
from synth_spark.publish.dataset_folder import JOURNAL, PARTIALS, check_target, stale_staging
from synth_spark.publish.journal import JournalError, recover
from synth_spark.publish.lock import DatasetLock, LockHeld
from synth_spark.publish.storage import remove_tree


def _say(message: str) -> None:
    import sys

    print(f"synth-spark: {message}", file=sys.stderr, flush=True)


class Claim:
    def __init__(
        self,
        out,
        overwrite: bool = False,
        progress: Callable[[str], None] = _say,
        say: Callable[[str], None] = _say,
    ):
        # what was recovered is said even in a --quiet run (``say``); the rest is progress
        self.out, self.overwrite, self.progress, self.say = out, overwrite, progress, say
        self.lock = DatasetLock(out)
        self._created: list = []

    def __enter__(self) -> "Claim":
        check_target(self.out, self.overwrite)
        missing = self.out
        while isinstance(missing, Path) and not missing.exists():
            self._created.append(missing)
            if missing.parent == missing:
                break
            missing = missing.parent
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
            try:
                message = recover(self.out)
            except JournalError as exc:
                raise ConfigError(f"DATASET: {exc}") from None
            if message:
                self.say(message)
            for folder in stale_staging(self.out, self.lock.previous):
                remove_tree(folder, ignore_errors=True)
                self.progress(f"removed {folder.name}, left in {self.out} by a run that did not finish")
            for name in PARTIALS:  # a whole-write cut short: what it was replacing is intact
                (self.out / name).unlink(missing_ok=True)
            check_target(self.out, self.overwrite)  # again: the folder may have changed before we held it
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.lock.release()
        # Folders this run created and left empty (it failed before publishing) go again.
        for folder in self._created:
            try:
                folder.rmdir()
            except OSError:
                break


def settle(dataset, name: str = "DATASET", progress: Callable[[str], None] = _say) -> None:
    """Before reading ``dataset``: finish or undo a publish that a killed run left in it."""
    if not (dataset / JOURNAL).exists():
        return
    lock = DatasetLock(dataset)
    try:
        lock.acquire()
    except LockHeld:
        raise ConfigError(
            f"{name}: {dataset} is being published by another synth-spark run; try again when it ends"
        ) from None
    except PermissionError:
        raise ConfigError(
            f"{name}: {dataset} holds an unfinished publish and is not writable here; "
            "run this command as a user who can write it"
        ) from None
    try:
        message = recover(dataset)
        if message:
            progress(message)
    except JournalError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    finally:
        lock.release()
