"""``advance``: move a snapshot's Delta tables forward day by day, the way a platform's tables move
under daily ingestion: for each day, one commit per table of that day's change batch (a MERGE, or an
append for the append-only tables), with Delta's change data feed on, so ``readChangeFeed`` between
two days' versions returns that day's changes and time travel to a day's version is the snapshot of
that day.

The manifest records each day's table versions and, once every day is merged, the new ``as_of``,
rows and checksums. A killed run leaves a note of the versions it started from (``ADVANCING``) and of
the run that wrote the dataset; the next ``advance`` restores the tables to them, so the tables and
the manifest agree again, unless the dataset was replaced since (its manifest names another run):
the note then describes tables that are gone, and goes.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from synth_spark import manifest
from synth_spark.config import ConfigError, config_from_manifest
from synth_spark.job.as_of import APPEND_ONLY, KEYS
from synth_spark.job.change_feed import days_between, run_partitions, stage_batches
from synth_spark.job.changes import BATCH_DATE, CHANGE_TYPE
from synth_spark.job.generate import CONCURRENT_JOBS
from synth_spark.job.writers import Staging
from synth_spark.manifest import Format
from synth_spark.progress import Progress
from synth_spark.publish.dataset_folder import ADVANCING
from synth_spark.publish.storage import write_synced
from synth_spark.runtime.tables import checksum
from synth_spark.simulation.plan import Plan
from synth_spark.vocabulary import TABLE_ORDER, columns


#: tables merged side by side: a MERGE at small scale waits on the driver more than it computes
MERGING_AT_ONCE = 3


def refuse_unadvanceable(dataset: Path, m: dict, to: dt.date) -> dt.date:
    """The snapshot's day, or one line saying why this dataset cannot be advanced to ``to``."""
    if Format.DELTA not in m.get("formats", []):
        raise ConfigError(
            f"DATASET: {str(dataset)!r} has no Delta tables; generate it with --format delta and --as-of"
        )
    if m["formats"] != [Format.DELTA]:
        others = ", ".join(f for f in m["formats"] if f != Format.DELTA)
        raise ConfigError(
            f"DATASET: {str(dataset)!r} also holds {others}, which advance would leave behind; "
            "generate the snapshot with --format delta only"
        )
    if not m.get("as_of"):
        raise ConfigError(
            f"DATASET: {str(dataset)!r} is not a snapshot (no as_of); generate it with --as-of DAY"
        )
    if "window" not in m:
        raise ConfigError(
            f"DATASET: {str(dataset)!r} has a manifest without its window; advance moves a snapshot "
            "within it: give a folder written by 'synth-spark generate --as-of DAY'"
        )
    # both checked when the manifest was read (manifest.header_problem)
    as_of = dt.date.fromisoformat(m["as_of"])
    last = dt.date.fromisoformat(m["window"]["end"])
    if not as_of < to <= last:
        raise ConfigError(
            f"--to: {to.isoformat()} is not after the snapshot's day {as_of.isoformat()} and within the "
            f"window; give a day from {(as_of + dt.timedelta(days=1)).isoformat()} to {last.isoformat()}"
        )
    manifest.check(m)  # every table at a path of ours, before any is read or merged
    return as_of


def run_of(m: dict) -> str:
    """The run that wrote a dataset: its run id (a manifest of an older synth-spark: when it was written)."""
    return str(m.get("run_id") or m.get("generated_at"))


def _delta(spark: SparkSession, path: Path):
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, str(path))


def _version(spark: SparkSession, path: Path) -> int:
    """The table's latest version: the highest commit file in its log (no Spark job)."""
    commits = [int(p.stem) for p in (path / "_delta_log").glob("*.json") if p.stem.isdigit()]
    return max(commits) if commits else int(_delta(spark, path).history(1).select("version").first()[0])


def restore_interrupted(spark: SparkSession, dataset: Path, progress=print) -> None:
    """Put the tables of an advance that did not finish back to the versions it started from."""
    note = dataset / ADVANCING
    if not note.exists():
        return
    recorded = json.loads(note.read_text())
    m = manifest.read(dataset)
    if "run" in recorded and recorded["run"] != run_of(m):  # a note without one: an older synth-spark's
        note.unlink()
        progress(
            f"removed the note of an advance of {dataset} that did not finish: the dataset it was advancing "
            "has been replaced since"
        )
        return
    if m.get("as_of") == recorded.get("to"):  # killed once its manifest was in: that advance is done
        note.unlink()
        return
    started = recorded["versions"]
    for table, version in started.items():
        path = dataset / m["tables"][table]["paths"]["delta"]
        if _version(spark, path) != version:
            _delta(spark, path).restoreToVersion(version)
    note.unlink()
    progress(
        f"restored the Delta tables of {dataset} to {m['as_of']}, where an advance that did not finish had "
        "left them"
    )


def advance(
    spark: SparkSession, dataset: Path, to: dt.date, partitions: int | None, progress: Progress
) -> dict:
    """Merge the days after the snapshot's up to ``to`` into its Delta tables; the new manifest."""
    m = manifest.read(dataset)
    as_of = refuse_unadvanceable(dataset, m, to)
    restore_interrupted(spark, dataset, progress)
    cfg = config_from_manifest(m["config"])
    first = as_of + dt.timedelta(days=1)
    progress(f"advancing {dataset} from {as_of.isoformat()} to {to.isoformat()}")
    plan = Plan.make(cfg)
    partitions = run_partitions(spark, plan, partitions or m.get("partitions"))
    paths = {t: dataset.resolve() / m["tables"][t]["paths"]["delta"] for t in TABLE_ORDER}
    staging = Staging(dataset)
    try:
        batches = stage_batches(spark, plan, staging, partitions, progress, first, to, "changes")
        started = {t: _version(spark, p) for t, p in paths.items()}
        write_synced(
            dataset / ADVANCING,
            json.dumps(
                {"run": run_of(m), "from": as_of.isoformat(), "to": to.isoformat(), "versions": started}
            ),
        )
        progress("turning on each table's change data feed")
        with ThreadPoolExecutor(max_workers=len(paths), thread_name_prefix="synth-spark-cdf") as pool:
            started.update(pool.map(lambda t: (t, _feed_on(spark, paths[t], started[t])), paths))
        versions = dict(m.get("delta_versions", {}))
        versions.setdefault(as_of.isoformat(), dict(started))  # time travel to the snapshot's own day
        days = days_between(first, to)
        # a day without changes to a table makes no commit: its version stays the day before's
        todo = {t: [d for d in days if _has_batch(staging.path("changes", t), d)] for t in TABLE_ORDER}
        merged = _merge_days(spark, paths, batches, todo, days, progress)
        current = dict(started)
        for day in days:
            current.update(merged.get(day, {}))
            versions[day.isoformat()] = dict(current)
        with ThreadPoolExecutor(max_workers=CONCURRENT_JOBS, thread_name_prefix="synth-spark-sum") as pool:
            sums = dict(
                pool.map(lambda t: (t, checksum(spark.read.format("delta").load(str(paths[t])))), paths)
            )
        tables = {
            **m["tables"],
            **{t: {**m["tables"][t], "rows": n, "checksum": c} for t, (n, c) in sums.items()},
        }
        updated = {**m, "as_of": to.isoformat(), "tables": tables, "delta_versions": versions}
        write_synced(dataset / manifest.MANIFEST, manifest.text(updated))
        (dataset / ADVANCING).unlink()
    finally:
        staging.discard()
    return updated


def _feed_on(spark: SparkSession, path: Path, version: int) -> int:
    """Turn on the table's change data feed unless it is on; the table's version after."""
    if _delta(spark, path).detail().first()["properties"].get("delta.enableChangeDataFeed") == "true":
        return version
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)")
    return _version(spark, path)


def _has_batch(folder: Path, day: dt.date) -> bool:
    """Whether the table changed on ``day``: its staged batch has a folder for the day only then (a
    partitioned write makes none for a value without rows), so no Spark job has to ask."""
    return (folder / f"{BATCH_DATE}={day.isoformat()}").is_dir()


def _merge_days(spark, paths: dict, batches: dict, todo: dict, days: list, progress) -> dict:
    """Each table's days merged in order, the tables side by side: a table's commit of one day
    waits only for its own commit of the day before, not for the other tables (a day's barrier
    left cores idle while the slowest table finished). {day: {table: version after}}."""
    merged: dict[dt.date, dict[str, int]] = {d: {} for d in days}
    left = {d: sum(d in todo[t] for t in todo) for d in days}
    lock, failed = threading.Lock(), threading.Event()
    reported = [0]

    def report() -> None:  # days in order, once every table that changed on them is merged
        while reported[0] < len(days) and left[days[reported[0]]] == 0:
            progress(f"merged {days[reported[0]].isoformat()}")
            reported[0] += 1

    def run(table: str) -> None:
        try:
            for day in todo[table]:
                if failed.is_set():  # another table's merge failed: the next advance restores them all
                    return
                version = _merge_day(spark, paths[table], batches[table], table, day)
                with lock:
                    merged[day][table] = version
                    left[day] -= 1
                    report()
        except BaseException:
            failed.set()
            raise

    with lock:
        report()
    heaviest_first = sorted(todo, key=lambda t: t in APPEND_ONLY)
    with ThreadPoolExecutor(max_workers=MERGING_AT_ONCE, thread_name_prefix="synth-spark-merge") as pool:
        for done in [pool.submit(run, t) for t in heaviest_first]:
            done.result()
    return merged


def _merge_day(spark: SparkSession, path: Path, batches, table: str, day: dt.date) -> int:
    """One commit of the day's batch: updates replace, inserts add, deletes remove. The table's version after
    it."""
    key, cols = KEYS[table], columns(table)
    source = batches.where(F.col(BATCH_DATE) == day.isoformat())
    if table in APPEND_ONLY:
        # A row of these tables is written once and never changes, so its batch holds inserts of new
        # keys only: an append commits the same rows (the change feed reads them as inserts) without
        # the MERGE's join against every file of the table, which grew with each day merged.
        source.select(*cols).write.format("delta").mode("append").save(str(path))
        return _version(spark, path)
    (
        _delta(spark, path)
        .alias("t")
        .merge(source.alias("s"), f"t.{key} = s.{key}")
        .whenMatchedDelete(condition=f"s.{CHANGE_TYPE} = 'delete'")
        .whenMatchedUpdate(set={c: f"s.{c}" for c in cols})
        .whenNotMatchedInsert(condition=f"s.{CHANGE_TYPE} != 'delete'", values={c: f"s.{c}" for c in cols})
        .execute()
    )
    return _version(spark, path)
