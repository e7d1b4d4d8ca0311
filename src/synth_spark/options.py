"""The values a command line may give, each checked and bounded before any work: a parser per
option that returns the value or raises ``argparse.ArgumentTypeError`` with one line naming the
option and what is allowed."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
from pathlib import Path

from synth_spark.config import MAX_SCALE, ConfigError
from synth_spark.config.yaml_file import MAX_DEPTH, parse_yaml
from synth_spark.failures import quoted
from synth_spark.manifest import FORMATS, Format
from synth_spark.publish.storage import location
from synth_spark.runtime.data_settings import DATA_SETTINGS

_MASTER = re.compile(r"^(local(\[(\*|[1-9][0-9]{0,3})(,[0-9]{1,3})?\])?|local-cluster\[[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*\]"
                     r"|spark://[A-Za-z0-9.\-]+:[0-9]{1,5}(,[A-Za-z0-9.\-]+:[0-9]{1,5})*|yarn|k8s://\S+)$")
_MEMORY = re.compile(r"^([1-9][0-9]{0,6})([kmgt])b?$", re.IGNORECASE)
_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def scale(text: str) -> float:
    try:  # float() also reads "1_0" as 10 (a typo, not a number) and the digits of every script
        value = float(text) if "_" not in text and text.isascii() else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"--scale: {quoted(text)} is not a number; give a positive factor such as 0.1, 1 or 10")
    if not 0 < value <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"--scale: {quoted(text)} is not allowed; give a factor above 0 and up to {MAX_SCALE:,}")
    return value


def positive_int(name: str, most: int):
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,12}", text.strip()):
            raise argparse.ArgumentTypeError(f"{name}: {quoted(text)} is not a whole number; give 1 to {most:,}")
        value = int(text)
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"{name}: {value} is not allowed; give 1 to {most:,}")
        return value
    return parse


def seed(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,19}", text.strip()):
        raise argparse.ArgumentTypeError(f"--seed: {quoted(text)} is not a whole number; give 0 to 2**63-1")
    value = int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"--seed: {value} is not allowed; give 0 to 2**63-1")
    return value


def day(name: str):
    """A calendar day, YYYY-MM-DD (checked against the window once the config is known: in_window)."""
    def parse(text: str) -> dt.date:
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
                raise ValueError
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: {quoted(text)} is not a day; give YYYY-MM-DD, e.g. 2024-11-30") from None
    return parse


def in_window(name: str, value, window) -> None:
    """Refuse a day outside the config's window (one line naming the option and the window)."""
    last = window.end - dt.timedelta(days=1)
    if not window.start <= value <= last:
        raise ConfigError(f"{name}: {value.isoformat()} is outside the window; give a day from "
                          f"{window.start.isoformat()} to {last.isoformat()}")


def within_creators(name: str, partitions: int, cfg) -> None:
    """Refuse more simulation tasks than there are creators to spread over them."""
    if partitions > cfg.n_creators:
        raise ConfigError(f"{name}: {partitions:,} is more than the {cfg.n_creators:,} creators to spread over "
                          f"tasks; give 1 to {cfg.n_creators:,}")


def master(text: str) -> str:
    if not _MASTER.match(text):
        raise argparse.ArgumentTypeError(f"--master: {quoted(text)} is not a Spark master; give local[*], local[N], "
                                         "spark://HOST:PORT, yarn or k8s://URL")
    return text


_REMOTE = re.compile(r"^sc://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?(;[A-Za-z0-9_\-]+=[^;\s]*)*$")


def remote(text: str) -> str:
    """A Spark Connect endpoint: sc://HOST[:PORT][/;key=value...]."""
    if not _REMOTE.match(text.strip()):
        raise argparse.ArgumentTypeError(f"--remote: {quoted(text)} is not a Spark Connect address; give sc://HOST:PORT, "
                                         "e.g. sc://localhost:15002")
    return text.strip()


_NAME_PART = r"[A-Za-z0-9_]{1,128}"
_DATABASE = re.compile(rf"^{_NAME_PART}(\.{_NAME_PART})?$")


def database(text: str) -> str:
    """``--database``: a schema of the session's catalog, or CATALOG.SCHEMA; letters, digits and _."""
    if not _DATABASE.match(text.strip()):
        raise argparse.ArgumentTypeError(f"--database: {quoted(text)} is not a database name; give NAME or CATALOG.NAME, each "
                                         "of letters, digits and _ (e.g. synth or spark_catalog.synth)")
    return text.strip()


def memory(text: str) -> str:
    m = _MEMORY.match(text.strip())
    if not m or int(m.group(1)) * _MIB[m.group(2).lower()] < 512:
        raise argparse.ArgumentTypeError(f"--driver-memory: {quoted(text)} is not allowed; give a size of 512m or more, "
                                         "such as 2g or 8g")
    return text.strip().lower()


def destination(text: str) -> Path | str:
    """``--out``: a URI as it is, a local path made absolute (Hadoop would read ``a:b`` as a scheme)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("DATASET: an empty path is not allowed; give a folder, e.g. out/1x")
    if text != text.strip() or any(not c.isprintable() for c in text):
        raise argparse.ArgumentTypeError(f"DATASET: {quoted(text)} has surrounding spaces or control characters; give a plain path")
    where = location(text)
    if isinstance(where, str):
        return where
    if where.is_symlink() and not where.exists():
        raise argparse.ArgumentTypeError(f"DATASET: {quoted(text)} is a symbolic link to nothing; give a folder")
    return Path(os.path.abspath(where))


def dataset(text: str) -> Path | str:
    """A dataset to read (validate, check, verify, advance): a local path or a URI; never empty,
    which would mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("DATASET: an empty path is not allowed; give the dataset's folder, e.g. out/1x")
    return location(text)


def dataset_folder(text: str) -> Path:
    """A dataset to read from a local folder (advance, validate, check)."""
    where = dataset(text)
    return where if isinstance(where, Path) else Path(where)


def folder(name: str):
    """A folder that synth-spark writes into (--report, --work-dir), created if missing: refused
    when empty, or when it or the nearest existing folder above it is a file."""
    def parse(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{name}: an empty path is not allowed; give a folder")
        path = Path(text)
        existing = path if path.exists() else next((p for p in path.parents if p.exists()), Path("/"))
        if not existing.is_dir():
            where = "" if existing == path else f" (its part {quoted(str(existing))})"
            raise argparse.ArgumentTypeError(f"{name}: {quoted(text)} is a file{where}; give a folder (created if missing)")
        return path
    return parse


def conf_file(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("--config: an empty path is not allowed; give a YAML file")
    return Path(text)


def formats(text: str) -> list[Format]:
    """``--format``: a comma list, read once into formats (repeats dropped, the order kept)."""
    items = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"--format: {quoted(bad[0] if bad else text)} is not a format; allowed: a comma list of {', '.join(FORMATS)}")
    return [Format(f) for f in dict.fromkeys(items)]


_KEY_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def setting(text: str) -> dict:
    """``--set a.b.c=VALUE``: one config setting as the nested mapping a YAML file would hold; the
    value is read as YAML (``false``, ``0.2``, ``[1, 2]``) within a config file's bounds, then
    validated with the whole config."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not _KEY_PATH.match(key):
        raise argparse.ArgumentTypeError(f"--set: {quoted(text)} is not KEY.PATH=VALUE; e.g. --set anomalies.holiday_churn.enabled=false")
    parts = key.split(".")
    if len(parts) > MAX_DEPTH:
        raise argparse.ArgumentTypeError(f"--set: {quoted(key)} names {len(parts):,} levels; settings nest at most {MAX_DEPTH}")
    try:  # a ConfigError is a ValueError, which argparse would turn into "invalid setting value"
        parsed = parse_yaml(value, f"--set: the value of {quoted(key)}") if value.strip() else None
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if parsed is None:
        raise argparse.ArgumentTypeError(f"--set: {quoted(key)} has no value; give KEY.PATH=VALUE")
    nested: object = parsed
    for part in reversed(parts):
        nested = {part: nested}
    return nested  # type: ignore[return-value]


def spark_setting(text: str) -> tuple[str, str]:
    """``--spark-conf spark.key=value``: one Spark setting for the session; one the written values
    depend on (DATA_SETTINGS) only at synth-spark's own value."""
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"spark\.[A-Za-z0-9_.\-]+", key.strip()) or not value.strip():
        raise argparse.ArgumentTypeError(f"--spark-conf: {text!r} is not spark.KEY=VALUE; e.g. --spark-conf spark.sql.shuffle.partitions=64")
    fixed = DATA_SETTINGS.get(key.strip())
    if fixed is not None and value.strip().upper() != fixed.upper():
        raise argparse.ArgumentTypeError(f"--spark-conf: {key.strip()} is fixed at {fixed} (the dataset's values depend "
                                         f"on it); leave it out")
    return key.strip(), value.strip()
