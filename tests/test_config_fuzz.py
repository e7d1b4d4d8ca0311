"""Property: whatever a user's config file holds, loading it either succeeds or fails with a one-line
ConfigError, never another exception; and the command line then exits 2 with that one line and
writes nothing. Mutations of conf/default.yaml: a key deleted, an unknown key added, a value replaced
by one of the wrong type, negative, huge, NaN, infinite, an empty list or a string, a weight nudged."""

from __future__ import annotations

import contextlib
import copy
import io
import math
import tempfile
from pathlib import Path
from unittest import mock

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth_spark import config as config_module
from synth_spark.cli import main
from synth_spark.config import DEFAULT_CONFIG, ConfigError, load_config

DEFAULT = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def _paths(node, prefix=()):
    """Every key path of the default config, to dicts, lists and leaves alike."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


PATHS = sorted(_paths(DEFAULT), key=repr)


def _get(node, path):
    for part in path:
        node = node[part]
    return node


def _find(node, path):
    """The node at ``path``, or None when an earlier mutation removed or replaced a step of it."""
    try:
        return _get(node, path)
    except (KeyError, IndexError, TypeError):
        return None


DICT_PATHS = [()] + [p for p in PATHS if isinstance(_get(DEFAULT, p), dict)]
NUMBER_PATHS = [
    p for p in PATHS if isinstance(_get(DEFAULT, p), float | int) and not isinstance(_get(DEFAULT, p), bool)
]

BAD_VALUES = st.one_of(
    st.sampled_from(["abc", "", "0.5", "yes", "=1+1", "2023-13-01", None, True, [], {}, [1, "x"], {"a": 1}]),
    st.sampled_from(
        [-1, -0.5, -(10**30), 0, 10**30, 1e300, -1e-9, 2**63, float("nan"), float("inf"), float("-inf")]
    ),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-5, 200), max_size=3),
)
KEYS = st.one_of(
    st.sampled_from(["colour", "enabled", "share", "1", "x\ny", ""]), st.text(min_size=1, max_size=10)
)


@st.composite
def mutated(draw):
    cfg = copy.deepcopy(DEFAULT)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "add", "replace", "replace", "nudge"]))
        if op == "delete":
            path = draw(st.sampled_from(PATHS))
            parent = _find(cfg, path[:-1])
            if isinstance(parent, dict) and path[-1] in parent:
                del parent[path[-1]]
            elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
                parent.pop(path[-1])
        elif op == "add":
            parent = _find(cfg, draw(st.sampled_from(DICT_PATHS)))
            if isinstance(parent, dict):
                parent[draw(KEYS)] = draw(BAD_VALUES)
        else:
            path = draw(st.sampled_from(NUMBER_PATHS if op == "nudge" else PATHS))
            parent = _find(cfg, path[:-1])
            if not isinstance(parent, dict | list) or _find(parent, path[-1:]) is None:
                continue
            old = parent[path[-1]]
            if op == "nudge":
                if isinstance(old, int | float) and not isinstance(old, bool):
                    parent[path[-1]] = old + draw(st.sampled_from([-0.3, -0.01, -1e-4, 1e-4, 0.01, 0.3]))
            else:
                parent[path[-1]] = draw(BAD_VALUES)
    return cfg


def _dump(cfg, folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _outcome(load) -> str | None:
    """None when the config loads; the message of the ConfigError otherwise (any other exception fails)."""
    try:
        load()
    except ConfigError as err:
        msg = str(err)
        assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
        return msg
    return None


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=mutated())
def test_any_mutated_config_loads_or_fails_with_one_line(cfg):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        user = _dump(cfg, folder, "user.yaml")
        # 1. as a user's --conf file (deep-merged over the defaults, so a deleted key takes its default)
        as_file = _outcome(lambda: load_config(user))
        # 2. as the whole base config, so deleted keys stay deleted
        with mock.patch.object(config_module, "DEFAULT_CONFIG", user):
            _outcome(lambda: load_config())
        if as_file is None:
            return  # a valid config: validating is the property; no run needed
        # 3. the command line: exit 2, that one line on stderr, no traceback, nothing written
        out = folder / "out"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["generate", str(out), "--config", str(user)])
        lines = err.getvalue().splitlines()
        assert code == 2 and lines == [f"synth-spark: error: {as_file}"], err.getvalue()
        assert not out.exists()


def test_the_fuzzer_reaches_both_outcomes():
    """The mutations are neither all harmless nor all fatal: both branches of the property run."""
    assert _outcome(lambda: load_config()) is None
    nudged = copy.deepcopy(DEFAULT)
    nudged["churn"]["pause_rate"] = 0.02
    with tempfile.TemporaryDirectory() as tmp:
        assert _outcome(lambda: load_config(_dump(nudged, Path(tmp), "ok.yaml"))) is None
        nudged["creators"]["categories"]["video"] = math.nan
        assert "creators.categories.video" in _outcome(
            lambda: load_config(_dump(nudged, Path(tmp), "bad.yaml"))
        )
