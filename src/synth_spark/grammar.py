"""The command line's grammar: every command with its arguments and options, each value checked as
it is parsed (``options.py``), and a mistyped command or option answered in one line naming the
nearest valid one. ``cli.py`` settles what the options mean together and runs the command."""

from __future__ import annotations

import argparse
import difflib
import re
from pathlib import Path

from synth_spark import __version__, options
from synth_spark.config import ConfigError
from synth_spark.failures import quoted, shortened
from synth_spark.manifest import LAYOUTS, MAX_PARTITIONS
from synth_spark.request import ALL_FORMATS

#: the commands, in the order --help lists them
COMMANDS = ("generate", "changes", "advance", "validate", "check", "verify")


class _Parser(argparse.ArgumentParser):
    """argparse, answering in one line (exit 2, no usage dump, long values cut short) and naming the
    nearest command or option to one mistyped."""

    def error(self, message: str) -> None:
        wrong = re.match(r"argument \{\S+: invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if wrong:
            commands = re.findall(r"'([^']*)'", wrong.group(2))
            raise ConfigError(
                f"{quoted(wrong.group(1))} is not a command{_nearest(wrong.group(1), commands)}; "
                f"give one of {', '.join(commands)}"
            )
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown:
            given = unknown.group(1)
            known = self._options_of(self._command)
            name = given.split("=", 1)[0]
            what = "an option" if name.startswith("-") else "an argument"
            of = f" of {self._command}" if self._command else ""
            raise ConfigError(
                f"{quoted(shortened(given))} is not {what}{of}{_nearest(name, known)}; "
                f"'synth-spark {self._command or ''} --help' lists them".replace("  ", " ")
            )
        raise ConfigError(
            re.sub(r"^argument [^:]+: (?=--|[A-Z]+: )", "", shortened(message))
        )  # ours name the option

    _command: str | None = None

    def parse_args(self, args=None, namespace=None):
        self._command = next((a for a in (args or []) if not a.startswith("-")), None)
        return super().parse_args(args, namespace)

    def _options_of(self, command: str | None) -> list[str]:
        parsers = [self]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and command in action.choices:
                parsers = [action.choices[command]]
        return [
            o for p in parsers for a in p._actions for o in a.option_strings if a.help != argparse.SUPPRESS
        ]


def _typed(check, name: str | None = None, **bounds):
    """A checker of ``options.py`` as argparse's type, its one-line refusal kept as it is (argparse
    would turn a ValueError into "invalid value")."""

    def parse(text: str):
        try:
            return check(text) if name is None else check(text, name, **bounds)
        except ConfigError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = check.__name__  # argparse names the type in some messages
    return parse


def _nearest(given: str, known: list[str]) -> str:
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def add_generate_options(
    p: argparse.ArgumentParser, default_master: str | None, snapshot: bool = True
) -> None:
    if snapshot:
        p.add_argument(
            "dataset",
            nargs="?",
            type=_typed(options.destination),
            default=None,
            metavar="DATASET",
            help="output folder (created if missing): a local path, or a Hadoop FileSystem URI "
            "such as s3a://bucket/prefix with its connector on the classpath",
        )
        p.add_argument(
            "--out", type=_typed(options.destination), default=None, help=argparse.SUPPRESS
        )  # the older form of DATASET
    p.add_argument(
        "--scale",
        type=_typed(options.scale),
        default=None,
        metavar="FACTOR",
        help="size factor: 1 = 500 creators, 15k patrons (default from config: 1)",
    )
    p.add_argument(
        "--seed",
        type=_typed(options.seed),
        default=None,
        metavar="N",
        help="run seed (default from config: 42)",
    )
    add_format_option(p, "formats to write", None if snapshot else list(ALL_FORMATS), "all three")
    p.add_argument(
        "--config",
        "--conf",
        dest="config",
        type=_typed(options.conf_file),
        default=None,
        metavar="FILE",
        help="YAML settings over conf/default.yaml (--conf is the older name)",
    )
    p.add_argument(
        "--set",
        dest="settings",
        type=_typed(options.setting),
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override one setting, validated like the file (repeatable), "
        "e.g. anomalies.holiday_churn.enabled=false",
    )
    add_partitions_option(
        p,
        "Spark tasks (and files per table) for the simulation; the output is the same for any "
        "value (default: about 4M rows per task, at least 2 per core when there is work for them)",
    )
    p.add_argument(
        "--no-anomalies",
        action="store_true",
        help="turn every injected anomaly off, the five and any scenario instances (a control run for "
        "the same seed)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace the synth-spark dataset already in DATASET"
    )
    if snapshot:
        p.add_argument(
            "--scenarios",
            default=None,
            metavar="N",
            help="place N more scenario instances of the catalogue, drawn from the run seed "
            "(docs/anomalies.md; default from config: 0)",
        )
        p.add_argument(
            "--difficulty",
            default=None,
            metavar="LEVEL",
            help="how hard the placed instances are to find: easy, medium, hard or mixed (default from "
            "config: mixed)",
        )
        p.add_argument(
            "--data-incidents",
            action="store_true",
            default=None,
            help="allow the catalogue's data incidents (a day of events lost, transactions loaded twice, "
            "amounts in cents): they break the data contract on purpose; placement then draws them too",
        )
        p.add_argument(
            "--decoys",
            action="store_true",
            default=None,
            help="list labelled non-incidents in the ground truth (the yearly seasons, creators' organic "
            "spurts), which a root-cause tool should leave alone; the data is the same",
        )
        p.add_argument(
            "--database",
            type=_typed(options.database),
            default=None,
            metavar="NAME",
            help="write Delta tables registered in the session's catalog (NAME or CATALOG.NAME) "
            "instead of a folder; docs/catalog-tables.md",
        )
        p.add_argument(
            "--layout",
            choices=LAYOUTS,
            default="tasks",
            help="files of the large tables: tasks (a file per generation task, the default) or time "
            "(each file covers its own stretch of time, for time-range queries)",
        )
        p.add_argument(
            "--as-of",
            dest="as_of",
            type=_typed(options.day, "--as-of"),
            default=None,
            metavar="YYYY-MM-DD",
            help=(
                "the tables as the platform's database stood at the end of that day (UTC), a day of the "
                "window"
            ),
        )
    add_session_options(p, default_master, driver_memory=True)
    add_output_options(p)


def add_format_option(
    p: argparse.ArgumentParser, what: str, default: list[str] | None, default_text: str
) -> None:
    """``--format``: a comma list wherever it appears."""
    p.add_argument(
        "--format",
        dest="formats",
        type=_typed(options.formats),
        default=default,
        metavar="FORMATS",
        help=f"{what}: a comma list of parquet, csv, delta (default: {default_text})",
    )


def add_partitions_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument(
        "--partitions",
        type=_typed(options.positive_int, "--partitions", most=MAX_PARTITIONS),
        default=None,
        metavar="N",
        help=help_text,
    )


def reading_command(
    sub, name: str, help_text: str, dataset_type, dataset_help: str
) -> argparse.ArgumentParser:
    """A command that reads a dataset: its folder as the argument, or a database of the catalog."""
    p = sub.add_parser(name, help=help_text)
    p.add_argument("dataset", type=_typed(dataset_type), nargs="?", metavar="DATASET", help=dataset_help)
    p.add_argument(
        "--database",
        type=_typed(options.database),
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
        type=_typed(options.master),
        default=default_master,
        metavar="URL",
        help=f"Spark master (default: {default_master or 'as spark-submit sets it'})",
    )
    if remote:
        p.add_argument(
            "--remote",
            type=_typed(options.remote),
            default=None,
            metavar="sc://HOST:PORT",
            help="run on a Spark Connect server instead of --master (default: $SPARK_REMOTE when set)",
        )
    if driver_memory:
        p.add_argument(
            "--driver-memory",
            type=_typed(options.memory),
            default=None,
            metavar="SIZE",
            help="driver JVM memory in local mode, e.g. 8g",
        )
    p.add_argument(
        "--spark-conf",
        dest="spark_conf",
        type=_typed(options.spark_setting),
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


def build_parser(default_master: str | None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="synth-spark", description="Reproducible synthetic creator-economy data with PySpark."
    )
    parser.add_argument("--version", action="version", version=f"synth-spark {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    gen = sub.add_parser("generate", help="generate the seven tables")
    add_generate_options(gen, default_master)
    chg = sub.add_parser(
        "changes", help="daily change batches of the days after a snapshot, to replay onto it"
    )
    chg.add_argument(
        "snapshot",
        nargs="?",
        default=None,
        metavar="SNAPSHOT",
        help="a folder written by 'synth-spark generate --as-of DAY': its seed, scale, config and day "
        "are the run's",
    )
    chg.add_argument(
        "--out",
        type=_typed(options.destination, "--out"),
        required=False,
        default=None,
        metavar="FOLDER",
        help="where the batches go: FOLDER/changes/, never inside the snapshot (default: the folder "
        "SNAPSHOT-feed beside the snapshot)",
    )
    chg.add_argument(
        "--from",
        dest="first",
        type=_typed(options.day, "--from"),
        default=None,
        metavar="YYYY-MM-DD",
        help="first day of the range (default and only choice with SNAPSHOT: the day after its day)",
    )
    chg.add_argument(
        "--to",
        dest="last",
        type=_typed(options.day, "--to"),
        required=True,
        metavar="YYYY-MM-DD",
        help="last day of the range, inclusive",
    )
    add_generate_options(chg, default_master, snapshot=False)
    adv = sub.add_parser(
        "advance", help="move a snapshot's Delta tables forward day by day (MERGE, change data feed on)"
    )
    adv.add_argument(
        "dataset",
        type=_typed(options.dataset_folder),
        metavar="DATASET",
        help="a folder written by 'synth-spark generate --as-of DAY --format delta'",
    )
    adv.add_argument(
        "--to",
        type=_typed(options.day, "--to"),
        required=True,
        metavar="YYYY-MM-DD",
        help="the last day to merge, after the snapshot's day",
    )
    add_partitions_option(adv, "Spark tasks for the simulation (default: the snapshot's)")
    # no --remote: the merge commits each day's tables from the driver's side, through its own file system
    add_session_options(adv, default_master, remote=False, driver_memory=True)
    add_output_options(adv)
    val = reading_command(
        sub,
        "validate",
        "measure every statistical target of the platform on a dataset",
        options.dataset_folder,
        "a folder written by 'synth-spark generate' (with parquet or delta)",
    )
    val.add_argument(
        "--report",
        type=_typed(options.folder, "--report"),
        default=None,
        metavar="FOLDER",
        help="report folder (default: DATASET/report, or ./report-NAME for --database NAME)",
    )
    val.add_argument(
        "--control",
        type=Path,
        default=None,
        metavar="DATASET",
        help="a control run (same seed, generated with --no-anomalies): must show no anomaly signal",
    )
    add_session_options(val, default_master)
    add_output_options(val)
    chk = reading_command(
        sub,
        "check",
        "run the platform's data-quality rules (dbt tests) on a dataset's files",
        options.dataset_folder,
        "a folder written by 'synth-spark generate'",
    )
    add_format_option(
        chk, "files to check, one format after the other", None, "parquet; delta for --database"
    )
    chk.add_argument(
        "--select",
        default=None,
        metavar="SELECTOR",
        help="dbt selection of the tests to run, e.g. 'source:synth.pledges' (default: all)",
    )
    chk.add_argument(
        "--work-dir",
        type=_typed(options.folder, "--work-dir"),
        default=None,
        metavar="FOLDER",
        help="keep dbt's target (compiled SQL, run_results.json) and logs here (default: a temporary folder)",
    )
    # a session starts only for --database (DuckDB reads files): catalog tables are not read over Spark
    # Connect
    add_session_options(chk, default_master, remote=False)
    add_output_options(chk)
    ver = reading_command(
        sub,
        "verify",
        "re-read a dataset and compare its row counts and checksums with its manifest",
        options.dataset,
        "a folder written by 'synth-spark generate', or its Hadoop FileSystem URI (s3a://...)",
    )
    add_format_option(ver, "formats to verify", None, "every format the dataset holds")
    add_session_options(ver, default_master)
    add_output_options(ver)
    return parser
