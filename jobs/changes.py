"""spark-submit entry point: ``spark-submit [spark options] jobs/changes.py SNAPSHOT --to D2 --out DIR [options]``.

Same options as ``synth-spark changes``; the master and Delta jars come from spark-submit.
"""

import sys

from synth_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["changes", *sys.argv[1:]], default_master=None))
