"""One writer per dataset folder.

On a local file system the lock is ``flock`` on ``.synth-spark.lock`` in the folder: the kernel
drops it when its holder dies, however it dies, so a killed run's lock is simply taken by the next
run. The file holds the owner (host, pid) so that a refused run can name who holds it.

On a Hadoop FileSystem URI there is no such lock. The lock is the same file, created only if
absent, holding its owner and a lease that a thread renews while the run lasts; a lock whose
lease ran out (its holder died) is taken over. On a store with conditional writes (S3 and S3A
since Hadoop 3.4.2) each of those is one conditional write: the creation succeeds only if no lock
is there, a takeover or a renewal only if the lock is still the one read (its etag), so two runs
racing for it cannot both win, and a run that lost its lease does not write over its successor's.
Without conditional writes it is best effort: two runs starting within the same instant can both
believe they hold it.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path

from synth_spark.failures import ConfigError
from synth_spark.publish.dataset_folder import (
    LOCK,
    dataset_id,
    describe_owner,
    lock_record,
    owner_record,
    owner_running,
)

#: how long a lock on a Hadoop FileSystem stays valid without renewal
LEASE_SECONDS = 120


class LockHeld(ConfigError):
    """Another run is writing the same dataset."""


def _held_message(out, holder: dict | None) -> str:
    who = describe_owner(holder) if holder else "another process"
    return (
        f"DATASET: {out} is being written by another synth-spark run ({who}); "
        "wait for it to finish or choose another folder"
    )


class DatasetLock:
    """An exclusive lock on a dataset folder; ``with DatasetLock(out):`` or acquire()/release()."""

    def __init__(self, out):
        self.out = out
        self.path = out / LOCK
        self._fd: int | None = None
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()
        self._etag: str | None = None  # the lease as we last wrote it, where the store has conditional writes
        self._lost = False
        #: the lock file as a dead holder left it (its owner record and staging folders), read
        #: once we hold the lock and before we write ours over it
        self.previous: list[dict] = []

    def __enter__(self) -> "DatasetLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        if isinstance(self.path, Path):
            self._acquire_local()
        else:
            self._acquire_lease()

    def _acquire_local(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = lock_record(self.out)
                raise LockHeld(_held_message(self.out, holder[0] if holder else None)) from None
            except BaseException:
                os.close(fd)
                raise
            # The holder before us may have removed the file between our open and our lock: then
            # we locked a file nobody else will see, so start again on the one at the path.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self.previous = lock_record(self.out)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(owner_record(dataset=dataset_id(self.out))) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def _lease_text(self) -> str:
        return json.dumps({**owner_record(), "lease_until": time.time() + LEASE_SECONDS}) + "\n"

    def _acquire_lease(self) -> None:
        conditional = self.path.conditional_writes
        for _ in range(2):
            if self.path.create_new(self._lease_text()):
                break
            seen = self.path.etag() if conditional else None  # before the read: a later change fails the swap
            try:
                holder = json.loads(self.path.read_text())
            except (OSError, ValueError):
                holder = None
            expired = (
                not isinstance(holder, dict)
                or not isinstance(holder.get("lease_until"), (int, float))
                or holder["lease_until"] < time.time()
                or not owner_running(holder)
            )
            if not expired:
                raise LockHeld(_held_message(self.out, holder))
            # a dead holder's lease: take it over (where the store can, only if nobody did first)
            if seen is not None:
                if self.path.replace_if_unchanged(self._lease_text(), seen):
                    break
            else:
                self.path.unlink(missing_ok=True)
        else:
            raise LockHeld(_held_message(self.out, None))
        self._etag = self.path.etag() if conditional else None
        self._lost = False
        self._renewer = threading.Thread(target=self._renew, name="synth-spark-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 3) and self.renew():
            pass

    def renew(self) -> bool:
        """Extend the lease; False once another run has taken the lock (our lease had run out)."""
        try:
            if self._etag is None:
                self.path.write_text(self._lease_text())
            elif self.path.replace_if_unchanged(self._lease_text(), self._etag):
                self._etag = self.path.etag()
            else:  # leave the new holder's lease alone, and its lock when we release
                self._lost = True
        except Exception:  # noqa: BLE001 - a failed renewal is retried; the run goes on
            pass
        return not self._lost

    def release(self) -> None:
        if self._fd is not None:
            # Removed while still held, so no other run can lock the old file after we let go.
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            os.close(self._fd)
            self._fd = None
        if self._renewer is not None:
            self._stop.set()
            self._renewer.join()
            self._renewer = None
            if self._lost:
                return  # the lock is another run's now
            try:
                self.path.unlink(missing_ok=True)
            except Exception:  # noqa: BLE001 - the lease runs out by itself
                pass
