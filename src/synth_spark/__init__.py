"""synth-spark: reproducible synthetic data for a creator-economy platform, generated with PySpark.

The library API (see ``synth_spark.api``): ``synth_spark.Generator(spark, scale=1).build()`` gives the
tables as DataFrames, ``.write(path)`` writes a dataset as the command line does;
``synth_spark.changes(spark, snapshot, to)`` writes the daily change batches continuing a snapshot;
``synth_spark.verify(spark, path)``, ``synth_spark.validate(spark, path)`` and
``synth_spark.check(path)`` judge a dataset, each returning an
``Outcome`` (an exit code, the command's lines and its ``--json`` document). Names load on first
use, so ``import synth_spark.simulation`` (numpy only) does not import PySpark.
"""

__version__ = "0.1.0"
__all__ = [
    "Config",
    "ConfigError",
    "Generator",
    "Outcome",
    "Result",
    "__version__",
    "changes",
    "check",
    "load_config",
    "validate",
    "verify",
]


def __getattr__(name: str):
    if name in ("Generator", "Result", "changes", "validate", "verify"):
        # on first use: importing synth_spark must not import pyspark (the "spark" extra)
        from synth_spark import api

        return getattr(api, name)
    if name == "check":  # DuckDB's: no pyspark
        from synth_spark.checking import check

        return check
    if name == "Outcome":
        from synth_spark.outcome import Outcome

        return Outcome
    if name in ("Config", "ConfigError", "load_config"):
        from synth_spark import config

        return getattr(config, name)
    raise AttributeError(f"module 'synth_spark' has no attribute {name!r}")
