"""Resolve the Delta Lake jars once into the local Ivy cache and remember their paths
(~/.cache/synth-spark/), so later runs load them from disk: no resolver, no network.
The work is done by ``python -m synth_spark.runtime.fetch_delta_jars``; this script stays for older set-ups."""

import sys

from synth_spark.runtime.fetch_delta_jars import main

if __name__ == "__main__":
    sys.exit(main())
