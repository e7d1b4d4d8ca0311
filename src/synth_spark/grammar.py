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
from synth_spark.manifest import LAYOUTS
from synth_spark.grammar_parts import (
    add_format_option,
    add_output_options,
    add_partitions_option,
    add_session_options,
    add_set_option,
    typed,
)
from synth_spark.reading_grammar import add_reading_commands
from synth_spark.request import ALL_FORMATS

#: the commands that make or read a dataset, in the order --help lists them
COMMANDS = (
    "generate",
    "plan",
    "changes",
    "advance",
    "validate",
    "check",
    "verify",
    "questions",
    "metrics",
    "score",
)
#: and those that read no dataset: the settings
SETTINGS_COMMANDS = ("config",)


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
            type=typed(options.destination),
            default=None,
            metavar="DATASET",
            help="output folder (created if missing): a local path, or a Hadoop FileSystem URI "
            "such as s3a://bucket/prefix with its connector on the classpath",
        )
        p.add_argument(
            "--out", type=typed(options.destination), default=None, help=argparse.SUPPRESS
        )  # the older form of DATASET
    p.add_argument(
        "--scale",
        type=typed(options.scale),
        default=None,
        metavar="FACTOR",
        help="size factor: 1 = 500 creators, 15k patrons (default from config: 1)",
    )
    p.add_argument(
        "--seed",
        type=typed(options.seed),
        default=None,
        metavar="N",
        help="run seed (default from config: 42)",
    )
    add_format_option(p, "formats to write", None if snapshot else list(ALL_FORMATS), "all three")
    p.add_argument(
        "--config",
        "--conf",
        dest="config",
        type=typed(options.conf_file),
        default=None,
        metavar="FILE",
        help="YAML settings over the defaults ('synth-spark config show' prints them; --conf is the "
        "older name)",
    )
    add_set_option(
        p,
        "override one setting, validated like the file (repeatable), "
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
            "--truth-out",
            dest="truth_out",
            type=Path,
            default=None,
            metavar="FILE",
            help="write the ground truth to this file, outside DATASET, and leave the dataset's anomalies "
            "table empty: data without answers for a tool under test (docs/benchmark-scoring.md)",
        )
        p.add_argument(
            "--database",
            type=typed(options.database),
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
            type=typed(options.day, "--as-of"),
            default=None,
            metavar="YYYY-MM-DD",
            help=(
                "the tables as the platform's database stood at the end of that day (UTC), a day of the "
                "window"
            ),
        )
    add_session_options(p, default_master, driver_memory=True)
    add_output_options(p)


def build_parser(default_master: str | None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="synth-spark", description="Reproducible synthetic creator-economy data with PySpark."
    )
    parser.add_argument("--version", action="version", version=f"synth-spark {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS + SETTINGS_COMMANDS) + "}")
    gen = sub.add_parser("generate", help="generate the seven tables")
    add_generate_options(gen, default_master)
    dry = sub.add_parser(
        "plan",
        help="what generate with the same options would write and cost (rows, bytes, tasks, memory, "
        "time); nothing is run or written",
    )
    add_generate_options(dry, default_master)
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
        type=typed(options.destination, "--out"),
        required=False,
        default=None,
        metavar="FOLDER",
        help="where the batches go: FOLDER/changes/, never inside the snapshot (default: the folder "
        "SNAPSHOT-feed beside the snapshot)",
    )
    chg.add_argument(
        "--from",
        dest="first",
        type=typed(options.day, "--from"),
        default=None,
        metavar="YYYY-MM-DD",
        help="first day of the range (default and only choice with SNAPSHOT: the day after its day)",
    )
    chg.add_argument(
        "--to",
        dest="last",
        type=typed(options.day, "--to"),
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
        type=typed(options.dataset_folder),
        metavar="DATASET",
        help="a folder written by 'synth-spark generate --as-of DAY --format delta'",
    )
    adv.add_argument(
        "--to",
        type=typed(options.day, "--to"),
        required=True,
        metavar="YYYY-MM-DD",
        help="the last day to merge, after the snapshot's day",
    )
    add_partitions_option(adv, "Spark tasks for the simulation (default: the snapshot's)")
    # no --remote: the merge commits each day's tables from the driver's side, through its own file system
    add_session_options(adv, default_master, remote=False, driver_memory=True)
    add_output_options(adv)
    add_reading_commands(sub, default_master)
    _add_config_command(sub)
    return parser


def _add_config_command(sub) -> None:
    cfg = sub.add_parser("config", help="the settings: print the defaults, or check a settings file")
    actions = cfg.add_subparsers(dest="action", metavar="{show,check}", required=True)
    show = actions.add_parser(
        "show",
        help="the default settings with their comments, as YAML to save and edit (with --set, --scale "
        "or --seed: the settings a run would use)",
    )
    check = actions.add_parser(
        "check", help="validate a settings file as generate would, and list what it changes"
    )
    check.add_argument(
        "file", type=typed(options.conf_file, "FILE"), metavar="FILE", help="a YAML settings file"
    )
    for p in (show, check):
        p.add_argument(
            "--scale", type=typed(options.scale), default=None, metavar="FACTOR", help="size factor"
        )
        p.add_argument("--seed", type=typed(options.seed), default=None, metavar="N", help="run seed")
        add_set_option(p, "override one setting (repeatable)")
        add_output_options(p)
