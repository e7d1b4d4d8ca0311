"""Loading a run's settings: the default config, a user's YAML file over it, command-line values
over that, validated into :class:`~synth_spark.config.settings.Config`; every failure one line
naming the setting and what is allowed."""

from __future__ import annotations

import datetime as dt
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from synth_spark.config.settings import Config
from synth_spark.config.yaml_file import read_yaml
from synth_spark.failures import ConfigError, quoted

#: conf/default.yaml, reached through the package (a link to it) so that it travels with the
#: package in a wheel or a --py-files zip
DEFAULT_CONFIG = resources.files("synth_spark.config") / "default.yaml"


def _deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _model_in(tp: Any) -> type[BaseModel] | None:
    """The settings model a field's type holds (through Annotated, Optional, dict values, lists)."""
    while True:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return tp
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is Annotated:
            tp = args[0]
        elif origin in (typing.Union, types.UnionType):
            return next((m for m in map(_model_in, args) if m is not None), None)
        elif origin is dict:
            tp = args[1]
        elif origin in (list, tuple) and args:
            tp = args[0]
        else:
            return None


def _keys_allowed_at(loc: tuple) -> list[str] | None:
    """The setting names allowed where an unknown key ``loc`` was found."""
    model: type[BaseModel] | None = Config
    tp: Any = Config
    for part in loc[:-1]:
        model = _model_in(tp)
        if model is None:
            return None
        if isinstance(part, str) and part in model.model_fields:
            tp = model.model_fields[part].annotation
        else:  # a dict key or list index: stay on the value type
            origin = typing.get_origin(tp)
            while origin is Annotated:
                tp = typing.get_args(tp)[0]
                origin = typing.get_origin(tp)
            if origin is dict:
                tp = typing.get_args(tp)[1]
            elif origin in (list, tuple):
                tp = typing.get_args(tp)[0]
    model = _model_in(tp)
    return list(model.model_fields) if model is not None else None


def _format_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) if str(p).isprintable() else repr(p) for p in first["loc"]) or "config"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        allowed = _keys_allowed_at(tuple(first["loc"]))
        return f"config: unknown key {loc!r}" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    if not first["loc"]:  # a check across settings: its message names them
        return f"config: {msg}"
    value = first.get("input")
    if first["type"] == "missing" or isinstance(value, dict) and len(value) > 3:
        shown = ""
    else:
        shown = " (got null)" if value is None else f" (got {_short(value)})"
    return f"config: {loc}: {msg}{shown}"


def _short(value: Any, limit: int = 60) -> str:
    return value.isoformat() if isinstance(value, dt.date) else quoted(value, limit)


def load_config(path: str | Path | None = None, name: str = "--config", /, **overrides: Any) -> Config:
    """Default config, overlaid with a user's YAML file (given as ``name``), then with command-line
    overrides (any setting's name: the file and its name are positional only)."""
    data = read_yaml(DEFAULT_CONFIG)
    if path is not None:
        data = _deep_merge(data, read_yaml(Path(path), name))
    data = _deep_merge(data, {k: v for k, v in overrides.items() if v is not None})
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_error(err)) from None


def given_once(settings: dict, named: dict[str, Any], option: str = "--{}") -> dict:
    """``settings`` (from --set) with the ``named`` ones (--scale, --seed) added; a setting given
    both ways is refused rather than one silently winning."""
    out = dict(settings)
    for key, value in named.items():
        if value is None:
            continue
        if key in out:
            raise ConfigError(
                f"{option.format(key)}: {value} and the setting {key}={quoted(out[key])} both give "
                f"the {key}; give it once"
            )
        out[key] = value
    return out


#: settings an older synth-spark recorded that no longer exist: (section, key)
RETIRED = {("creators", "joined_in_window_share")}  # now joined_in_window, per size tier


def config_from_manifest(recorded: dict) -> Config:
    """The config a dataset was generated with, as its manifest records it. Settings added to
    synth-spark since then take their defaults, which leave older datasets as they were; settings
    since replaced are dropped (RETIRED)."""
    recorded = {
        k: ({kk: vv for kk, vv in v.items() if (k, kk) not in RETIRED} if isinstance(v, dict) else v)
        for k, v in recorded.items()
    }
    try:
        return Config.model_validate(_deep_merge(read_yaml(DEFAULT_CONFIG), recorded))
    except ValidationError as err:
        raise ConfigError("manifest " + _format_error(err)) from None
