"""The optional parts of the package: ``validate`` draws its charts with matplotlib and ``check`` runs
dbt on DuckDB, each an extra of its own, so that generating data needs neither. A command whose
extra is missing says which, before any work."""

from __future__ import annotations

import importlib.util

from synth_spark.failures import EnvironmentProblem

#: the modules each extra brings; an extra is named after the command that needs it
EXTRAS = {"validate": ("matplotlib",), "check": ("dbt", "duckdb")}


def require(command: str) -> None:
    """Refuse ``command`` in one line if a module of its extra is not installed."""
    missing = [m for m in EXTRAS[command] if importlib.util.find_spec(m) is None]
    if missing:
        raise EnvironmentProblem(f"synth-spark {command} needs {' and '.join(missing)}, not installed here: "
                                 f"pip install 'synth-spark[{command}]'")
