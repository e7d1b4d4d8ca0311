"""Command line: ``synth-spark generate`` (and ``spark-submit jobs/generate.py``, same options),
``synth-spark changes`` (and ``jobs/changes.py``), ``advance``, ``validate``, ``check`` and ``verify``,
and the benchmark's ``questions``, ``metrics`` and ``score`` (benchmark_commands.py).

Bad input is refused before Spark starts: one line naming the option and what is allowed, exit 2.
The grammar is ``grammar.py``'s; here the options a request does not cover are settled (the older
--out, --remote or the master, a reachable server), and ``commands.py`` builds the command's request
and runs it.
"""

from __future__ import annotations

import argparse
import os
import sys

from synth_spark import options
from synth_spark.benchmark_commands import run_metrics, run_questions, run_score
from synth_spark.commands import run_advance, run_changes, run_check, run_generate, run_validate, run_verify
from synth_spark.config import ConfigError
from synth_spark.config_commands import run_config
from synth_spark.plan_command import run_plan
from synth_spark.extras import require
from synth_spark.failures import EXIT_BAD_INPUT, EXIT_INTERRUPTED, JvmLog, reported
from synth_spark.grammar import build_parser
from synth_spark.progress import stop_watching
from synth_spark.runtime.connect import reachable


def _settle_remote(args: argparse.Namespace, argv: list[str]) -> None:
    """``--remote`` (or ``SPARK_REMOTE``) stands in for the master: ``sc://`` masters make Spark
    Connect sessions (``session.build_session``). An explicit ``--master`` wins over ``SPARK_REMOTE``."""
    given_master = any(a == "--master" or a.startswith("--master=") for a in argv)
    if args.remote is None and os.environ.get("SPARK_REMOTE"):
        if given_master:
            os.environ.pop("SPARK_REMOTE")  # or PySpark's builder refuses the master
            return
        args.remote = options.remote(os.environ["SPARK_REMOTE"], "SPARK_REMOTE")
    if args.remote is None:
        return
    if given_master:
        raise ConfigError(
            f"--remote: {args.remote} and --master {args.master} both say where Spark runs; give one"
        )
    if getattr(args, "driver_memory", None):
        raise ConfigError(
            "--driver-memory: the Spark Connect server's memory is set where it starts; leave it out with "
            "--remote"
        )
    args.master = args.remote


def _settle_destination(args: argparse.Namespace, argv: list[str]) -> None:
    """The output folder given the older way (--out, with a note) as the argument. changes: run_changes."""
    if args.command == "changes":
        _conf_note(argv)
        return
    if args.dataset is not None and args.out is not None:
        raise ConfigError("DATASET: given twice (as the argument and as --out); give it once")
    if args.out is not None:
        args.dataset = args.out
        print(
            "synth-spark: note: --out DIR is the older form; give the folder as the argument: synth-spark "
            "generate DIR",
            file=sys.stderr,
        )
    _conf_note(argv)


def _conf_note(argv: list[str]) -> None:
    if any(a == "--conf" or a.startswith("--conf=") for a in argv):
        print(
            "synth-spark: note: --conf is the older name of --config (spark-submit has a --conf of its own)",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None, default_master: str | None = "local[*]") -> int:
    parser = build_parser(default_master)
    commands = {
        "generate": run_generate,
        "changes": run_changes,
        "advance": run_advance,
        "validate": run_validate,
        "check": run_check,
        "verify": run_verify,
        "questions": run_questions,
        "metrics": run_metrics,
        "score": run_score,
        "config": run_config,
        "plan": run_plan,
    }
    command = "synth-spark"
    JvmLog.mark()
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = parser.parse_args(argv)
        if args.command is None:  # a bare synth-spark: what it can do
            parser.print_help(sys.stderr)
            return EXIT_BAD_INPUT
        command = args.command
        if command in ("metrics", "score"):  # DuckDB and the findings schema, no Spark
            require(command, "benchmark")
        elif command in ("questions", "config", "plan"):
            pass  # the manifest, the settings or the plan alone: no Spark
        elif command != "check" or args.database is not None:  # check reads files with DuckDB, not Spark
            require(command, "spark")
        if command in ("generate", "changes"):
            _settle_destination(args, argv)
        if hasattr(args, "remote"):
            _settle_remote(args, argv)
        if getattr(args, "database", None) is not None and (getattr(args, "master", None) or "").startswith(
            "sc://"
        ):
            raise ConfigError(
                "--database: catalog tables are not written or read over Spark Connect yet (they are "
                "staged through the driver's file system); run with --master"
            )
        if getattr(args, "remote", None) is not None:
            reachable(args.remote)  # a server that does not answer: one line, before any work or progress
        outcome = commands[args.command](args)
        stop_watching()  # the live display off before the result takes the terminal
        code = outcome.show(getattr(args, "json", False))
        JvmLog.discard()  # what Spark printed matters only when a run fails
        return code
    except BrokenPipeError:  # the reader stopped (synth-spark config show | head): nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        stop_watching()
        print("synth-spark: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - every failure ends in one line and a documented code
        stop_watching()
        return reported(err, command)


if __name__ == "__main__":
    sys.exit(main())
