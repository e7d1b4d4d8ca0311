"""The simulation: numpy kernels that plan creators and live each pledge's months (no Spark)."""
