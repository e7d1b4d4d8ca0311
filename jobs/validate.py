"""spark-submit entry point: ``spark-submit [spark options] jobs/validate.py DATASET [--report DIR]``."""

import sys

from synth_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["validate", *sys.argv[1:]], default_master=None))
