"""Resolve the Delta Lake jars once into the local Ivy cache (~/.ivy2.5.2) and remember their paths
(~/.cache/synth-spark/), so later runs load them from disk: no resolver, no network.

Spark resolves ``spark.jars.packages`` from Maven Central on first use and caches the jars; this
script does that step explicitly (CI and `make` run it during set-up) and prints where they are.
"""

import sys
import time

from synth_spark.session import build_session, delta_package, remember_delta_jars


def main() -> int:
    started = time.monotonic()
    print(f"resolving {delta_package()} ...", flush=True)
    spark = build_session("local[1]", app_name="synth-spark-fetch-jars", extra={"spark.jars.packages": delta_package()})
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    spark.range(1).write.format("delta").mode("overwrite").save("/tmp/synth-spark-delta-probe")
    spark.stop()
    listing = remember_delta_jars([j for j in jars.split(",") if j])
    names = sorted({j.rsplit("/", 1)[-1] for j in jars.split(",") if j})
    print(f"jar list cached in {listing}")
    print(f"Delta jars ready ({len(names)} jars, {time.monotonic() - started:.0f}s): {', '.join(n for n in names if 'delta' in n)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
