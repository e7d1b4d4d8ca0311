"""One real local SparkSession (local[2], UTC, UI off, Delta and a Hive metastore) for the whole test session,
and one small generated dataset shared by the pipeline tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .helpers import read_manifest

SMALL_SCALE = 0.1
SMALL_SEED = 11


#: modules that share session fixtures taking minutes to build (the as-of snapshots and the change
#: feed): one xdist group, so one worker builds them once
SHARED_GROUPS = {
    "tests/test_advance.py": "change data",
    "tests/test_change_feed.py": "change data",
    "tests/test_connect.py": "change data",
    "tests/test_no_tells.py": "tests/test_scoring.py",  # the anomaly run and its control, built once
}
#: the longest groups (minutes each, measured with --durations), sent to the workers first: a long
#: group left to the end would run alone while the other worker idles
LONGEST_FIRST = (
    "change data",
    "tests/test_documented_commands.py[docs/change-feeds.md]",
    "tests/test_object_store.py",
    "tests/test_documented_commands.py[README.md]",
    "tests/test_documented_commands.py[docs/object-stores.md]",
    "tests/test_documented_commands.py[docs/validation-report.md]",
    "tests/test_documented_commands.py[docs/checks.md]",
    "tests/test_bench.py",
)


def xdist_group(item) -> str:
    group = item.nodeid.split("::")[0]
    if group.endswith("test_documented_commands.py") and hasattr(item, "callspec"):
        return f"{group}[{item.callspec.id}]"  # each page may go to either worker
    return SHARED_GROUPS.get(group, group)


def pytest_configure(config):
    """Every JVM the tests start reads tests/spark-conf (a developer's own SPARK_CONF_DIR stands)."""
    os.environ.setdefault("SPARK_CONF_DIR", str(Path(__file__).with_name("spark-conf")))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test``: ``-n 2 --dist loadgroup --no-loadscope-reorder``) a module's
    tests share a worker, so a module's fixtures are built once, and the longest groups start first.
    First among the hooks: xdist's own reads the groups to schedule by, and marks added after it are
    ignored (every test was then its own group, and module fixtures were built on both workers)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
    rank = {group: i for i, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(xdist_group(item), len(rank)))  # stable: collection order otherwise


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """With Spark's embedded Hive metastore (Derby) in a folder of the worker's own: catalog tables
    are real metastore tables, and no metastore_db or spark-warehouse lands in the checkout."""
    from synth_spark.runtime.session import build_session

    home = tmp_path_factory.mktemp("metastore")
    catalog = {
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={home / 'metastore_db'};create=true",
        "spark.sql.warehouse.dir": str(home / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={home / 'derby.log'}",
    }
    session = build_session("local[2]", app_name="synth-spark-tests", partitions=4, extra=catalog)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_config():
    from synth_spark.config import load_config

    # All five anomalies on, so the pipeline and its ground-truth table are exercised end to end.
    on = {
        name: {"enabled": True}
        for name in ("viral_spike", "payment_outage", "holiday_churn", "creator_exodus", "category_collapse")
    }
    return load_config(scale=SMALL_SCALE, seed=SMALL_SEED, anomalies=on)


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory):
    """A Spark Connect server with Delta on 127.0.0.1 (scripts/spark-connect-server.sh), started
    once for the tests that need one: its ``sc://`` address."""
    from tests.spark_servers import connect_server as start

    with start(tmp_path_factory.mktemp("connect") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """An S3-compatible server on loopback (moto) with an empty bucket (spark_servers.S3_BUCKET)."""
    from tests.spark_servers import s3_server

    with s3_server(tmp_path_factory.mktemp("s3") / "moto.log") as url:
        yield url


def parquet_only(manifest: dict) -> dict:
    """``manifest`` as it would read had its run written Parquet alone (a second dataset to publish)."""
    manifest = json.loads(json.dumps(manifest))
    manifest["formats"] = ["parquet"]
    for entry in manifest["tables"].values():
        entry["paths"] = {"parquet": entry["paths"]["parquet"]}
    return manifest


def validate_report(folder: Path) -> None:
    """A report folder as ``validate`` leaves it: its record of the files, then those files."""
    from synth_spark.publish.written import write_report_record

    folder.mkdir(parents=True, exist_ok=True)
    names = ["report.json", "report.md", "report.html", "mrr.png"]
    write_report_record(folder, names)
    for name in names:
        (folder / name).write_text(
            json.dumps({"generator": "synth-spark"}) if name == "report.json" else name
        )


def manifest_only(
    folder: Path, formats: tuple[str, ...] = ("parquet",), /, text: str | None = None, **fields
) -> str:
    """``folder`` as a dataset of ours holding a manifest as generate writes one, and no table: for
    the checks that refuse a dataset before any table is read. ``fields`` replace the manifest's
    (None removes one); ``text`` replaces the whole file."""
    from synth_spark.manifest import KNOWN_TABLES

    paths = {"parquet": "parquet/{}", "delta": "delta/{}", "csv": "csv/{}.csv"}
    manifest = {
        "generator": "synth-spark",
        "seed": 42,
        "scale": 1.0,
        "partitions": 2,
        "layout": "tasks",
        "window": {"start": "2023-01-01", "end": "2024-12-31", "months": 24, "timezone": "UTC"},
        "formats": list(formats),
        "config": {},
        "tables": {
            t: {"rows": 1, "checksum": "0" * 16, "paths": {f: paths[f].format(t) for f in formats}}
            for t in KNOWN_TABLES
        },
    }
    manifest = {k: v for k, v in {**manifest, **fields}.items() if v is not None}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_manifest.json").write_text(
        text if text is not None else json.dumps(manifest)
    )  # fields may hold formats
    (folder / ".synth-spark-dataset").write_text("{}")
    return str(folder)


def copied_in_part(source: Path, target: Path, copied: int, deleted: int = 0) -> None:
    """What an object store's folder rename leaves when cut short (it copies every object, then
    deletes the originals): the first ``copied`` objects copied to ``target``, the first
    ``deleted`` of those gone from ``source``."""
    import shutil

    objects = sorted(p for p in source.rglob("*") if p.is_file())
    for obj in objects[:copied]:
        (target / obj.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(obj, target / obj.relative_to(source))
    for obj in objects[:deleted]:
        obj.unlink()


@pytest.fixture(scope="session")
def small_dataset(spark, small_config, tmp_path_factory) -> Path:
    """A dataset in all three formats at scale 0.1, generated once with 2 partitions."""
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    out = tmp_path_factory.mktemp("small") / "out"
    generate(
        spark, small_config, out, ["parquet", "delta", "csv"], partitions=2, progress=Progress(quiet=True)
    )
    return out


@pytest.fixture(scope="session")
def small_manifest(small_dataset) -> dict:
    return read_manifest(small_dataset)


@pytest.fixture(scope="session")
def tables(spark, small_dataset):
    from synth_spark.vocabulary import OUTPUT_TABLES

    return {t: spark.read.parquet(str(small_dataset / "parquet" / t)) for t in OUTPUT_TABLES}


@pytest.fixture(scope="session")
def small_control(spark, small_config, tmp_path_factory) -> Path:
    """The control run of ``small_dataset``: same seed and scale, anomalies off, Parquet only."""
    from synth_spark.config import load_config
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress
    from synth_spark.vocabulary import ANOMALY_TYPES

    cfg = load_config(
        scale=small_config.scale,
        seed=small_config.seed,
        anomalies={name: {"enabled": False} for name in ANOMALY_TYPES},
    )
    out = tmp_path_factory.mktemp("control") / "out"
    generate(spark, cfg, out, ["parquet"], partitions=2, progress=Progress(quiet=True))
    return out


#: the days the change-feed tests cut: a snapshot, then a range across a month's end and billing
#: days with the payment outage (2024-02-14..16) in it, and the window's last day
SNAPSHOT_DAY, LAST_DAY, WINDOW_LAST_DAY = "2024-01-27", "2024-02-16", "2024-12-31"


@pytest.fixture(scope="session")
def snapshots(spark, small_config, tmp_path_factory) -> dict:
    """``small_dataset``'s config cut at the end of each of the days above (Parquet), by day."""
    import datetime as dt

    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    root = tmp_path_factory.mktemp("as_of")
    out = {}
    for text in (SNAPSHOT_DAY, LAST_DAY, WINDOW_LAST_DAY):
        day = dt.date.fromisoformat(text)
        out[day] = root / text
        generate(
            spark, small_config, out[day], ["parquet"], partitions=2, progress=Progress(quiet=True), as_of=day
        )
    return out


@pytest.fixture(scope="session")
def feed(spark, small_config, tmp_path_factory) -> Path:
    """The daily change batches from the day after SNAPSHOT_DAY to LAST_DAY (Parquet)."""
    import datetime as dt

    from synth_spark.job.change_feed import write_changes
    from synth_spark.progress import Progress

    out = tmp_path_factory.mktemp("feed") / "changes"
    write_changes(
        spark,
        small_config,
        out,
        ["parquet"],
        dt.date.fromisoformat(SNAPSHOT_DAY) + dt.timedelta(days=1),
        dt.date.fromisoformat(LAST_DAY),
        2,
        Progress(quiet=True),
    )
    return out


def unmount(mount: Path) -> None:
    """Unmount a test's file system, waiting a few seconds while it is busy: the driver JVM of a
    command that just failed on it may still be closing its files as it exits."""
    import subprocess
    import time

    for _ in range(50):
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    subprocess.run(["umount", str(mount)], check=True)
