"""synth-spark: reproducible synthetic data for a creator-economy platform, generated with PySpark.

The library API (see ``synth_spark.api``): ``synth_spark.Generator(spark, scale=1).build()`` gives the
tables as DataFrames, ``.write(path)`` writes a dataset as the command line does. Names load on first
use, so ``import synth_spark.simulation`` (numpy only) does not import PySpark.
"""

__version__ = "0.1.0"
__all__ = ["Config", "ConfigError", "Generator", "Result", "__version__", "load_config"]


def __getattr__(name: str):
    if name in ("Generator", "Result"):
        # on first use: importing synth_spark must not import pyspark (the "spark" extra)
        from synth_spark import api

        return getattr(api, name)
    if name in ("Config", "ConfigError", "load_config"):
        from synth_spark import config

        return getattr(config, name)
    raise AttributeError(f"module 'synth_spark' has no attribute {name!r}")
