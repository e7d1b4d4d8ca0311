"""The optional parts of the package: ``validate`` draws its charts with matplotlib and ``check`` runs
dbt on DuckDB, each an extra of its own, so that generating data needs neither. PySpark and Delta
Lake's Python package are the ``spark`` extra: a Spark runtime (Databricks, EMR, Dataproc, a Spark
distribution's ``spark-submit``) puts its own pyspark on the path without pip knowing of it, and a
wheel that required pyspark would make pip install a second one over it. A command whose extra is
missing says which, before any work."""

from __future__ import annotations

import importlib.util

from synth_spark.failures import EnvironmentProblem

#: the modules each extra brings; an extra is named after the command that needs it
EXTRAS = {
    "validate": ("matplotlib",),
    "check": ("dbt", "duckdb"),
    "spark": ("pyspark",),
    "benchmark": ("duckdb", "jsonschema"),
}
#: what a command needs of an extra beyond its modules above: advance merges with delta-spark's API
ALSO = {("advance", "spark"): ("delta",)}


def require(command: str, extra: str | None = None) -> None:
    """Refuse ``command`` in one line if a module of its extra (by default the one named after it) is
    not installed."""
    extra = extra or command
    missing = [
        m for m in (*EXTRAS[extra], *ALSO.get((command, extra), ())) if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise EnvironmentProblem(
            f"synth-spark {command} needs {' and '.join(missing)}, not installed here: "
            f"pip install 'synth-spark[{extra}]'"
        )
