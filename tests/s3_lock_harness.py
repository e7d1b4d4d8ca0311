"""The dataset lock on S3 through S3A, raced and taken over inside one driver, as
tests/test_object_store.py needs it: a Spark session with Hadoop's S3 connector on the test
server, then each case's outcome printed as one JSON object.

    python tests/s3_lock_harness.py ENDPOINT PREFIX [--no-conditional-writes]
"""

from __future__ import annotations

import json
import sys
import threading
import time

from synth_spark.publish.dataset_folder import LOCK, owner_record
from synth_spark.publish.lock import DatasetLock, LockHeld
from synth_spark.publish.storage import HadoopPath
from synth_spark.runtime.session import build_session

RACERS = 8


def _race(out: HadoopPath) -> dict:
    """RACERS runs reach for the same lock at the same instant."""
    start, won, refused = threading.Barrier(RACERS), [], []

    def racer(i: int) -> None:
        lock = DatasetLock(out)
        start.wait()
        try:
            lock.acquire()
            won.append(lock)
        except LockHeld:
            refused.append(i)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for lock in won:
        lock.release()
    return {"won": len(won), "refused": len(refused)}


def main(endpoint: str, prefix: str, conditional: bool) -> dict:
    from tests.spark_servers import S3_BUCKET, s3_settings

    pairs = s3_settings(endpoint)
    conf = dict(pairs[i + 1].split("=", 1) for i in range(0, len(pairs), 2))
    conf["spark.hadoop.fs.s3a.create.conditional.enabled"] = str(conditional).lower()
    spark = build_session("local[1]", app_name="s3-lock-harness", extra=conf, delta=False)
    root = HadoopPath.of(spark, f"s3a://{S3_BUCKET}/{prefix}")
    result = {"conditional_writes": root.conditional_writes, "race": _race(root / "race")}

    # a lock file already there: creating it again is refused (with conditional writes, by the store)
    taken = root / "taken" / LOCK
    taken.write_text("someone's\n")
    result["create_over_existing"] = taken.create_new("mine\n")
    result["existing_kept"] = taken.read_text() == "someone's\n"
    if not result["conditional_writes"]:
        spark.stop()
        return result
    # the store's own refusal, which closes the race between looking and writing
    result["store_refuses_existing"] = not taken._conditional_write("mine\n", None)
    result["existing_kept"] &= taken.read_text() == "someone's\n"

    # a dead run's lease, read by two runs: the first takes it over, the second's swap is refused
    stale = root / "stale"
    (stale / LOCK).write_text(
        json.dumps({**owner_record(), "pid": 999_999_999, "lease_until": time.time() - 1}) + "\n"
    )
    seen = (stale / LOCK).etag()
    first = DatasetLock(stale)
    first.acquire()
    result["second_takeover"] = (stale / LOCK).replace_if_unchanged("second\n", seen)
    result["first_holds"] = json.loads((stale / LOCK).read_text())["pid"] == owner_record()["pid"]

    # the first run's lease ran out and a third run took the lock: the first's renewal and
    # release leave the third's lock alone
    (stale / LOCK).replace_if_unchanged("third\n", (stale / LOCK).etag())
    result["renewed_after_losing"] = first.renew()
    first.release()
    result["successor_kept"] = (stale / LOCK).read_text() == "third\n"

    spark.stop()
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], "--no-conditional-writes" not in sys.argv[3:])))
