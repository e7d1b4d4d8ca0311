"""A run's settings: every number of the simulation, validated strictly on load (settings.py says what a
valid value is; loading.py reads the YAML and the command line into it)."""

from synth_spark.config.loading import DEFAULT_CONFIG, config_from_manifest, given_once, load_config
from synth_spark.config.settings import MAX_CREATORS, MAX_SCALE, Config, Window
from synth_spark.failures import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "MAX_CREATORS",
    "MAX_SCALE",
    "Config",
    "ConfigError",
    "Window",
    "config_from_manifest",
    "given_once",
    "load_config",
]
