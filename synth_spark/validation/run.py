"""``synth-spark validate DATASET``: every statistical target of the seed measured on a dataset, each
injected anomaly scored blind against the ground truth, a report written. It reads only what the
dataset published (its tables and its manifest), never the generator's code."""

from __future__ import annotations

from pathlib import Path

from synth_spark import manifest as manifests
from synth_spark.config import config_from_manifest
from synth_spark.failures import ConfigError
from synth_spark.progress import Progress
from synth_spark.publish.claim import settle


def _dataset_manifest(path: Path, name: str) -> dict:
    if path.is_dir():
        settle(path, name)
    manifest = manifests.read(path, name)
    if "parquet" not in manifest.get("formats", []):
        raise ConfigError(f"{name}: {str(path)!r} has no parquet output; generate with --format including parquet")
    return manifest


def main(dataset: Path, control_dir: Path | None, report_dir: Path | None, master: str | None, quiet: bool) -> int:
    manifest = _dataset_manifest(dataset, "DATASET")
    cfg = config_from_manifest(manifest.get("config", {}))
    if control_dir is not None:
        control_manifest = _dataset_manifest(control_dir, "--control")
        if control_manifest.get("anomalies"):
            raise ConfigError(f"--control: {str(control_dir)!r} has anomalies injected; generate it with --no-anomalies")
        for key in ("seed", "scale", "window"):
            if control_manifest.get(key) != manifest.get(key):
                raise ConfigError(f"--control: its {key} {control_manifest.get(key)!r} differs from the dataset's "
                                  f"{manifest.get(key)!r}; generate the control with the same --seed and --scale")
    report_dir = report_dir or dataset / "report"

    from synth_spark.job.session import build_session
    from synth_spark.validation.metrics import Dataset
    from synth_spark.validation.report import write_report
    from synth_spark.validation.scoring import anomaly_months, ground_truth, score
    from synth_spark.validation.scoring import checks as anomaly_checks
    from synth_spark.validation.targets import FAIL, evaluate

    progress = Progress(quiet=quiet)
    progress(f"starting Spark ({master or 'spark-submit master'})")
    spark = build_session(master, app_name="synth-spark-validate", delta=False)
    progress("measuring")
    root = str(dataset.resolve())
    ds = Dataset.load(spark, root, cfg.window.start, cfg.window.months)
    truth = ground_truth(ds, root)
    checks, frames = evaluate(ds, cfg, manifests.latent_creators(manifest), anomaly_months(ds, truth))
    progress("scoring the injected anomalies")
    scores = score(ds, truth)
    control = None
    if control_dir is not None:
        progress("scoring the control run with the same ground truth")
        control = score(Dataset.load(spark, str(control_dir.resolve()), cfg.window.start, cfg.window.months), truth)
    checks += anomaly_checks(scores, control)
    report = write_report(checks, frames, report_dir, manifest, scores, control)
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"  {c.verdict:<6} {c.name:<{width}}  measured {c.measured:<12} target {c.target} ({c.tolerance})")
    s = report["summary"]
    print(f"synth-spark: {s.get('pass', 0)} passed, {s.get(FAIL, 0)} failed; report in {report_dir.resolve()}")
    return 0 if report["passed"] else 1
