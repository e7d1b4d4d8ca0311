"""spark-submit entry point: ``spark-submit [spark options] jobs/generate.py DIR [options]``.

Same options as ``synth-spark generate``; the master and Delta jars come from spark-submit
(``--master``, ``--packages``), so ``--master`` here is only needed to override them.
"""

import sys

from synth_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]], default_master=None))
