"""Command line: ``synth-spark generate`` (and ``spark-submit jobs/generate.py``, same options),
``synth-spark changes`` (and ``jobs/changes.py``), ``advance``, ``validate``, ``check`` and ``verify``.

Bad input is refused before Spark starts: one line naming the option and what is allowed, exit 2.
The grammar is ``grammar.py``'s; here each command's options are settled together and it runs.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

from synth_spark import options
from synth_spark.changes_options import settled_changes
from synth_spark.checks.dbt import main as check_main
from synth_spark.config import ConfigError, given_once, load_config
from synth_spark.extras import require
from synth_spark.failures import EXIT_BAD_INPUT, EXIT_INTERRUPTED, JvmLog, reported
from synth_spark.grammar import build_parser
from synth_spark.manifest import Format
from synth_spark.manifest import read as read_manifest
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.publish.claim import Claim
from synth_spark.publish.database import Database
from synth_spark.publish.storage import check_writable, resolve
from synth_spark.runtime.connect import check_server_sees, reachable
from synth_spark.simulation.plan import refuse_unplannable
from synth_spark.vocabulary import ANOMALY_TYPES


def _settle_remote(args: argparse.Namespace, argv: list[str]) -> None:
    """``--remote`` (or ``SPARK_REMOTE``) stands in for the master: ``sc://`` masters make Spark
    Connect sessions (``session.build_session``). An explicit ``--master`` wins over ``SPARK_REMOTE``."""
    given_master = any(a == "--master" or a.startswith("--master=") for a in argv)
    if args.remote is None and os.environ.get("SPARK_REMOTE"):
        if given_master:
            os.environ.pop("SPARK_REMOTE")  # or PySpark's builder refuses the master
            return
        try:
            args.remote = options.remote(os.environ["SPARK_REMOTE"])
        except argparse.ArgumentTypeError as err:
            raise ConfigError(f"SPARK_REMOTE: {str(err).removeprefix('--remote: ')}") from None
    if args.remote is None:
        return
    if given_master:
        raise ConfigError(f"--remote: {args.remote} and --master {args.master} both say where Spark runs; give one")
    if getattr(args, "driver_memory", None):
        raise ConfigError("--driver-memory: the Spark Connect server's memory is set where it starts; leave it out with --remote")
    args.master = args.remote


def _merge(base: dict, more: dict) -> dict:
    out = dict(base)
    for key, value in more.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _settle_destination(args: argparse.Namespace, argv: list[str]) -> None:
    """One output folder: the argument (or, the older way, --out with a note). changes: run_changes."""
    if args.command == "changes":
        _conf_note(argv)
        return
    name = "DATASET"
    if getattr(args, "database", None) is not None:
        given = args.dataset if args.dataset is not None else args.out
        if given is not None:
            raise ConfigError(f"--database: {args.database} and the folder {str(given)!r} both say where the dataset goes; "
                              "give one")
        if any(a == "--format" or a.startswith("--format=") for a in argv) and args.formats != [Format.DELTA]:
            raise ConfigError(f"--format: {','.join(args.formats)} with --database; catalog tables are Delta tables: "
                              "leave --format out or give delta")
        args.formats = ["delta"]
        return
    if args.dataset is not None and args.out is not None:
        raise ConfigError(f"{name}: given twice (as the argument and as --out); give it once")
    if args.dataset is None and args.out is None:
        raise ConfigError(f"{name}: give the output folder, e.g. synth-spark generate out/1x")
    if args.out is not None:
        args.dataset = args.out
        print("synth-spark: note: --out DIR is the older form; give the folder as the argument: synth-spark generate DIR",
              file=sys.stderr)
    _conf_note(argv)


def _conf_note(argv: list[str]) -> None:
    if any(a == "--conf" or a.startswith("--conf=") for a in argv):
        print("synth-spark: note: --conf is the older name of --config (spark-submit has a --conf of its own)", file=sys.stderr)


def _settle_dataset(args: argparse.Namespace) -> None:
    """A command that reads a dataset reads one: a folder, or a database of the catalog."""
    if args.dataset is not None and args.database is not None:
        raise ConfigError(f"--database: {args.database} and the folder {str(args.dataset)!r} both name the dataset; give one")
    if args.dataset is None and args.database is None:
        raise ConfigError(f"DATASET: give the dataset's folder (or --database NAME), e.g. synth-spark {args.command} out/1x")
    if args.command == "check":
        args.formats = args.formats or (["delta"] if args.database else ["parquet"])


def run_config(args: argparse.Namespace):
    """The config a generate or changes run asks for: file, --set overrides, --no-anomalies, checked."""
    overrides: dict = {"anomalies": {name: {"enabled": False} for name in ANOMALY_TYPES}} if args.no_anomalies else {}
    for setting in args.settings:
        overrides = _merge(overrides, setting)
    cfg = load_config(args.config, **given_once(overrides, {"scale": args.scale, "seed": args.seed}))
    if args.partitions is not None:
        options.within_creators("--partitions", args.partitions, cfg)
    return cfg


def run_generate(args: argparse.Namespace) -> Outcome:
    cfg = run_config(args)
    if args.as_of is not None:
        options.in_window("--as-of", args.as_of, cfg.window)
    refuse_unplannable(cfg)


    progress = Progress(quiet=args.quiet)
    if args.database is not None:
        return _generate_tables(args, cfg, progress)
    if isinstance(args.dataset, Path):
        check_writable(args.dataset)
        with Claim(args.dataset, args.overwrite, progress) as claim:  # the lock, before any work
            return _generate(args, cfg, progress, args.dataset, claim)
    return _generate(args, cfg, progress, None, None)


def catalog_conf(args: argparse.Namespace) -> dict[str, str]:
    """The session settings of a command given --database: the user's, and Spark's own Hive
    metastore unless they chose a catalog (a local run's default catalog forgets its tables on exit)."""
    conf = dict(args.spark_conf)
    master = getattr(args, "master", "local[*]")
    if getattr(args, "database", None) is not None and master is not None and not master.startswith("sc://"):
        conf.setdefault("spark.sql.catalogImplementation", "hive")
    return conf


def _generate_tables(args: argparse.Namespace, cfg, progress) -> Outcome:
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.job.catalog import generate_tables
    from synth_spark.runtime.session import build_session

    progress(f"starting Spark ({args.master or 'spark-submit master'})")
    spark = build_session(args.master, partitions=args.partitions, driver_memory=args.driver_memory,
                          extra=catalog_conf(args))
    published = generate_tables(spark, cfg, Database(spark, args.database), args.partitions, progress,
                                overwrite=args.overwrite, as_of=args.as_of, layout=args.layout)
    tables = published["tables"]
    width = max(len(t) for t in tables)
    as_of = f" as of the end of {args.as_of.isoformat()}" if args.as_of else ""
    seconds = time.monotonic() - progress.started
    lines = [f"synth-spark: wrote Delta tables to the database {args.database}{as_of} in {seconds:.1f}s",
             *(f"  {table:<{width}}  {e['rows']:>12,} rows  checksum {e['checksum']}  version {e['data_version']}"
               for table, e in tables.items())]
    return Outcome(0, lines, {"command": "generate", "database": args.database, "formats": ["delta"],
                              "as_of": published.get("as_of"), "seconds": round(seconds, 1),
                              "tables": {t: {"rows": e["rows"], "checksum": e["checksum"], "path": e["paths"]["delta"],
                                             "version": e["data_version"]} for t, e in tables.items()}})


def _generate(args: argparse.Namespace, cfg, progress, out, claim) -> Outcome:
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.job.generate import generate
    from synth_spark.runtime.session import build_session

    progress(f"starting Spark ({args.master or 'spark-submit master'})")
    spark = build_session(args.master, partitions=args.partitions, driver_memory=args.driver_memory,
                          delta=Format.DELTA in args.formats, extra=dict(args.spark_conf))
    check_server_sees(spark, out or args.dataset)
    if out is None:  # a URI: claimed once Spark can reach its file system
        out = resolve(spark, args.dataset)
        with Claim(out, args.overwrite, progress) as claim:
            result = generate(spark, cfg, out, args.formats, args.partitions, progress, claim=claim, as_of=args.as_of,
                              layout=args.layout)
    else:
        result = generate(spark, cfg, out, args.formats, args.partitions, progress, claim=claim, as_of=args.as_of,
                          layout=args.layout)
    width = max(len(t) for t in result.rows)
    as_of = f" as of the end of {args.as_of.isoformat()}" if args.as_of else ""
    where = result.out.resolve()
    lines = [f"synth-spark: wrote {', '.join(args.formats)} to {where}{as_of} in {result.seconds:.1f}s",
             *(f"  {table:<{width}}  {rows:>12,} rows  checksum {result.checksums[table]}"
               for table, rows in result.rows.items())]
    paths = {t: e["paths"] for t, e in result.manifest["tables"].items()}
    return Outcome(0, lines, {"command": "generate", "dataset": str(where), "formats": list(args.formats),
                              "as_of": result.manifest.get("as_of"), "seconds": round(result.seconds, 1),
                              "tables": {t: {"rows": rows, "checksum": result.checksums[t], "paths": paths.get(t, {})}
                                         for t, rows in result.rows.items()}})


def run_changes(args: argparse.Namespace) -> Outcome:
    """Daily change batches into DIR/changes (published whole, or not at all): those continuing
    SNAPSHOT, or, the older way, of --from..--to with the settings given."""

    cfg, snapshot, out = settled_changes(args, run_config)  # all of it checked before Spark starts
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.job.change_feed import write_changes
    from synth_spark.runtime.session import build_session

    progress = Progress(quiet=args.quiet)
    with Claim(out, args.overwrite, progress):
        progress(f"starting Spark ({args.master or 'spark-submit master'})")
        spark = build_session(args.master, partitions=args.partitions, driver_memory=args.driver_memory,
                              delta=Format.DELTA in args.formats, extra=dict(args.spark_conf))
        check_server_sees(spark, out)
        published = write_changes(spark, cfg, out, args.formats, args.first, args.last, args.partitions, progress,
                                  snapshot=snapshot)
    days = (args.last - args.first).days + 1
    lines = [f"synth-spark: wrote {days} daily batches ({', '.join(args.formats)}) of {args.first.isoformat()} to "
             f"{args.last.isoformat()} to {out.resolve()} in {published['seconds']:.1f}s"]
    width = max(len(t) for t in published["tables"])
    tables = {}
    for table, entry in published["tables"].items():
        kinds = {k: sum(d[k] for d in entry["days"].values()) for k in ("insert", "update_postimage")}
        lines.append(f"  {table:<{width}}  {entry['rows']:>12,} rows  ({kinds['insert']:,} inserts, "
                     f"{kinds['update_postimage']:,} updates)")
        tables[table] = {"rows": entry["rows"], "inserts": kinds["insert"], "updates": kinds["update_postimage"],
                         "days": entry["days"]}
    return Outcome(0, lines, {"command": "changes", "feed": str(out.resolve()), "formats": list(args.formats),
                              "first": args.first.isoformat(), "last": args.last.isoformat(),
                              "seconds": round(published["seconds"], 1), "tables": tables})


def run_advance(args: argparse.Namespace) -> Outcome:
    """Move a Delta snapshot forward to --to, one commit (MERGE or append) per table and day."""
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.job.advance import advance, refuse_unadvanceable

    refuse_unadvanceable(args.dataset, read_manifest(args.dataset), args.to)

    from synth_spark.runtime.session import build_session

    progress = Progress(quiet=args.quiet)
    with Claim(args.dataset, True, progress):
        progress(f"starting Spark ({args.master or 'spark-submit master'})")
        spark = build_session(args.master, partitions=args.partitions, driver_memory=args.driver_memory, delta=True,
                              extra=dict(args.spark_conf))
        updated = advance(spark, args.dataset, args.to, args.partitions, progress)
    days = updated["delta_versions"]
    lines = [f"synth-spark: advanced {args.dataset.resolve()} to the end of {updated['as_of']}: "
             f"{len(days)} days merged so far, one commit per table and day",
             *(f"  {day}  " + ", ".join(f"{t} v{v}" for t, v in days[day].items()) for day in list(days)[-3:])]
    return Outcome(0, lines, {"command": "advance", "dataset": str(args.dataset.resolve()), "as_of": updated["as_of"],
                              "delta_versions": days,
                              "tables": {t: {"rows": e["rows"], "checksum": e["checksum"]}
                                         for t, e in updated["tables"].items()}})


def run_validate(args: argparse.Namespace) -> Outcome:
    # the "spark" and "validate" extras, loaded once the options are settled
    from synth_spark.validation.run import main as validate_main

    return validate_main(args.dataset, args.control, args.report, args.master, args.quiet, args.database, catalog_conf(args))


def run_check(args: argparse.Namespace) -> Outcome:

    progress = Progress(quiet=args.quiet)
    # dbt's own lines are progress: on stderr when stdout holds the JSON document, none when quiet
    dbt_output = io.StringIO() if args.quiet else sys.stderr if args.json else None
    if args.database is not None:
        return check_main(None, args.formats, args.select, args.work_dir, args.database, catalog_conf(args),
                          progress, args.master, dbt_output)
    return check_main(args.dataset, args.formats, args.select, args.work_dir, progress=progress,
                      dbt_output=dbt_output)  # settles the folder first


def run_verify(args: argparse.Namespace) -> Outcome:
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.checks.verify import main as verify_main

    return verify_main(args.dataset, args.master, args.database, catalog_conf(args), args.formats,
                       Progress(quiet=args.quiet))


def main(argv: list[str] | None = None, default_master: str | None = "local[*]") -> int:
    parser = build_parser(default_master)
    commands = {"generate": run_generate, "changes": run_changes, "advance": run_advance, "validate": run_validate, "check": run_check, "verify": run_verify}
    command = "synth-spark"
    JvmLog.mark()
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = parser.parse_args(argv)
        if args.command is None:  # a bare synth-spark: what it can do
            parser.print_help(sys.stderr)
            return EXIT_BAD_INPUT
        command = args.command
        if command != "check" or args.database is not None:  # check reads files with DuckDB, not Spark
            require(command, "spark")
        if command in ("generate", "changes"):
            _settle_destination(args, argv)
        if command in ("validate", "check", "verify"):
            _settle_dataset(args)
        if hasattr(args, "remote"):
            _settle_remote(args, argv)
        if getattr(args, "database", None) is not None and (getattr(args, "master", None) or "").startswith("sc://"):
            raise ConfigError("--database: catalog tables are not written or read over Spark Connect yet (they are "
                              "staged through the driver's file system); run with --master")
        if getattr(args, "remote", None) is not None:
            reachable(args.remote)  # a server that does not answer: one line, before any work or progress
        code = commands[args.command](args).show(getattr(args, "json", False))
        JvmLog.discard()  # what Spark printed matters only when a run fails
        return code
    except KeyboardInterrupt:
        print("synth-spark: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - every failure ends in one line and a documented code
        return reported(err, command)


if __name__ == "__main__":
    sys.exit(main())
