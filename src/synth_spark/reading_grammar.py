"""The grammar of the commands that read a dataset: ``validate``, ``check`` and ``verify``, and the
benchmark's ``questions``, ``metrics`` and ``score``."""

from __future__ import annotations

from pathlib import Path

from synth_spark import options
from synth_spark.grammar_parts import (
    typed,
    add_format_option,
    add_output_options,
    add_session_options,
    reading_command,
)


def add_reading_commands(sub, default_master: str | None) -> None:
    val = reading_command(
        sub,
        "validate",
        "measure every statistical target of the platform on a dataset",
        options.dataset_folder,
        "a folder written by 'synth-spark generate' (with parquet or delta)",
    )
    val.add_argument(
        "--report",
        type=typed(options.folder, "--report"),
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
    val.add_argument(
        "--truth",
        type=Path,
        default=None,
        metavar="FILE",
        help="the ground truth 'generate --truth-out' wrote, for a dataset that does not hold its own",
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
        type=typed(options.folder, "--work-dir"),
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
    add_benchmark_commands(sub)


def add_benchmark_commands(sub) -> None:
    """What a root-cause tool under test is given, and how its findings are scored (no Spark)."""
    que = sub.add_parser(
        "questions", help="the investigation questions of a dataset, without their answers (JSON Lines)"
    )
    que.add_argument(
        "dataset",
        type=typed(options.dataset_folder),
        metavar="DATASET",
        help="a folder written by 'synth-spark generate'",
    )
    add_output_options(que)
    met = sub.add_parser("metrics", help="materialise the KPI cube a root-cause tool investigates (Parquet)")
    met.add_argument(
        "dataset",
        type=typed(options.dataset_folder),
        metavar="DATASET",
        help="a folder written by 'synth-spark generate'",
    )
    met.add_argument(
        "--out",
        type=typed(options.folder, "--out"),
        default=None,
        metavar="FOLDER",
        help="where the cube's tables go (default: the folder DATASET-kpis beside the dataset)",
    )
    add_format_option(met, "files to read", None, "parquet, else delta, else csv")
    add_output_options(met)
    sco = sub.add_parser("score", help="score a root-cause tool's findings against a dataset's ground truth")
    sco.add_argument(
        "dataset",
        type=typed(options.dataset_folder),
        metavar="DATASET",
        help="the dataset the findings are about",
    )
    sco.add_argument(
        "findings", type=Path, metavar="FINDINGS", help="the tool's findings (docs/benchmark-scoring.md)"
    )
    sco.add_argument(
        "--truth",
        type=Path,
        default=None,
        metavar="FILE",
        help="the ground truth written by 'generate --truth-out' (default: the dataset's anomalies table)",
    )
    sco.add_argument(
        "--control-findings",
        dest="control_findings",
        type=Path,
        default=None,
        metavar="FINDINGS",
        help="the same tool's findings on the control run (same seed, --no-anomalies): each is a false alarm",
    )
    add_output_options(sco)
