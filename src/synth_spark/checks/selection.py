"""Which of the data-quality rules to run: a dbt node selection, checked as dbt reads it."""

from __future__ import annotations

import re

from synth_spark.config import ConfigError
from synth_spark.failures import quoted

#: dbt's selector methods (METHOD:VALUE), as dbt-core 1.11 names them (dbt.graph.selector_methods.MethodName)
SELECT_METHODS = (
    "fqn",
    "tag",
    "group",
    "access",
    "source",
    "path",
    "file",
    "package",
    "config",
    "test_name",
    "test_type",
    "resource_type",
    "state",
    "exposure",
    "metric",
    "result",
    "source_status",
    "version",
    "semantic_model",
    "saved_query",
    "unit_test",
)
#: one selector of a selection, as dbt reads it: @, N+ before, METHOD[.ARG]:VALUE, +N after
_SELECTOR = re.compile(r"^@?(?:\d*\+)?(?:(?P<method>[\w.]+):)?(?P<value>.*?)(?:\+\d*)?$")


def selection(select: str, name: str = "--select") -> str:
    """A selection checked before dbt starts: dbt's own answer to a method it does not know is to
    run no test. Spaces join selectors (any of them), commas intersect them."""
    words = select.split()
    if not words:
        raise ConfigError(
            f"{name}: an empty selection is not allowed; give e.g. source:synth.pledges, or leave it out"
        )
    for part in (p for word in words for p in word.split(",")):
        found = _SELECTOR.match(part)
        method = (found.group("method") or "").split(".")[0] if found else ""
        if method and method not in SELECT_METHODS:
            problem = f"{quoted(method)} (in {quoted(part)}) is not a dbt selector method"
        elif found is None or not found.group("value"):
            problem = f"{quoted(part)} names no test"
        else:
            continue
        raise ConfigError(
            f"{name}: {problem}; give a test's name or METHOD:VALUE with METHOD one of "
            f"{', '.join(SELECT_METHODS)}"
        )
    return select
