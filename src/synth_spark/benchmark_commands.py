"""The benchmark's commands, run from their settled options: ``questions`` (what a tool under test
is asked), ``metrics`` (the KPI cube it investigates) and ``score`` (its findings against the ground
truth). None starts Spark: they read the manifest, the truth file and the dataset's files."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from synth_spark.config import ConfigError
from synth_spark.manifest import read as read_manifest
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress


def _manifest(dataset: Path) -> dict:
    m = read_manifest(dataset)
    if "questions" not in m:
        raise ConfigError(
            f"DATASET: {str(dataset)!r} was written by an older synth-spark, whose manifest lists no "
            "questions; generate it again"
        )
    return m


def run_questions(args: argparse.Namespace) -> Outcome:
    m = _manifest(args.dataset)
    questions = m["questions"]
    return Outcome(0, [json.dumps(q) for q in questions], {"command": "questions", "questions": questions})


def run_metrics(args: argparse.Namespace) -> Outcome:
    from synth_spark.benchmark.kpi_cube import materialise

    dataset = Path(args.dataset)
    out = Path(args.out) if args.out else dataset.resolve().parent / f"{dataset.resolve().name}-kpis"
    if out.resolve() == dataset.resolve() or dataset.resolve() in out.resolve().parents:
        raise ConfigError(
            f"--out: {str(out)!r} is inside the dataset's folder, which holds only what its manifest lists; "
            "give a folder outside it"
        )
    fmt = None if not args.formats else args.formats[0]
    if args.formats and len(args.formats) > 1:
        raise ConfigError("--format: metrics reads one format; give parquet, delta or csv")
    progress = Progress(quiet=args.quiet)
    started = time.monotonic()
    rows = materialise(dataset, out, fmt, progress)
    seconds = time.monotonic() - started
    lines = [f"synth-spark: wrote the KPI cube of {dataset} to {out} in {seconds:.1f}s"] + [
        f"  {table:<14} {n:>12,} rows" for table, n in rows.items()
    ]
    return Outcome(
        0,
        lines,
        {
            "command": "metrics",
            "dataset": str(dataset),
            "out": str(out),
            "seconds": round(seconds, 1),
            "tables": rows,
        },
    )


def run_score(args: argparse.Namespace) -> Outcome:
    from synth_spark.benchmark.findings import load_findings
    from synth_spark.benchmark.report import score_lines
    from synth_spark.benchmark.scoring import score
    from synth_spark.benchmark.truth import load_truth

    m = _manifest(args.dataset)
    truth = load_truth(args.dataset, m, args.truth)
    tool, findings = load_findings(args.findings)
    control = None
    if args.control_findings is not None:
        _, control = load_findings(args.control_findings, "--control-findings")
    result = score(truth, findings, int(m["window"]["months"]), control)
    doc = {"command": "score", "dataset": str(args.dataset), "tool": tool, **result}
    return Outcome(0, score_lines(doc), doc)
