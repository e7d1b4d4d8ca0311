"""synth-spark: reproducible synthetic data for a creator-economy platform, generated with PySpark."""

__version__ = "0.1.0"
