"""Each command run from its settled options (``cli.py`` reads and settles them): its request
built, its work done, and its ``Outcome`` (the lines it prints, its ``--json`` document) returned.
pyspark, the "spark" extra, is loaded only here and only once a command's input is known good."""

from __future__ import annotations

import argparse
import io
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from synth_spark.changes_options import ChangesFields, changes_request, written_feed
from synth_spark.checks.dbt import main as check_main
from synth_spark.config import ConfigError
from synth_spark.manifest import Format
from synth_spark.manifest import read as read_manifest
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.publish.claim import Claim
from synth_spark.publish.database import Database
from synth_spark.publish.storage import check_writable, resolve
from synth_spark.publish.truth_file import check_truth_out
from synth_spark.request import CLI, DataRequest, ReadRequest, WriteRequest
from synth_spark.runtime.connect import check_server_sees


def data_request(args: argparse.Namespace) -> DataRequest:
    """The data a generate or changes run asks for: file, --set overrides, --no-anomalies, checked."""
    return DataRequest.make(
        CLI,
        scale=args.scale,
        seed=args.seed,
        config=args.config,
        settings=args.settings,
        anomalies=not args.no_anomalies,
        scenarios=getattr(args, "scenarios", None),
        difficulty=getattr(args, "difficulty", None),
        data_incidents=getattr(args, "data_incidents", None),
        decoys=getattr(args, "decoys", None),
        partitions=args.partitions,
        as_of=getattr(args, "as_of", None),
    )


def run_generate(args: argparse.Namespace) -> Outcome:
    data = data_request(args)
    write = WriteRequest.make(
        CLI,
        dataset=args.dataset,
        database=args.database,
        formats=args.formats,
        layout=args.layout,
        overwrite=args.overwrite,
    )
    args.truth_out = _truth_out(args, write)
    progress = Progress(quiet=args.quiet)
    if write.database is not None:
        return _generate_tables(args, data, write, progress)
    if isinstance(write.folder, Path):
        check_writable(write.folder)
        with Claim(write.folder, write.overwrite, progress) as claim:  # the lock, before any work
            return _generate(args, data, write, progress, write.folder, claim)
    return _generate(args, data, write, progress, None, None)


def _truth_out(args: argparse.Namespace, write: WriteRequest) -> Path | None:
    """--truth-out checked before any work: a file of ours or a new one, outside the dataset."""
    if getattr(args, "truth_out", None) is None:
        return None
    if write.database is not None:
        raise ConfigError("--truth-out: not with --database yet; write the dataset to a folder")
    folder = write.folder if isinstance(write.folder, Path) else None
    return check_truth_out(args.truth_out, folder, write.overwrite)


def catalog_conf(args: argparse.Namespace) -> dict[str, str]:
    """The session settings of a command given --database: the user's, and Spark's own Hive
    metastore unless they chose a catalog (a local run's default catalog forgets its tables on exit)."""
    conf = dict(args.spark_conf)
    master = getattr(args, "master", "local[*]")
    if getattr(args, "database", None) is not None and master is not None and not master.startswith("sc://"):
        conf.setdefault("spark.sql.catalogImplementation", "hive")
    return conf


def _generate_tables(args: argparse.Namespace, data: DataRequest, write: WriteRequest, progress) -> Outcome:
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.job.catalog import generate_tables
    from synth_spark.runtime.session import build_session
    from synth_spark.runtime.spark_status import running_stages

    progress(f"starting Spark ({args.master or 'spark-submit master'})")
    spark = build_session(
        args.master, partitions=args.partitions, driver_memory=args.driver_memory, extra=catalog_conf(args)
    )
    progress.watch(running_stages(spark))
    published = generate_tables(
        spark,
        data.cfg,
        Database(spark, write.database),
        data.partitions,
        progress,
        overwrite=write.overwrite,
        as_of=data.as_of,
        layout=write.layout,
    )
    tables = published["tables"]
    width = max(len(t) for t in tables)
    as_of = f" as of the end of {data.as_of.isoformat()}" if data.as_of else ""
    seconds = time.monotonic() - progress.started
    lines = [
        f"synth-spark: wrote Delta tables to the database {write.database}{as_of} in {seconds:.1f}s",
        *(
            f"  {table:<{width}}  {e['rows']:>12,} rows  checksum {e['checksum']}  version "
            f"{e['data_version']}"
            for table, e in tables.items()
        ),
    ]
    return Outcome(
        0,
        lines,
        {
            "command": "generate",
            "database": write.database,
            "formats": ["delta"],
            "as_of": published.get("as_of"),
            "seconds": round(seconds, 1),
            "tables": {
                t: {
                    "rows": e["rows"],
                    "checksum": e["checksum"],
                    "path": e["paths"]["delta"],
                    "version": e["data_version"],
                }
                for t, e in tables.items()
            },
        },
    )


def _generate(
    args: argparse.Namespace, data: DataRequest, write: WriteRequest, progress, out, claim
) -> Outcome:
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.job.generate import generate
    from synth_spark.runtime.session import build_session
    from synth_spark.runtime.spark_status import running_stages

    progress(f"starting Spark ({args.master or 'spark-submit master'})")
    spark = build_session(
        args.master,
        partitions=args.partitions,
        driver_memory=args.driver_memory,
        delta=Format.DELTA in write.formats,
        extra=dict(args.spark_conf),
    )
    progress.watch(running_stages(spark))
    check_server_sees(spark, out or write.folder)
    if out is None:  # a URI: claimed once Spark can reach its file system
        out = resolve(spark, write.folder)
    with nullcontext(claim) if claim is not None else Claim(out, write.overwrite, progress) as claimed:
        result = generate(
            spark,
            data.cfg,
            out,
            list(write.formats),
            data.partitions,
            progress,
            claim=claimed,
            as_of=data.as_of,
            layout=write.layout,
            truth_out=args.truth_out,
        )
    width = max(len(t) for t in result.rows)
    as_of = f" as of the end of {data.as_of.isoformat()}" if data.as_of else ""
    where = result.out.resolve()
    lines = [
        f"synth-spark: wrote {', '.join(write.formats)} to {where}{as_of} in {result.seconds:.1f}s",
        *(
            f"  {table:<{width}}  {rows:>12,} rows  checksum {result.checksums[table]}"
            for table, rows in result.rows.items()
        ),
    ]
    if args.truth_out:
        lines.append(f"  the ground truth is kept apart, in {args.truth_out}: the anomalies table is empty")
    paths = {t: e["paths"] for t, e in result.manifest["tables"].items()}
    return Outcome(
        0,
        lines,
        {
            "command": "generate",
            "dataset": str(where),
            "formats": list(write.formats),
            "as_of": result.manifest.get("as_of"),
            "ground_truth": str(args.truth_out) if args.truth_out else result.manifest.get("ground_truth"),
            "seconds": round(result.seconds, 1),
            "tables": {
                t: {"rows": rows, "checksum": result.checksums[t], "paths": paths.get(t, {})}
                for t, rows in result.rows.items()
            },
        },
    )


def run_changes(args: argparse.Namespace) -> Outcome:
    """Daily change batches into DIR/changes (published whole, or not at all): those continuing
    SNAPSHOT, or, the older way, of --from..--to with the settings given."""
    asked = ChangesFields(
        to=args.last,
        snapshot=args.snapshot,
        out=args.out,
        formats=tuple(args.formats),
        partitions=args.partitions,
        overwrite=args.overwrite,
        first=args.first,
        scale=args.scale,
        seed=args.seed,
        config=args.config,
        settings=tuple(args.settings),
        anomalies=not args.no_anomalies,
    )
    run = changes_request(asked, CLI)  # all of it checked before Spark starts
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.runtime.session import build_session
    from synth_spark.runtime.spark_status import running_stages

    progress = Progress(quiet=args.quiet)
    with Claim(run.feed, run.overwrite, progress):
        progress(f"starting Spark ({args.master or 'spark-submit master'})")
        spark = build_session(
            args.master,
            partitions=run.partitions,
            driver_memory=args.driver_memory,
            delta=Format.DELTA in run.formats,
            extra=dict(args.spark_conf),
        )
        progress.watch(running_stages(spark))
        check_server_sees(spark, run.feed)
        return written_feed(spark, run, progress)


def run_advance(args: argparse.Namespace) -> Outcome:
    """Move a Delta snapshot forward to --to, one commit (MERGE or append) per table and day."""
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.job.advance import advance, refuse_unadvanceable

    refuse_unadvanceable(args.dataset, read_manifest(args.dataset), args.to)

    from synth_spark.runtime.session import build_session
    from synth_spark.runtime.spark_status import running_stages

    progress = Progress(quiet=args.quiet)
    with Claim(args.dataset, True, progress):
        progress(f"starting Spark ({args.master or 'spark-submit master'})")
        spark = build_session(
            args.master,
            partitions=args.partitions,
            driver_memory=args.driver_memory,
            delta=True,
            extra=dict(args.spark_conf),
        )
        progress.watch(running_stages(spark))
        updated = advance(spark, args.dataset, args.to, args.partitions, progress)
    days = updated["delta_versions"]
    lines = [
        f"synth-spark: advanced {args.dataset.resolve()} to the end of {updated['as_of']}: "
        f"{len(days)} days merged so far, one commit per table and day",
        *(f"  {day}  " + ", ".join(f"{t} v{v}" for t, v in days[day].items()) for day in list(days)[-3:]),
    ]
    return Outcome(
        0,
        lines,
        {
            "command": "advance",
            "dataset": str(args.dataset.resolve()),
            "as_of": updated["as_of"],
            "delta_versions": days,
            "tables": {
                t: {"rows": e["rows"], "checksum": e["checksum"]} for t, e in updated["tables"].items()
            },
        },
    )


def run_validate(args: argparse.Namespace) -> Outcome:
    # the "spark" and "validate" extras, loaded once the options are settled
    from synth_spark.validation.run import main as validate_main

    read = ReadRequest.make(CLI, dataset=args.dataset, database=args.database, local=True)
    return validate_main(
        read.folder,
        args.control,
        args.report,
        args.master,
        args.quiet,
        read.database,
        catalog_conf(args),
        args.truth,
    )


def run_check(args: argparse.Namespace) -> Outcome:
    read = ReadRequest.make(
        CLI, dataset=args.dataset, database=args.database, formats=args.formats, local=True
    )
    formats = list(read.formats or ([Format.DELTA] if read.database else [Format.PARQUET]))
    progress = Progress(quiet=args.quiet)
    # dbt's own lines are progress: on stderr when stdout holds the JSON document, none when quiet
    dbt_output = io.StringIO() if args.quiet else sys.stderr if args.json else None
    if read.database is not None:
        return check_main(
            None,
            formats,
            args.select,
            args.work_dir,
            read.database,
            catalog_conf(args),
            progress,
            args.master,
            dbt_output,
        )
    return check_main(
        read.folder, formats, args.select, args.work_dir, progress=progress, dbt_output=dbt_output
    )  # settles the folder first


def run_verify(args: argparse.Namespace) -> Outcome:
    # pyspark (the "spark" extra) only once the options are settled: bad input refused without it
    from synth_spark.checks.verify import main as verify_main

    read = ReadRequest.make(CLI, dataset=args.dataset, database=args.database, formats=args.formats)
    formats = None if read.formats is None else list(read.formats)
    return verify_main(
        read.folder, args.master, read.database, catalog_conf(args), formats, Progress(quiet=args.quiet)
    )
