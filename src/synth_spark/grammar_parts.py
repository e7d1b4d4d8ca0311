"""The parts the command line's grammar is built from: an option checker as argparse's type, and
the options several commands share (where Spark runs, what they print, formats, tasks, a dataset
to read)."""

from __future__ import annotations

import argparse

from synth_spark import options
from synth_spark.config import ConfigError
from synth_spark.manifest import MAX_PARTITIONS


def typed(check, name: str | None = None, **bounds):
    """A checker of ``options.py`` as argparse's type, its one-line refusal kept as it is (argparse
    would turn a ValueError into "invalid value")."""

    def parse(text: str):
        try:
            return check(text) if name is None else check(text, name, **bounds)
        except ConfigError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = check.__name__  # argparse names the type in some messages
    return parse


def add_format_option(
    p: argparse.ArgumentParser, what: str, default: list[str] | None, default_text: str
) -> None:
    """``--format``: a comma list wherever it appears."""
    p.add_argument(
        "--format",
        dest="formats",
        type=typed(options.formats),
        default=default,
        metavar="FORMATS",
        help=f"{what}: a comma list of parquet, csv, delta (default: {default_text})",
    )


def add_partitions_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument(
        "--partitions",
        type=typed(options.positive_int, "--partitions", most=MAX_PARTITIONS),
        default=None,
        metavar="N",
        help=help_text,
    )


def reading_command(
    sub, name: str, help_text: str, dataset_type, dataset_help: str
) -> argparse.ArgumentParser:
    """A command that reads a dataset: its folder as the argument, or a database of the catalog."""
    p = sub.add_parser(name, help=help_text)
    p.add_argument("dataset", type=typed(dataset_type), nargs="?", metavar="DATASET", help=dataset_help)
    p.add_argument(
        "--database",
        type=typed(options.database),
        default=None,
        metavar="NAME",
        help="read the dataset from this database of the session's catalog instead of a folder",
    )
    return p


def add_session_options(
    p: argparse.ArgumentParser, default_master: str | None, remote: bool = True, driver_memory: bool = False
) -> None:
    """Where Spark runs and how its session is set, for every command that starts one."""
    p.add_argument(
        "--master",
        type=typed(options.master),
        default=default_master,
        metavar="URL",
        help=f"Spark master (default: {default_master or 'as spark-submit sets it'})",
    )
    if remote:
        p.add_argument(
            "--remote",
            type=typed(options.remote),
            default=None,
            metavar="sc://HOST:PORT",
            help="run on a Spark Connect server instead of --master (default: $SPARK_REMOTE when set)",
        )
    if driver_memory:
        p.add_argument(
            "--driver-memory",
            type=typed(options.memory),
            default=None,
            metavar="SIZE",
            help="driver JVM memory in local mode, e.g. 8g",
        )
    p.add_argument(
        "--spark-conf",
        dest="spark_conf",
        type=typed(options.spark_setting),
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting for the session, e.g. the metastore's (repeatable)",
    )


def add_output_options(p: argparse.ArgumentParser) -> None:
    """What every command prints: progress on standard error, the result on standard output."""
    p.add_argument("--quiet", action="store_true", help="no progress lines: print only the result")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON document on standard output (rows, checksums, verdicts, paths)",
    )


def add_set_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--set KEY.PATH=VALUE``: one setting over the config, repeatable, validated with it."""
    p.add_argument(
        "--set",
        dest="settings",
        type=typed(options.setting),
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help=help_text,
    )
