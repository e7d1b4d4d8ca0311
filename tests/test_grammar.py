"""One grammar for every command: the dataset as the argument, --quiet and --json everywhere,
--master and --spark-conf wherever a session starts, --format a comma list wherever it appears, and
the table in docs/command-line.md is the parser's own."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from synth_spark.grammar import COMMANDS, build_parser

from .conftest import manifest_only
from .helpers import assert_refused, run_main

DOC = Path(__file__).parents[1] / "docs" / "command-line.md"
#: the commands and whether each starts a Spark session (check only with --database)
STARTS_SPARK = {
    "generate": True,
    "plan": True,  # generate's options: its --master says the cores it plans for (it starts no Spark)
    "changes": True,
    "advance": True,
    "validate": True,
    "check": True,
    "verify": True,
    # the benchmark's commands read the manifest, the truth and the files with DuckDB
    "questions": False,
    "metrics": False,
    "score": False,
    # the settings alone
    "config show": False,
    "config check": False,
}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    return {} if sub is None else dict(sub.choices)


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser, a command of commands (config show, config check) by its full name."""
    out = {}
    for name, parser in _subcommands(build_parser("local[*]")).items():
        nested = _subcommands(parser)
        out.update({f"{name} {n}": p for n, p in nested.items()} if nested else {name: parser})
    return out


def _dataset_parsers() -> dict[str, argparse.ArgumentParser]:
    return {c: p for c, p in _parsers().items() if c in COMMANDS}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        a.option_strings[0]: a
        for a in parser._actions
        if a.option_strings and a.help != argparse.SUPPRESS and a.option_strings[0] != "-h"
    }


def option_table() -> list[str]:
    """The markdown table of every dataset command and option, as the parser has them."""
    parsers = _dataset_parsers()
    every = sorted({o for p in parsers.values() for o in _options(p)})
    rows = ["| option | " + " | ".join(COMMANDS) + " |", "| --- |" + " --- |" * len(COMMANDS)]
    positional = {
        c: next((a.metavar for a in p._actions if not a.option_strings and a.dest != "help"), "")
        for c, p in parsers.items()
    }
    rows.append("| argument | " + " | ".join(positional[c] for c in COMMANDS) + " |")
    for option in every:
        cells = []
        for c in COMMANDS:
            action = _options(parsers[c]).get(option)
            if action is None:
                cells.append("")
            elif action.nargs == 0:
                cells.append("yes")
            else:
                cells.append(action.metavar or " or ".join(action.choices))
        rows.append(f"| `{option}` | " + " | ".join(cells) + " |")
    return rows


def test_every_command_takes_quiet_and_json():
    assert {c: {"--quiet", "--json"} <= set(_options(p)) for c, p in _parsers().items()} == dict.fromkeys(
        STARTS_SPARK, True
    )


def test_every_command_that_starts_spark_takes_master_and_spark_conf():
    have = {c: {"--master", "--spark-conf"} <= set(_options(p)) for c, p in _parsers().items()}
    assert have == STARTS_SPARK


def test_the_dataset_is_the_argument_of_every_command():
    positional = {
        c: [a.metavar for a in p._actions if not a.option_strings and a.dest != "help"]
        for c, p in _dataset_parsers().items()
    }
    first = {c: names[:1] for c, names in positional.items()}
    assert first == {c: ["SNAPSHOT" if c == "changes" else "DATASET"] for c in COMMANDS}
    assert positional["score"] == ["DATASET", "FINDINGS"]


@pytest.mark.parametrize("command", [c for c in COMMANDS if "--format" in _options(_parsers()[c])])
def test_format_is_a_comma_list_wherever_it_appears(command):
    required = ["--to", "2024-01-02"] if command == "changes" else []
    args = build_parser("local[*]").parse_args([command, "x", *required, "--format", "parquet,delta"])
    assert args.formats == ["parquet", "delta"]


def test_metavars_are_upper_case_names():
    bad = {
        f"{c} {o}": a.metavar
        for c, p in _parsers().items()
        for o, a in _options(p).items()
        if a.nargs != 0
        and a.metavar is not None
        and not re.fullmatch(r"[A-Z][A-Z.=_-]*|YYYY-MM-DD|sc://HOST:PORT", a.metavar)
    }
    bad |= {
        f"{c} {o}": None
        for c, p in _parsers().items()
        for o, a in _options(p).items()
        if a.nargs != 0 and a.metavar is None and not a.choices
    }
    assert bad == {}


def test_the_documented_table_is_the_parsers():
    text = DOC.read_text()
    start = text.index("| option |")
    shown = text[start:].split("\n\n", 1)[0].strip().splitlines()
    assert shown == option_table(), "docs/command-line.md: regenerate with python -m tests.test_grammar"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["generat", "out"], ("'generat' is not a command (did you mean generate?)",)),
        (["generate", "out", "--qiet"], ("'--qiet' is not an option of generate (did you mean --quiet?)",)),
        (
            ["verify", "out", "--formt", "parquet"],
            ("'--formt' is not an option of verify (did you mean --format?)",),
        ),
    ],
)
def test_a_mistyped_command_or_option_is_answered_with_the_nearest(capsys, args, expected):
    assert_refused(*run_main(capsys, *args), *expected)


def test_verify_refuses_a_format_the_dataset_does_not_hold(capsys, tmp_path):
    dataset = manifest_only(tmp_path / "d")
    assert_refused(
        *run_main(capsys, "verify", dataset, "--format", "csv"),
        "--format: the dataset holds no csv tables; give some of parquet",
    )


if __name__ == "__main__":
    print("\n".join(option_table()))
