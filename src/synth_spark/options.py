"""The values a command may be given, each checked and bounded before any work: one checker per
field that returns the value or raises ``ConfigError`` with one line naming the field as the caller
spells it (``--seed`` on the command line, ``seed`` in the library) and what is allowed. A checker
takes the command line's text or the library's typed value (an int seed, a list of formats), so a
rule and its message exist once; ``grammar.py`` hands them to argparse."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from pathlib import Path

from synth_spark.config import MAX_SCALE, ConfigError
from synth_spark.config.yaml_file import MAX_DEPTH, parse_yaml
from synth_spark.failures import quoted
from synth_spark.manifest import FORMATS, Format
from synth_spark.publish.storage import location
from synth_spark.runtime.data_settings import DATA_SETTINGS

_MASTER = re.compile(
    r"^(local(\[(\*|[1-9][0-9]{0,3})(,[0-9]{1,3})?\])?|local-cluster\[[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*\]"
    r"|spark://[A-Za-z0-9.\-]+:[0-9]{1,5}(,[A-Za-z0-9.\-]+:[0-9]{1,5})*|yarn|k8s://\S+)$"
)
_MEMORY = re.compile(r"^([1-9][0-9]{0,6})([kmgt])b?$", re.IGNORECASE)
_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def scale(value: str | float, name: str = "--scale") -> float:
    text = _text(value)
    try:  # float() also reads "1_0" as 10 (a typo, not a number) and the digits of every script
        factor = float(text) if "_" not in text and text.isascii() and not isinstance(value, bool) else None
    except ValueError:
        factor = None
    if factor is None:
        raise ConfigError(
            f"{name}: {quoted(text)} is not a number; give a positive factor such as 0.1, 1 or 10"
        )
    if not 0 < factor <= MAX_SCALE:
        raise ConfigError(
            f"{name}: {quoted(text)} is not allowed; give a factor above 0 and up to {MAX_SCALE:,}"
        )
    return factor


def _whole(value: str | int, name: str, allowed: str) -> int:
    """A whole number given as digits or as an int (not a bool, not a float that happens to be whole)."""
    text = _text(value)
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,19}", text.strip()):
        raise ConfigError(f"{name}: {quoted(text)} is not a whole number; give {allowed}")
    return int(text)


def positive_int(value: str | int, name: str, most: int) -> int:
    number = _whole(value, name, f"1 to {most:,}")
    if not 1 <= number <= most:
        raise ConfigError(f"{name}: {number} is not allowed; give 1 to {most:,}")
    return number


def count(value: str | int, name: str, most: int) -> int:
    """A whole number from 0 to ``most``."""
    number = _whole(value, name, f"0 to {most:,}")
    if number > most:
        raise ConfigError(f"{name}: {number} is not allowed; give 0 to {most:,}")
    return number


def choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name}: {quoted(_text(value))} is not allowed; give one of {', '.join(allowed)}")
    return value


def seed(value: str | int, name: str = "--seed") -> int:
    number = _whole(value, name, "0 to 2**63-1")
    if not 0 <= number < 2**63:
        raise ConfigError(f"{name}: {number} is not allowed; give 0 to 2**63-1")
    return number


def day(value: str | dt.date, name: str) -> dt.date:
    """A calendar day, YYYY-MM-DD (checked against the window once the config is known: in_window)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = _text(value)
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
            raise ValueError
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{name}: {quoted(text)} is not a day; give YYYY-MM-DD, e.g. 2024-11-30") from None


def in_window(name: str, value, window) -> None:
    """Refuse a day outside the config's window (one line naming the option and the window)."""
    last = window.end - dt.timedelta(days=1)
    if not window.start <= value <= last:
        raise ConfigError(
            f"{name}: {value.isoformat()} is outside the window; give a day from "
            f"{window.start.isoformat()} to {last.isoformat()}"
        )


def within_creators(name: str, partitions: int, cfg) -> None:
    """Refuse more simulation tasks than there are creators to spread over them."""
    if partitions > cfg.n_creators:
        raise ConfigError(
            f"{name}: {partitions:,} is more than the {cfg.n_creators:,} creators to spread over "
            f"tasks; give 1 to {cfg.n_creators:,}"
        )


def master(text: str, name: str = "--master") -> str:
    if not _MASTER.match(text):
        raise ConfigError(
            f"{name}: {quoted(text)} is not a Spark master; give local[*], local[N], "
            "spark://HOST:PORT, yarn or k8s://URL"
        )
    return text


_REMOTE = re.compile(r"^sc://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?(;[A-Za-z0-9_\-]+=[^;\s]*)*$")


def remote(text: str, name: str = "--remote") -> str:
    """A Spark Connect endpoint: sc://HOST[:PORT][/;key=value...]."""
    if not _REMOTE.match(text.strip()):
        raise ConfigError(
            f"{name}: {quoted(text)} is not a Spark Connect address; give sc://HOST:PORT, "
            "e.g. sc://localhost:15002"
        )
    return text.strip()


_NAME_PART = r"[A-Za-z0-9_]{1,128}"
_DATABASE = re.compile(rf"^{_NAME_PART}(\.{_NAME_PART})?$")


def database(value: str, name: str = "--database") -> str:
    """A schema of the session's catalog, or CATALOG.SCHEMA; letters, digits and _."""
    text = _text(value)
    if not _DATABASE.match(text.strip()):
        raise ConfigError(
            f"{name}: {quoted(text)} is not a database name; give NAME or CATALOG.NAME, each "
            "of letters, digits and _ (e.g. synth or spark_catalog.synth)"
        )
    return text.strip()


def memory(text: str, name: str = "--driver-memory") -> str:
    m = _MEMORY.match(text.strip())
    if not m or int(m.group(1)) * _MIB[m.group(2).lower()] < 512:
        raise ConfigError(
            f"{name}: {quoted(text)} is not allowed; give a size of 512m or more, such as 2g or 8g"
        )
    return text.strip().lower()


def destination(value: str | Path, name: str = "DATASET") -> Path | str:
    """Where a dataset is written: a URI as it is, a local path made absolute (Hadoop would read
    ``a:b`` as a scheme)."""
    text = _text(value)
    if not text.strip():
        raise ConfigError(f"{name}: an empty path is not allowed; give a folder, e.g. out/1x")
    if text != text.strip() or any(not c.isprintable() for c in text):
        raise ConfigError(
            f"{name}: {quoted(text)} has surrounding spaces or control characters; give a plain path"
        )
    where = location(text)
    if isinstance(where, str):
        return where
    if where.is_symlink() and not where.exists():
        raise ConfigError(f"{name}: {quoted(text)} is a symbolic link to nothing; give a folder")
    return Path(os.path.abspath(where))


def dataset(value: str | Path, name: str = "DATASET") -> Path | str:
    """A dataset to read (validate, check, verify, advance): a local path or a URI; never empty,
    which would mean the current folder."""
    text = _text(value)
    if not text.strip():
        raise ConfigError(f"{name}: an empty path is not allowed; give the dataset's folder, e.g. out/1x")
    return location(text)


def dataset_folder(value: str | Path, name: str = "DATASET") -> Path:
    """A dataset to read from a local folder (advance, validate, check)."""
    where = dataset(value, name)
    return where if isinstance(where, Path) else Path(where)


def folder(value: str | Path, name: str) -> Path:
    """A folder that synth-spark writes into (--report, --work-dir), created if missing: refused
    when empty, or when it or the nearest existing folder above it is a file."""
    text = _text(value)
    if not text.strip():
        raise ConfigError(f"{name}: an empty path is not allowed; give a folder")
    path = Path(text)
    existing = path if path.exists() else next((p for p in path.parents if p.exists()), Path("/"))
    if not existing.is_dir():
        where = "" if existing == path else f" (its part {quoted(str(existing))})"
        raise ConfigError(f"{name}: {quoted(text)} is a file{where}; give a folder (created if missing)")
    return path


def conf_file(value: str | Path, name: str = "--config") -> Path:
    text = _text(value)
    if not text.strip():
        raise ConfigError(f"{name}: an empty path is not allowed; give a YAML file")
    return Path(text)


def formats(value: str | Iterable[str], name: str = "--format") -> list[Format]:
    """A comma list (or the library's list), read once into formats (repeats dropped, the order kept)."""
    text = value if isinstance(value, str) else ",".join(str(f) for f in value)
    items = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise ConfigError(
            f"{name}: {quoted(bad[0] if bad else text)} is not a format; allowed: a comma list of "
            f"{', '.join(FORMATS)}"
        )
    return [Format(f) for f in dict.fromkeys(items)]


_KEY_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def setting(text: str) -> dict:
    """``--set a.b.c=VALUE``: one config setting as the nested mapping a YAML file would hold; the
    value is read as YAML (``false``, ``0.2``, ``[1, 2]``) within a config file's bounds, then
    validated with the whole config."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not _KEY_PATH.match(key):
        raise ConfigError(
            f"--set: {quoted(text)} is not KEY.PATH=VALUE; e.g. --set anomalies.holiday_churn.enabled=false"
        )
    parts = key.split(".")
    if len(parts) > MAX_DEPTH:
        raise ConfigError(
            f"--set: {quoted(key)} names {len(parts):,} levels; settings nest at most {MAX_DEPTH}"
        )
    parsed = parse_yaml(value, f"--set: the value of {quoted(key)}") if value.strip() else None
    if parsed is None:
        raise ConfigError(f"--set: {quoted(key)} has no value; give KEY.PATH=VALUE")
    nested: object = parsed
    for part in reversed(parts):
        nested = {part: nested}
    return nested  # type: ignore[return-value]


def spark_setting(text: str) -> tuple[str, str]:
    """``--spark-conf spark.key=value``: one Spark setting for the session; one the written values
    depend on (DATA_SETTINGS) only at synth-spark's own value."""
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"spark\.[A-Za-z0-9_.\-]+", key.strip()) or not value.strip():
        raise ConfigError(
            f"--spark-conf: {text!r} is not spark.KEY=VALUE; e.g. --spark-conf "
            "spark.sql.shuffle.partitions=64"
        )
    fixed = DATA_SETTINGS.get(key.strip())
    if fixed is not None and value.strip().upper() != fixed.upper():
        raise ConfigError(
            f"--spark-conf: {key.strip()} is fixed at {fixed} (the dataset's values depend "
            f"on it); leave it out"
        )
    return key.strip(), value.strip()
