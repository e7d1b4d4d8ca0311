"""What a command is asked to do, settled once from the fields its caller gives. The command line
and the library build the same requests from the same fields, so each rule, and its message,
exists once; only the spelling of a field in a refusal differs (``--seed`` on the command line,
``seed`` in the library: ``Names``). A request is frozen: what it holds has been checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth_spark import options
from synth_spark.config import Config, ConfigError, given_once, load_config
from synth_spark.manifest import LAYOUTS, MAX_PARTITIONS, Format
from synth_spark.simulation.plan import refuse_unplannable
from synth_spark.vocabulary import ANOMALY_TYPES

#: the most instances ``--scenarios`` places, and the difficulties it places them at
MAX_PLACED = 1000
DIFFICULTIES = ("easy", "medium", "hard", "mixed")


@dataclass(frozen=True)
class Names:
    """How a caller spells the fields in a refusal: ``style`` "option" (``--as-of``) or "argument"
    (``as_of``), with the fields whose name differs from that rule."""

    style: str
    other: Mapping[str, str]

    def __call__(self, field: str) -> str:
        if field in self.other:
            return self.other[field]
        return f"--{field.replace('_', '-')}" if self.style == "option" else field


#: what a run writes when no format is named, in the order it writes them
ALL_FORMATS = (Format.PARQUET, Format.CSV, Format.DELTA)

CLI = Names(
    "option",
    {
        "dataset": "DATASET",
        "snapshot": "SNAPSHOT",
        "formats": "--format",
        "settings": "--set",
        "anomalies": "--no-anomalies",
        "first": "--from",
    },
)
LIBRARY = Names("argument", {"dataset": "path"})


def _merged(base: dict, more: Mapping) -> dict:
    out = dict(base)
    for key, value in more.items():
        out[key] = (
            _merged(out[key], value)
            if isinstance(value, Mapping) and isinstance(out.get(key), dict)
            else value
        )
    return out


def requested_config(
    names: Names,
    *,
    scale: Any = None,
    seed: Any = None,
    config: Any = None,
    settings: Iterable[Mapping] = (),
    anomalies: bool = True,
    scenarios: Any = None,
    difficulty: Any = None,
    data_incidents: Any = None,
    decoys: Any = None,
) -> Config:
    """The config the fields ask for: the defaults, a YAML file, settings over it (each a nested
    mapping, the later winning), all anomalies off for a control run, then scale, seed and the
    placed scenarios (how many, how hard), which a setting may not also give."""
    if isinstance(config, Config):
        if (
            scale is not None
            or seed is not None
            or list(settings)
            or not anomalies
            or scenarios
            or difficulty
            or data_incidents
            or decoys
        ):
            raise ConfigError(
                f"{names('config')}: a Config object is complete; give scale, seed and settings "
                "in it, or give a YAML file instead"
            )
        return config
    overrides: dict = (
        {}
        if anomalies
        else {
            "anomalies": {name: {"enabled": False} for name in ANOMALY_TYPES},
            "scenarios": {"instances": [], "placed": 0, "decoys": False},
        }
    )
    for setting in settings:
        overrides = _merged(overrides, setting)
    placing = {}
    if scenarios is not None:
        placing["placed"] = options.count(scenarios, names("scenarios"), MAX_PLACED)
    if difficulty is not None:
        placing["difficulty"] = options.choice(difficulty, names("difficulty"), DIFFICULTIES)
    for key, value in (("data_incidents", data_incidents), ("decoys", decoys)):
        if value is not None and value is not False:
            if value is not True:
                raise ConfigError(f"{names(key)}: {value!r} is not allowed; give True or False")
            placing[key] = True
    for key in placing:
        if key in overrides.get("scenarios", {}):
            raise ConfigError(
                f"{names('scenarios' if key == 'placed' else key)}: also given as scenarios.{key} in the "
                "settings; give it once"
            )
    if placing and anomalies:
        overrides = _merged(overrides, {"scenarios": placing})
    named = {
        "scale": None if scale is None else options.scale(scale, names("scale")),
        "seed": None if seed is None else options.seed(seed, names("seed")),
    }
    path = None if config is None else options.conf_file(config, names("config"))
    return load_config(path, names("config"), **given_once(overrides, named, names("{}")))


@dataclass(frozen=True)
class DataRequest:
    """Which data: the config, the simulation's tasks (None: chosen by the session's cores) and the
    day the tables are shown as of (None: the whole window)."""

    cfg: Config
    partitions: int | None = None
    as_of: dt.date | None = None

    @classmethod
    def make(
        cls, names: Names, *, partitions: Any = None, as_of: Any = None, **config_fields: Any
    ) -> DataRequest:
        cfg = requested_config(names, **config_fields)
        if partitions is not None:
            partitions = options.positive_int(partitions, names("partitions"), MAX_PARTITIONS)
            options.within_creators(names("partitions"), partitions, cfg)
        if as_of is not None:
            as_of = options.day(as_of, names("as_of"))
            options.in_window(names("as_of"), as_of, cfg.window)
            if cfg.scenarios.data_incidents:
                raise ConfigError(
                    f"{names('as_of')}: a snapshot is the platform's own database, which data incidents "
                    "(faults of the copy into a warehouse) do not reach; leave scenarios.data_incidents "
                    "off, or generate the whole window"
                )
        refuse_unplannable(cfg)
        return cls(cfg, partitions, as_of)


def _database_or_folder(names: Names, dataset: Any, database: Any, both: str, neither: str) -> str | None:
    """A dataset is a database of the catalog or a folder, one of the two: the database's checked
    name, or None for a folder; ``both`` and ``neither`` end the refusals."""
    if database is not None:
        name = options.database(database, names("database"))
        if dataset is not None:
            raise ConfigError(f"{names('database')}: {name} and the folder {str(dataset)!r} {both}; give one")
        return name
    if dataset is None:
        raise ConfigError(f"{names('dataset')}: {neither}, e.g. out/1x")
    return None


@dataclass(frozen=True)
class WriteRequest:
    """Where a dataset goes: a folder (a local path or a URI) or a database of the catalog, one of
    the two; the formats (a database holds Delta tables only), the large tables' layout and whether
    a dataset already there may be replaced."""

    formats: tuple[Format, ...]
    folder: Path | str | None = None
    database: str | None = None
    layout: str = "tasks"
    overwrite: bool = False

    @classmethod
    def make(
        cls,
        names: Names,
        *,
        dataset: Any = None,
        database: Any = None,
        formats: Any = None,
        layout: str = "tasks",
        overwrite: bool = False,
    ) -> WriteRequest:
        if layout not in LAYOUTS:
            raise ConfigError(f"{names('layout')}: {layout!r} is not a layout; give {' or '.join(LAYOUTS)}")
        chosen = None if formats is None else options.formats(formats, names("formats"))
        name = _database_or_folder(
            names,
            dataset,
            database,
            "both say where the dataset goes",
            "give the output folder (or a database)",
        )
        if name is not None:
            if chosen is not None and chosen != [Format.DELTA]:
                raise ConfigError(
                    f"{names('formats')}: {','.join(chosen)} with {names('database')}; catalog tables "
                    f"are Delta tables: leave {names('formats')} out or give delta"
                )
            return cls((Format.DELTA,), None, name, layout, overwrite)
        folder = options.destination(dataset, names("dataset"))
        return cls(tuple(chosen or ALL_FORMATS), folder, None, layout, overwrite)


@dataclass(frozen=True)
class ReadRequest:
    """Which dataset a command reads (verify, validate, check): a folder (a local path, or for
    verify a URI too) or a database of the catalog, one of the two; and the formats asked for
    (None: the command's own default)."""

    folder: Path | str | None = None
    database: str | None = None
    formats: tuple[Format, ...] | None = None

    @classmethod
    def make(
        cls,
        names: Names,
        *,
        dataset: Any = None,
        database: Any = None,
        formats: Any = None,
        local: bool = False,
    ) -> ReadRequest:
        chosen = None if formats is None else tuple(options.formats(formats, names("formats")))
        name = _database_or_folder(
            names,
            dataset,
            database,
            "both name the dataset",
            f"give the dataset's folder (or {names('database')} NAME)",
        )
        if name is not None:
            return cls(None, name, chosen)
        read = options.dataset_folder if local else options.dataset
        return cls(read(dataset, names("dataset")), None, chosen)
