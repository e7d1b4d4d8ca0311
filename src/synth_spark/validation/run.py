"""``synth-spark validate DATASET``: every statistical target of the platform measured on a dataset, each
injected anomaly scored blind against the ground truth, a report written. It reads only what the
dataset published (its tables and its manifest), never the generator's code."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

from synth_spark import manifest as manifests
from synth_spark.config import config_from_manifest
from synth_spark.extras import require
from synth_spark.failures import ConfigError
from synth_spark.manifest import Format
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.publish.lock import DatasetLock, LockHeld
from synth_spark.publish.opened import Opened, open_database, open_folder
from synth_spark.publish.readers import being_written

#: rows of each table shown in the report
SAMPLE_ROWS = 3
SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
#: shuffle partitions per task of the run that generated the dataset (a task made ~4M rows)
SHUFFLES_PER_TASK = 4
#: how long the report waits for a moment when nobody else holds the dataset's lock
REPORT_LOCK_WAIT = 10


def opened_whole(folder: Path, name: str) -> Opened:
    """A folder dataset opened for reading, refused if it is a snapshot."""
    opened = open_folder(folder, name)
    _refuse_snapshot(opened.manifest, name, repr(str(folder)))
    return opened


def _report_lock(dataset: Path) -> DatasetLock:
    """The report goes into the dataset: written as a writer would, under its lock, so that no publish
    moves the old report aside while a report of the data it replaces comes in."""
    lock = DatasetLock(dataset)
    deadline = time.monotonic() + REPORT_LOCK_WAIT
    while True:
        try:
            lock.acquire()
            return lock
        except LockHeld:
            if time.monotonic() > deadline:
                raise being_written("DATASET", dataset) from None
            time.sleep(0.5)


def _refuse_snapshot(manifest: dict, name: str, what: str) -> None:
    if manifest.get("as_of"):
        raise ConfigError(
            f"{name}: {what} is a snapshot as of {manifest['as_of']}; validate judges the whole "
            "window: give a dataset generated without --as-of"
        )


def main(
    dataset: Path | None,
    control_dir: Path | None,
    report_dir: Path | None,
    master: str | None,
    quiet: bool,
    database: str | None = None,
    spark_conf: dict[str, str] | None = None,
    truth_file: Path | None = None,
) -> Outcome:
    """Validate the dataset in the folder ``dataset``, or in the catalog's ``database``;
    ``truth_file``: its ground truth, when it is kept apart (generate --truth-out)."""
    require("validate")
    progress = Progress(quiet=quiet)
    spark = None
    if database is not None:
        from synth_spark.runtime.session import build_session  # the "spark" extra, once input is known good
        from synth_spark.runtime.spark_status import running_stages

        progress(f"starting Spark ({master or 'spark-submit master'})")
        spark = build_session(master, app_name="synth-spark-validate", extra=spark_conf)
        progress.watch(running_stages(spark))
        opened = open_database(spark, database, progress)
        _refuse_snapshot(opened.manifest, "--database", database)
    else:
        opened = opened_whole(dataset, "DATASET")
    manifest = opened.manifest
    truth_rows = kept_apart_truth(manifest, truth_file, dataset)
    control_opened = None if control_dir is None else opened_control(control_dir, manifest)
    control_manifest = None if control_opened is None else control_opened.manifest
    report_dir = report_folder(dataset, database, report_dir, truth_rows is not None)

    # here, not at the top: a dataset refused above costs no import of pyspark (1 s of CPU)
    from synth_spark.runtime.connect import check_server_sees
    from synth_spark.runtime.session import build_session
    from synth_spark.runtime.spark_status import running_stages

    if spark is None:
        progress(f"starting Spark ({master or 'spark-submit master'})")
        read_as_delta = [
            m
            for m in (manifest, control_manifest)
            if m and Format.PARQUET not in m["formats"] and Format.DELTA in m["formats"]
        ]
        spark = build_session(
            master, app_name="synth-spark-validate", delta=bool(read_as_delta), extra=spark_conf
        )
        progress.watch(running_stages(spark))
    for folder in (None if database else dataset, control_dir):
        if folder is not None:
            check_server_sees(spark, folder)
    return measured(spark, opened, control_opened, report_dir, progress, truth_rows)


def kept_apart_truth(manifest: dict, truth_file: Path | None, dataset: Path | None) -> list[dict] | None:
    """The rows of a truth kept apart from the dataset (None when the dataset holds its own)."""
    if manifest.get("ground_truth") != manifests.TRUTH_APART:
        if truth_file is not None:
            raise ConfigError(
                "--truth: the dataset holds its own ground truth (its anomalies table); leave --truth out"
            )
        return None
    if truth_file is None:
        raise ConfigError(
            f"--truth: the ground truth of {str(dataset)!r} is kept apart; give the file 'generate --truth-out' "
            "wrote"
        )
    from synth_spark.publish.truth_file import read_truth

    return read_truth(truth_file, manifest)


def report_folder(dataset: Path | None, database: str | None, given: Path | None, truth_apart: bool) -> Path:
    """Where the report goes: by default inside the dataset, unless its truth is kept apart: the
    report names the answers, and the dataset's folder is what a tool under test is given."""
    if database is not None:
        return given or Path(f"report-{database}").absolute()
    if not truth_apart:
        return given or dataset / "report"
    report = (given or dataset.parent / f"{dataset.name}-report").absolute()
    if report.resolve() == dataset.resolve() or dataset.resolve() in report.resolve().parents:
        raise ConfigError(
            f"--report: {str(report)!r} is inside the dataset, whose ground truth is kept apart: the report "
            "names the answers; give a folder outside it"
        )
    return report


def opened_control(control_dir: Path, manifest: dict, name: str = "--control") -> Opened:
    """The control run, opened: no anomalies, and the dataset's seed, scale and window."""
    control = opened_whole(control_dir, name)
    if control.manifest.get("anomalies") or control.manifest.get("ground_truth") == manifests.TRUTH_APART:
        raise ConfigError(
            f"{name}: {str(control_dir)!r} has anomalies injected; generate it with --no-anomalies"
        )
    for key in ("seed", "scale", "window"):
        if control.manifest.get(key) != manifest.get(key):
            raise ConfigError(
                f"{name}: its {key} {control.manifest.get(key)!r} differs from the dataset's "
                f"{manifest.get(key)!r}; generate the control with the same --seed and --scale"
            )
    return control


def measured(
    spark,
    opened: Opened,
    control_opened: Opened | None,
    report_dir: Path,
    progress: Progress,
    truth_rows: list[dict] | None = None,
) -> Outcome:
    """Every target measured on the opened dataset with ``spark`` (the session's settings as they
    were once done), each anomaly scored, the report written to ``report_dir``."""
    from synth_spark.runtime.session import cores, own_settings  # pyspark: once the input is known good

    manifest = opened.manifest
    # Validate caches the pledge-month panel and the creators x months frame and then runs dozens of
    # small aggregations over them. Without this, a cached frame keeps the 200 partitions of its last
    # shuffle and every one of those aggregations pays 200 tasks (10x: 230 s, against 52 s without).
    forced = {"spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true"}
    # Spark's default 200 shuffle partitions per aggregation are far too many for a small dataset
    # (10x: the panel 6.3 s with 200, 4.1 s with 8) and too few for a large one; the generating
    # run's task count grows with the data.
    shuffles = {
        SHUFFLE_PARTITIONS: str(max(SHUFFLES_PER_TASK * int(manifest.get("partitions") or 1), cores(spark)))
    }
    with own_settings(spark, shuffles, forced):  # the session as it was once done: it may be the caller's
        return _measured(spark, opened, control_opened, report_dir, progress, truth_rows)


def _measured(
    spark,
    opened: Opened,
    control_opened: Opened | None,
    report_dir: Path,
    progress: Progress,
    truth_rows: list[dict] | None = None,
) -> Outcome:
    # matplotlib (the "validate" extra) and the Spark side of validation: once the input is known good
    from synth_spark.validation import noise, realised
    from synth_spark.validation.aggregates import Aggregates
    from synth_spark.validation.anomaly_verdicts import judge as anomaly_checks
    from synth_spark.validation.anomaly_verdicts import unscored
    from synth_spark.validation.metrics import Dataset
    from synth_spark.validation.report import write_report
    from synth_spark.validation.scoring import anomaly_months, ground_truth, score, with_truth_apart
    from synth_spark.validation.segment_scoring import touched_creator_months
    from synth_spark.validation.targets import evaluate
    from synth_spark.validation.verdicts import BELOW_1X, FAIL, NOISY, SHORT_VERDICT, below_calibration

    manifest, database = opened.manifest, None if opened.db is None else opened.db.name
    dataset = None if opened.reading is None else opened.reading.dataset
    control_manifest = None if control_opened is None else control_opened.manifest
    cfg = config_from_manifest(manifest.get("config", {}))
    progress("measuring")
    readings = [o for o in (opened, control_opened) if o is not None]
    # a read that fails because another run changed a dataset under it says so, in one line
    with ExitStack() as guards:
        for r in readings:
            guards.enter_context(r.guarded())
        if database is not None:
            versions = opened.versions
            ds = Dataset(
                spark,
                {t: opened.db.read(t, versions.get(t)) for t in manifest["tables"]},
                cfg.window.start,
                cfg.window.months,
            )
        else:
            ds = Dataset.load(
                spark, str(dataset.resolve()), cfg.window.start, cfg.window.months, manifest, opened.versions
            )
        if truth_rows is not None:
            with_truth_apart(ds, truth_rows)
        truth = ground_truth(ds)
        latent, months = manifests.latent_creators(manifest), anomaly_months(ds, truth)
        touched = touched_creator_months(ds, truth, latent)
        checks, frames = evaluate(ds, cfg, latent, months, touched)
        if any(c.verdict == FAIL for c in checks):
            progress(
                f"measuring each check on {noise.GROUPS} quarters of the creators (a failure's noise at "
                f"scale {cfg.scale:g})"
            )
            checks = noise.judge(
                checks,
                noise.measure_quarters(ds, lambda part: evaluate(part, cfg, latent, months, touched)[0]),
            )
        progress("scoring the injected anomalies")
        aggregates = Aggregates(ds)
        scores = score(ds, truth, latent, aggregates)
        control, effects = None, {}
        if control_opened is not None:
            progress("scoring the control run with the same ground truth")
            control_ds = Dataset.load(
                spark,
                str(control_opened.reading.dataset.resolve()),
                cfg.window.start,
                cfg.window.months,
                control_manifest,
                control_opened.versions,
            )
            control_aggregates = Aggregates(control_ds)
            control = score(control_ds, truth, latent, control_aggregates)
            progress("measuring each anomaly against the control run")
            effects = {
                **realised.measured(scores, control),
                **realised.defaults(aggregates, control_aggregates, truth),
            }
        checks += anomaly_checks(
            scores, control, {"holiday_churn": cfg.anomalies.holiday_churn.voluntary_uplift}
        )
        checks += unscored(truth)
        checks += realised.lines(effects, truth)
        checks = below_calibration(checks, cfg.scale)
        progress("writing the report")
        samples = {
            name: [
                {k: ("" if v is None else str(v)) for k, v in row.asDict().items()}
                for row in df.orderBy(df.columns[0]).limit(SAMPLE_ROWS).collect()
            ]
            for name, df in ds.tables.items()
        }
    lock = None
    if database is None and report_dir.resolve().is_relative_to(dataset.resolve()):
        lock = _report_lock(dataset)
    try:
        for r in readings:
            r.still()  # what was measured is one publish of each dataset
        report = write_report(
            checks,
            frames,
            report_dir,
            manifest,
            scores,
            control,
            samples,
            realised.ground_truth(truth, effects),
        )
    finally:
        if lock is not None:
            lock.release()
    width = max(len(c.name) for c in checks)
    lines = [
        f"  {SHORT_VERDICT.get(c.verdict, c.verdict):<6} {c.name:<{width}}  measured {c.measured:<12} "
        f"target {c.target} ({c.tolerance})"
        for c in checks
    ]
    s = report["summary"]
    noisy = f", {s[NOISY]} too noisy to judge at this scale" if s.get(NOISY) else ""
    small = f", {s[BELOW_1X]} {BELOW_1X} (the targets hold from 1x)" if s.get(BELOW_1X) else ""
    lines.append(
        f"synth-spark: {s.get('pass', 0)} passed, {s.get(FAIL, 0)} failed{noisy}{small}; report in {report_dir}"
    )
    document = {
        "command": "validate",
        "dataset": str(dataset.resolve()) if database is None else database,
        "report": str(Path(report_dir).resolve()),
        "passed": report["passed"],
        "summary": s,
        "checks": [
            {
                "name": c.name,
                "verdict": c.verdict,
                "measured": c.measured,
                "target": c.target,
                "tolerance": c.tolerance,
            }
            for c in checks
        ],
    }
    return Outcome(0 if report["passed"] else 1, lines, document)
