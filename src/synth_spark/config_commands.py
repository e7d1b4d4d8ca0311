"""``config show`` (the default settings with their comments, to save and edit, or the settings a
run would use) and ``config check FILE`` (a settings file validated as ``generate`` validates it,
with what it changes). Neither starts Spark nor writes anything."""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from synth_spark.config.loading import DEFAULT_CONFIG
from synth_spark.config.yaml_file import read_yaml
from synth_spark.outcome import Outcome
from synth_spark.request import CLI, Names, requested_config

#: the settings file is config check's argument, FILE, where generate's option is --config
NAMES = Names(CLI.style, {**CLI.other, "config": "FILE"})


def run_config(args: argparse.Namespace) -> Outcome:
    return _check(args) if args.action == "check" else _show(args)


def _effective(args: argparse.Namespace) -> dict[str, Any]:
    cfg = requested_config(
        NAMES, scale=args.scale, seed=args.seed, config=getattr(args, "file", None), settings=args.settings
    )
    return cfg.model_dump(mode="json", exclude_none=False)


def _asked(args: argparse.Namespace) -> bool:
    return bool(args.settings) or args.scale is not None or args.seed is not None


def _show(args: argparse.Namespace) -> Outcome:
    if not _asked(args):  # the file itself: its comments say what each number means
        text = DEFAULT_CONFIG.read_text(encoding="utf-8")
        return Outcome(
            0,
            text.rstrip("\n").splitlines(),
            {"command": "config show", "settings": read_yaml(DEFAULT_CONFIG)},
        )
    settings = _effective(args)
    text = (
        "# the settings this run would use: the defaults with the values given on the command line\n"
        "# (every setting's meaning: synth-spark config show)\n"
        + yaml.safe_dump(settings, sort_keys=False, default_flow_style=None, width=100)
    )
    return Outcome(0, text.rstrip("\n").splitlines(), {"command": "config show", "settings": settings})


def _differences(default: Any, given: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """The settings whose values differ, by their dotted names, in the defaults' order."""
    if isinstance(default, dict) and isinstance(given, dict):
        out = []
        for key in [*default, *(k for k in given if k not in default)]:
            name = f"{path}.{key}" if path else str(key)
            out += _differences(default.get(key), given.get(key), name)
        return out
    return [] if default == given else [(path, default, given)]


def _check(args: argparse.Namespace) -> Outcome:
    given = _effective(args)  # a setting out of bounds or unknown: one line, exit 2 (ConfigError)
    default = requested_config(CLI).model_dump(mode="json", exclude_none=False)
    changed = _differences(default, given)
    width = max((len(name) for name, _, _ in changed), default=0)
    differ = "setting differs" if len(changed) == 1 else "settings differ"
    lines = [
        f"synth-spark: {args.file} is a valid config: {len(changed)} {differ} from the defaults",
        *(f"  {name:<{width}}  {_value(old)} -> {_value(new)}" for name, old, new in changed),
    ]
    return Outcome(
        0,
        lines,
        {
            "command": "config check",
            "file": str(args.file),
            "changed": {name: {"default": old, "given": new} for name, old, new in changed},
        },
    )


def _value(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("\n...").strip()
