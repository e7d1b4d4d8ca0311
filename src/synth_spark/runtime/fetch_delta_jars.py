"""``python -m synth_spark.runtime.fetch_delta_jars`` (``make setup`` runs it): resolve Delta Lake's jars
from Maven Central once, prove them with a one-row Delta write, and remember where they are."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from synth_spark.runtime.delta_jars import delta_package, remember_delta_jars
from synth_spark.runtime.session import build_session


def main() -> int:
    started = time.monotonic()
    print(f"resolving {delta_package()} ...", flush=True)
    spark = build_session(
        "local[1]",
        app_name="synth-spark-fetch-jars",
        extra={"spark.jars.packages": delta_package()},
        delta_jars=[],
    )
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"synth-spark-delta-probe-{os.getpid()}"
    spark.range(1).write.format("delta").mode("overwrite").save(str(probe))
    spark.stop()
    shutil.rmtree(probe, ignore_errors=True)
    listing = remember_delta_jars([j for j in jars.split(",") if j])
    names = sorted({j.rsplit("/", 1)[-1] for j in jars.split(",") if j})
    print(f"jar list cached in {listing}")
    delta = ", ".join(n for n in names if "delta" in n)
    print(f"Delta jars ready ({len(names)} jars, {time.monotonic() - started:.0f}s): {delta}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
