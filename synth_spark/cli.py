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

from .anomalies import ANOMALY_TYPES
from .config import ConfigError, load_config
from .storage import location, resolve
from .writers import FORMATS, MANIFEST

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise ConfigError(re.sub(r"^argument [^:]+: (?=--)", "", message))


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale: {text!r} is not a number; give a positive factor such as 0.1, 1 or 10") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"--scale: {text!r} is not allowed; give a positive factor such as 0.1, 1 or 10")
    return value


def _positive_int(name: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: {text!r} is not a whole number; give 1 or more") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name}: {value} is not allowed; give 1 or more")
        return value
    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed: {text!r} is not a whole number; give 0 or more") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"--seed: {value} is not allowed; give 0 to 2**63-1")
    return value


def _formats(text: str) -> list[str]:
    items = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"--format: {bad[0] if bad else text!r} is not a format; allowed: a comma list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(items))


def add_generate_options(p: argparse.ArgumentParser, default_master: str | None) -> None:
    p.add_argument("--out", required=True, type=location,
                   help="output folder (created if missing): a local path, or a Hadoop FileSystem URI "
                        "such as s3a://bucket/prefix with its connector on the classpath")
    p.add_argument("--scale", type=_scale, default=None, help="size factor: 1 = 500 creators, 15k patrons (default from config: 1)")
    p.add_argument("--seed", type=_seed, default=None, help="run seed (default from config: 42)")
    p.add_argument("--format", dest="formats", type=_formats, default=["parquet", "csv", "delta"],
                   help="comma list of parquet, csv, delta (default: all three)")
    p.add_argument("--conf", type=Path, default=None, help="YAML file overriding conf/default.yaml")
    p.add_argument("--partitions", type=_positive_int("--partitions"), default=None,
                   help="Spark tasks (and files per table) for the simulation; the output is the same for any "
                        "value (default: about 4M rows per task, at least 2 per core when there is work for them)")
    p.add_argument("--master", default=default_master,
                   help=f"Spark master (default: {default_master or 'as spark-submit sets it'})")
    p.add_argument("--driver-memory", default=None, help="driver JVM memory in local mode, e.g. 8g")
    p.add_argument("--no-anomalies", action="store_true",
                   help="turn all five injected anomalies off (a control run for the same seed)")
    p.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    p.add_argument("--quiet", action="store_true", help="print only the final summary")


def check_output(out: Path, overwrite: bool) -> None:
    """Refuse an output folder that cannot or must not be written, before anything is written."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: {str(out)!r} is a file; give a folder")
    probe = out if out.exists() else next((p for p in out.absolute().parents if p.exists()), Path("/"))
    if not probe.is_dir():
        raise ConfigError(f"--out: {str(out)!r} is not writable: {str(probe)!r} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--out: {str(out)!r} is not writable (no write permission on {str(probe)!r})")
    check_existing(out, overwrite)


def check_existing(out, overwrite: bool) -> None:
    """Refuse to replace a dataset (or what looks like part of one) without ``--overwrite``; ``out``
    is a local path or a :class:`~synth_spark.storage.HadoopPath`."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: {str(out)!r} is a file; give a folder")
    if overwrite:
        return
    if (out / MANIFEST).exists():
        raise ConfigError(f"--out: {str(out)!r} already holds a dataset; pass --overwrite to replace it")
    partial = [fmt for fmt in FORMATS if (out / fmt).exists()]
    if partial:
        raise ConfigError(f"--out: {str(out)!r} holds {partial[0]}/ but no {MANIFEST} (an incomplete or foreign "
                          "dataset); pass --overwrite to replace it")


def run_generate(args: argparse.Namespace) -> int:
    off = {"anomalies": {name: {"enabled": False} for name in ANOMALY_TYPES}} if args.no_anomalies else {}
    cfg = load_config(args.conf, scale=args.scale, seed=args.seed, **off)
    if isinstance(args.out, Path):
        check_output(args.out, args.overwrite)
    partitions = args.partitions

    from .generate import Progress, generate
    from .session import build_session

    progress = Progress(quiet=args.quiet)
    progress(f"starting Spark ({args.master or 'spark-submit master'})")
    spark = build_session(args.master, partitions=partitions, driver_memory=args.driver_memory)
    out = resolve(spark, args.out)
    if not isinstance(out, Path):  # a URI: checked once Spark can reach its file system
        check_existing(out, args.overwrite)
    result = generate(spark, cfg, out, args.formats, partitions, progress)
    width = max(len(t) for t in result.rows)
    print(f"synth-spark: wrote {', '.join(args.formats)} to {result.out.resolve()} in {result.seconds:.1f}s")
    for table, rows in result.rows.items():
        print(f"  {table:<{width}}  {rows:>12,} rows  checksum {result.checksums[table]}")
    return 0


def _dataset_manifest(path: Path, name: str) -> dict:
    import json

    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ConfigError(f"{name}: {str(path)!r} holds no {MANIFEST}; give a folder written by 'synth-spark generate'")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{name}: cannot read {str(manifest_path)!r}: {exc}") from None
    if "parquet" not in manifest.get("formats", []):
        raise ConfigError(f"{name}: {str(path)!r} has no parquet output; generate with --format including parquet")
    return manifest


def run_validate(args: argparse.Namespace) -> int:
    from .config import config_from_manifest

    manifest = _dataset_manifest(args.dataset, "DATASET")
    cfg = config_from_manifest(manifest.get("config", {}))
    if args.control is not None:
        control_manifest = _dataset_manifest(args.control, "--control")
        if control_manifest.get("anomalies"):
            raise ConfigError(f"--control: {str(args.control)!r} has anomalies injected; generate it with --no-anomalies")
        for key in ("seed", "scale", "window"):
            if control_manifest.get(key) != manifest.get(key):
                raise ConfigError(f"--control: its {key} {control_manifest.get(key)!r} differs from the dataset's "
                                  f"{manifest.get(key)!r}; generate the control with the same --seed and --scale")
    report_dir = args.report or args.dataset / "report"

    from .generate import Progress
    from .metrics import Dataset
    from .report import write_report
    from .session import build_session
    from .scoring import anomaly_months, checks as anomaly_checks, ground_truth, score
    from .targets import FAIL, evaluate

    progress = Progress(quiet=args.quiet)
    progress(f"starting Spark ({args.master or 'spark-submit master'})")
    spark = build_session(args.master, app_name="synth-spark-validate")
    progress("measuring")
    root = str(args.dataset.resolve())
    ds = Dataset.load(spark, root, cfg.window.start, cfg.window.months)
    truth = ground_truth(ds, root)
    checks, frames = evaluate(ds, cfg, anomaly_months(ds, truth))
    progress("scoring the injected anomalies")
    scores = score(ds, truth)
    control = None
    if args.control is not None:
        progress("scoring the control run with the same ground truth")
        control = score(Dataset.load(spark, str(args.control.resolve()), cfg.window.start, cfg.window.months), truth)
    checks += anomaly_checks(scores, control)
    report = write_report(checks, frames, report_dir, manifest, scores, control)
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"  {c.verdict:<6} {c.name:<{width}}  measured {c.measured:<12} target {c.target} ({c.tolerance})")
    s = report["summary"]
    print(f"synth-spark: {s.get('pass', 0)} passed, {s.get(FAIL, 0)} failed; report in {report_dir.resolve()}")
    return 0 if report["passed"] else 1


def _check_format(text: str) -> str:
    from .check import CHECK_FORMATS

    value = text.strip().lower()
    if value not in CHECK_FORMATS:
        raise argparse.ArgumentTypeError(f"--format: {text!r} is not allowed; give {' or '.join(CHECK_FORMATS)}")
    return value


def run_check(args: argparse.Namespace) -> int:
    from .check import main as check_main

    return check_main(args.dataset, args.format, args.select, args.work_dir)


def run_verify(args: argparse.Namespace) -> int:
    from .verify import main as verify_main

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
    val.add_argument("--master", default=default_master, help=f"Spark master (default: {default_master or 'as spark-submit sets it'})")
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
    ver.add_argument("--master", default=default_master, help=f"Spark master (default: {default_master or 'as spark-submit sets it'})")
    try:
        args = parser.parse_args(argv)
        if args.command == "generate":
            return run_generate(args)
        if args.command == "validate":
            return run_validate(args)
        if args.command == "check":
            return run_check(args)
        if args.command == "verify":
            return run_verify(args)
    except ConfigError as err:
        print(f"synth-spark: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 1


if __name__ == "__main__":
    sys.exit(main())
