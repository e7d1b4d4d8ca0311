"""The values a command line may give, each checked and bounded before any work: a parser per
option that returns the value or raises ``argparse.ArgumentTypeError`` with one line naming the
option and what is allowed."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
from pathlib import Path

import yaml

from synth_spark.config import MAX_SCALE, ConfigError
from synth_spark.manifest import FORMATS
from synth_spark.publish.storage import location

#: the most tasks one run may ask for: past this, Spark spends its time starting tasks
MAX_PARTITIONS = 10_000
#: the files of the large tables: a file per generation task, or each covering its own stretch of time
#: (job/layout.py); here, so that the command line checks --layout without importing PySpark
LAYOUTS = ("tasks", "time")
_MASTER = re.compile(r"^(local(\[(\*|[1-9][0-9]{0,3})(,[0-9]{1,3})?\])?|local-cluster\[[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*\]"
                     r"|spark://[A-Za-z0-9.\-]+:[0-9]{1,5}(,[A-Za-z0-9.\-]+:[0-9]{1,5})*|yarn|k8s://\S+)$")
_MEMORY = re.compile(r"^([1-9][0-9]{0,6})([kmgt])b?$", re.IGNORECASE)
_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def scale(text: str) -> float:
    try:  # float() also reads "1_0" as 10: a typo, not a number
        value = float(text) if "_" not in text else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"--scale: {text!r} is not a number; give a positive factor such as 0.1, 1 or 10")
    if not 0 < value <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"--scale: {text!r} is not allowed; give a factor above 0 and up to {MAX_SCALE:,}")
    return value


def positive_int(name: str, most: int):
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,12}", text.strip()):
            raise argparse.ArgumentTypeError(f"{name}: {text!r} is not a whole number; give 1 to {most:,}")
        value = int(text)
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"{name}: {value} is not allowed; give 1 to {most:,}")
        return value
    return parse


def seed(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,19}", text.strip()):
        raise argparse.ArgumentTypeError(f"--seed: {text!r} is not a whole number; give 0 to 2**63-1")
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
            raise argparse.ArgumentTypeError(f"{name}: {text!r} is not a day; give YYYY-MM-DD, e.g. 2024-11-30") from None
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
        raise argparse.ArgumentTypeError(f"--master: {text!r} is not a Spark master; give local[*], local[N], "
                                         "spark://HOST:PORT, yarn or k8s://URL")
    return text


_REMOTE = re.compile(r"^sc://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?(;[A-Za-z0-9_\-]+=[^;\s]*)*$")


def remote(text: str) -> str:
    """A Spark Connect endpoint: sc://HOST[:PORT][/;key=value...]."""
    if not _REMOTE.match(text.strip()):
        raise argparse.ArgumentTypeError(f"--remote: {text!r} is not a Spark Connect address; give sc://HOST:PORT, "
                                         "e.g. sc://localhost:15002")
    return text.strip()


_NAME_PART = r"[A-Za-z0-9_]{1,128}"
_DATABASE = re.compile(rf"^{_NAME_PART}(\.{_NAME_PART})?$")


def database(text: str) -> str:
    """``--database``: a schema of the session's catalog, or CATALOG.SCHEMA; letters, digits and _."""
    if not _DATABASE.match(text.strip()):
        raise argparse.ArgumentTypeError(f"--database: {text!r} is not a database name; give NAME or CATALOG.NAME, each "
                                         "of letters, digits and _ (e.g. synth or spark_catalog.synth)")
    return text.strip()


def memory(text: str) -> str:
    m = _MEMORY.match(text.strip())
    if not m or int(m.group(1)) * _MIB[m.group(2).lower()] < 512:
        raise argparse.ArgumentTypeError(f"--driver-memory: {text!r} is not allowed; give a size of 512m or more, "
                                         "such as 2g or 8g")
    return text.strip().lower()


def out(text: str) -> Path | str:
    """``--out``: a URI as it is, a local path made absolute (Hadoop would read ``a:b`` as a scheme)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("DATASET: an empty path is not allowed; give a folder, e.g. out/1x")
    if text != text.strip() or any(not c.isprintable() for c in text):
        raise argparse.ArgumentTypeError(f"DATASET: {text!r} has surrounding spaces or control characters; give a plain path")
    where = location(text)
    if isinstance(where, str):
        return where
    if where.is_symlink() and not where.exists():
        raise argparse.ArgumentTypeError(f"DATASET: {text!r} is a symbolic link to nothing; give a folder")
    return Path(os.path.abspath(where))


def conf_file(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("--config: an empty path is not allowed; give a YAML file")
    return Path(text)


def formats(text: str) -> list[str]:
    items = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"--format: {bad[0] if bad else text!r} is not a format; allowed: a comma list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(items))


_KEY_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def setting(text: str) -> dict:
    """``--set a.b.c=VALUE``: one config setting as the nested mapping a YAML file would hold; the
    value is read as YAML (``false``, ``0.2``, ``[1, 2]``), then validated with the whole config."""
    key, sep, value = text.partition("=")
    if not sep or not _KEY_PATH.match(key.strip()):
        raise argparse.ArgumentTypeError(f"--set: {text!r} is not KEY.PATH=VALUE; e.g. --set anomalies.holiday_churn.enabled=false")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"--set: the value of {key.strip()!r} is not a YAML value: {value!r}") from None
    if parsed is None:
        raise argparse.ArgumentTypeError(f"--set: {key.strip()!r} has no value; e.g. --set {key.strip()}=VALUE")
    nested: object = parsed
    for part in reversed(key.strip().split(".")):
        nested = {part: nested}
    return nested  # type: ignore[return-value]


#: the session settings the written values depend on, fixed for every run (job/session.py): a
#: dataset's timestamps are UTC instants in microseconds whatever a session would make of them
DATA_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_LTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
}


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
