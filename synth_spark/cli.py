"""Command line: ``synth-spark generate`` (and ``spark-submit jobs/generate.py``, same options),
``synth-spark validate``, ``synth-spark check`` and ``synth-spark verify``.

Bad input is refused before Spark starts: one line naming the option and what is allowed, exit 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from synth_spark.config import MAX_SCALE, ConfigError, load_config
from synth_spark.failures import (
    EXIT_BAD_INPUT,
    EXIT_ENVIRONMENT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    environment_cause,
    one_line,
    write_trace,
)
from synth_spark.manifest import FORMATS
from synth_spark.publish.storage import location, resolve
from synth_spark.simulation.plan import refuse_unplannable
from synth_spark.vocabulary import ANOMALY_TYPES

#: the most tasks one run may ask for: past this, Spark spends its time starting tasks
MAX_PARTITIONS = 10_000
_MASTER = re.compile(r"^(local(\[(\*|[1-9][0-9]{0,3})(,[0-9]{1,3})?\])?|local-cluster\[[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*\]"
                     r"|spark://[A-Za-z0-9.\-]+:[0-9]{1,5}(,[A-Za-z0-9.\-]+:[0-9]{1,5})*|yarn|k8s://\S+)$")
_MEMORY = re.compile(r"^([1-9][0-9]{0,6})([kmgt])b?$", re.IGNORECASE)
_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise ConfigError(re.sub(r"^argument [^:]+: (?=--)", "", message))


def _scale(text: str) -> float:
    try:  # float() also reads "1_0" as 10: a typo, not a number
        value = float(text) if "_" not in text else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"--scale: {text!r} is not a number; give a positive factor such as 0.1, 1 or 10")
    if not 0 < value <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"--scale: {text!r} is not allowed; give a factor above 0 and up to {MAX_SCALE:,}")
    return value


def _positive_int(name: str, most: int):
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,12}", text.strip()):
            raise argparse.ArgumentTypeError(f"{name}: {text!r} is not a whole number; give 1 to {most:,}")
        value = int(text)
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"{name}: {value} is not allowed; give 1 to {most:,}")
        return value
    return parse


def _seed(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,19}", text.strip()):
        raise argparse.ArgumentTypeError(f"--seed: {text!r} is not a whole number; give 0 to 2**63-1")
    value = int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"--seed: {value} is not allowed; give 0 to 2**63-1")
    return value


def _master(text: str) -> str:
    if not _MASTER.match(text):
        raise argparse.ArgumentTypeError(f"--master: {text!r} is not a Spark master; give local[*], local[N], "
                                         "spark://HOST:PORT, yarn or k8s://URL")
    return text


def _memory(text: str) -> str:
    m = _MEMORY.match(text.strip())
    if not m or int(m.group(1)) * _MIB[m.group(2).lower()] < 512:
        raise argparse.ArgumentTypeError(f"--driver-memory: {text!r} is not allowed; give a size of 512m or more, "
                                         "such as 2g or 8g")
    return text.strip().lower()


def _out(text: str) -> Path | str:
    """``--out``: a URI as it is, a local path made absolute (Hadoop would read ``a:b`` as a scheme)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("--out: an empty path is not allowed; give a folder, e.g. out/1x")
    if text != text.strip() or any(not c.isprintable() for c in text):
        raise argparse.ArgumentTypeError(f"--out: {text!r} has surrounding spaces or control characters; give a plain path")
    where = location(text)
    if isinstance(where, str):
        return where
    if where.is_symlink() and not where.exists():
        raise argparse.ArgumentTypeError(f"--out: {text!r} is a symbolic link to nothing; give a folder")
    return Path(os.path.abspath(where))


def _conf_file(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("--conf: an empty path is not allowed; give a YAML file")
    return Path(text)


def _formats(text: str) -> list[str]:
    items = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"--format: {bad[0] if bad else text!r} is not a format; allowed: a comma list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(items))


def add_generate_options(p: argparse.ArgumentParser, default_master: str | None) -> None:
    p.add_argument("--out", required=True, type=_out,
                   help="output folder (created if missing): a local path, or a Hadoop FileSystem URI "
                        "such as s3a://bucket/prefix with its connector on the classpath")
    p.add_argument("--scale", type=_scale, default=None, help="size factor: 1 = 500 creators, 15k patrons (default from config: 1)")
    p.add_argument("--seed", type=_seed, default=None, help="run seed (default from config: 42)")
    p.add_argument("--format", dest="formats", type=_formats, default=["parquet", "csv", "delta"],
                   help="comma list of parquet, csv, delta (default: all three)")
    p.add_argument("--conf", type=_conf_file, default=None, help="YAML file overriding conf/default.yaml")
    p.add_argument("--partitions", type=_positive_int("--partitions", MAX_PARTITIONS), default=None,
                   help="Spark tasks (and files per table) for the simulation; the output is the same for any "
                        "value (default: about 4M rows per task, at least 2 per core when there is work for them)")
    p.add_argument("--master", type=_master, default=default_master,
                   help=f"Spark master (default: {default_master or 'as spark-submit sets it'})")
    p.add_argument("--driver-memory", type=_memory, default=None, help="driver JVM memory in local mode, e.g. 8g")
    p.add_argument("--no-anomalies", action="store_true",
                   help="turn all five injected anomalies off (a control run for the same seed)")
    p.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    p.add_argument("--quiet", action="store_true", help="print only the final summary")


def check_writable(out: Path) -> None:
    """Refuse a local output folder that cannot be written, before anything is written."""
    probe = out if out.exists() else next((p for p in out.parents if p.exists()), Path("/"))
    if not probe.is_dir():
        raise ConfigError(f"--out: {str(out)!r} is not writable: {str(probe)!r} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--out: {str(out)!r} is not writable (no write permission on {str(probe)!r})")


def check_partitions(cfg, partitions: int | None) -> None:
    if partitions is not None and partitions > cfg.n_creators:
        raise ConfigError(f"--partitions: {partitions:,} is more than the {cfg.n_creators:,} creators to spread over "
                          f"tasks; give 1 to {cfg.n_creators:,}")


def run_generate(args: argparse.Namespace) -> int:
    off = {"anomalies": {name: {"enabled": False} for name in ANOMALY_TYPES}} if args.no_anomalies else {}
    cfg = load_config(args.conf, scale=args.scale, seed=args.seed, **off)
    check_partitions(cfg, args.partitions)
    refuse_unplannable(cfg)

    from synth_spark.progress import Progress
    from synth_spark.publish.claim import Claim

    progress = Progress(quiet=args.quiet)
    if isinstance(args.out, Path):
        check_writable(args.out)
        with Claim(args.out, args.overwrite, progress) as claim:  # the lock, before any work
            return _generate(args, cfg, progress, args.out, claim)
    return _generate(args, cfg, progress, None, None)


def _generate(args: argparse.Namespace, cfg, progress, out, claim) -> int:
    from synth_spark.job.generate import generate
    from synth_spark.job.session import build_session
    from synth_spark.publish.claim import Claim

    progress(f"starting Spark ({args.master or 'spark-submit master'})")
    spark = build_session(args.master, partitions=args.partitions, driver_memory=args.driver_memory,
                          delta="delta" in args.formats)
    if out is None:  # a URI: claimed once Spark can reach its file system
        out = resolve(spark, args.out)
        with Claim(out, args.overwrite, progress) as claim:
            result = generate(spark, cfg, out, args.formats, args.partitions, progress, claim=claim)
    else:
        result = generate(spark, cfg, out, args.formats, args.partitions, progress, claim=claim)
    width = max(len(t) for t in result.rows)
    print(f"synth-spark: wrote {', '.join(args.formats)} to {result.out.resolve()} in {result.seconds:.1f}s")
    for table, rows in result.rows.items():
        print(f"  {table:<{width}}  {rows:>12,} rows  checksum {result.checksums[table]}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from synth_spark.validation.run import main as validate_main

    return validate_main(args.dataset, args.control, args.report, args.master, args.quiet)


def _check_format(text: str) -> str:
    from synth_spark.checks.dbt import CHECK_FORMATS

    value = text.strip().lower()
    if value not in CHECK_FORMATS:
        raise argparse.ArgumentTypeError(f"--format: {text!r} is not allowed; give {' or '.join(CHECK_FORMATS)}")
    return value


def run_check(args: argparse.Namespace) -> int:
    from synth_spark.checks.dbt import main as check_main
    from synth_spark.publish.claim import settle

    if args.dataset.is_dir():
        settle(args.dataset)
    return check_main(args.dataset, args.format, args.select, args.work_dir)


def run_verify(args: argparse.Namespace) -> int:
    from synth_spark.checks.verify import main as verify_main

    return verify_main(args.dataset, args.master)


def main(argv: list[str] | None = None, default_master: str | None = "local[*]") -> int:
    parser = _Parser(prog="synth-spark", description="Reproducible synthetic creator-economy data with PySpark.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="generate the seven tables")
    add_generate_options(gen, default_master)
    val = sub.add_parser("validate", help="measure every statistical target of the seed on a dataset")
    val.add_argument("dataset", type=Path, help="a folder written by 'synth-spark generate' (with parquet)")
    val.add_argument("--report", type=Path, default=None, help="report folder (default: DATASET/report)")
    val.add_argument("--control", type=Path, default=None,
                     help="a control run (same seed, generated with --no-anomalies): must show no anomaly signal")
    val.add_argument("--master", type=_master, default=default_master, help=f"Spark master (default: {default_master or 'as spark-submit sets it'})")
    val.add_argument("--quiet", action="store_true", help="print only the results")
    chk = sub.add_parser("check", help="run the seed's data-quality rules (dbt tests) on a dataset's files")
    chk.add_argument("dataset", type=Path, help="a folder written by 'synth-spark generate'")
    chk.add_argument("--format", type=_check_format, default="parquet", help="files to check: parquet (default) or csv")
    chk.add_argument("--select", default=None,
                     help="dbt selection of the tests to run, e.g. 'source:synth.pledges' (default: all)")
    chk.add_argument("--work-dir", type=Path, default=None,
                     help="keep dbt's target (compiled SQL, run_results.json) and logs here (default: a temporary folder)")
    ver = sub.add_parser("verify", help="re-read a dataset and compare its row counts and checksums with its manifest")
    ver.add_argument("dataset", type=Path, help="a folder written by 'synth-spark generate'")
    ver.add_argument("--master", type=_master, default=default_master, help=f"Spark master (default: {default_master or 'as spark-submit sets it'})")
    commands = {"generate": run_generate, "validate": run_validate, "check": run_check, "verify": run_verify}
    command = "synth-spark"
    try:
        args = parser.parse_args(argv)
        command = args.command
        return commands[args.command](args)
    except ConfigError as err:
        print(f"synth-spark: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("synth-spark: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - every failure ends in one line and a documented code
        cause = environment_cause(err)
        if cause is not None:
            print(f"synth-spark: error: {cause}", file=sys.stderr)
            return EXIT_ENVIRONMENT
        log = write_trace(err, command)
        where = f"; the full trace is in {log}" if log else ""
        print(f"synth-spark: internal error: {type(err).__name__}: {one_line(err)}{where}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
