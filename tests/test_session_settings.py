"""A session's settings never change the data: those the written values depend on are refused on
the command line unless at synth-spark's own value, and the others (or a notebook session's time
zone) leave the checksums and the CSV text as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth_spark.cli import main
from synth_spark.options import DATA_SETTINGS

from .helpers import read_manifest

TINY = ["--scale", "0.02", "--format", "parquet,csv", "--partitions", "2", "--quiet"]
OTHER_VALUES = {
    "spark.sql.session.timeZone": "America/New_York",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MILLIS",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "LEGACY",
    "spark.sql.parquet.int96RebaseModeInWrite": "LEGACY",
}


def written(out: Path) -> tuple[dict, str]:
    """Each table's checksum, and the first pledge's line of the CSV (its timestamps as text)."""
    manifest = read_manifest(out)
    csv_lines = (out / manifest["tables"]["pledges"]["paths"]["csv"]).read_text().splitlines()
    return {t: e["checksum"] for t, e in manifest["tables"].items()}, sorted(csv_lines[1:])[0]


@pytest.fixture(scope="module")
def plain(spark, tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("plain") / "out"
    assert main(["generate", str(out), *TINY]) == 0
    return written(out)


@pytest.mark.parametrize("key", sorted(DATA_SETTINGS))
def test_a_setting_the_values_depend_on_is_refused_unless_at_ours(tmp_path, capsys, key):
    out = tmp_path / "out"
    assert main(["generate", str(out), *TINY, "--spark-conf", f"{key}={OTHER_VALUES[key]}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(
        f"--spark-conf: {key} is fixed at {DATA_SETTINGS[key]} (the dataset's values depend on it); "
        "leave it out"
    ), err
    assert not out.exists()


@pytest.mark.parametrize(
    "key, value",
    [
        ("spark.sql.session.timeZone", "utc"),
        ("spark.sql.ansi.enabled", "false"),
        ("spark.sql.legacy.timeParserPolicy", "LEGACY"),
    ],
)
def test_other_settings_leave_the_data_as_they_are(spark, plain, tmp_path, key, value):
    out = tmp_path / "out"
    before = spark.conf.get(key, None)  # the in-process command sets it on the tests' shared session
    try:
        assert main(["generate", str(out), *TINY, "--spark-conf", f"{key}={value}"]) == 0
        assert written(out) == plain
        assert main(["verify", str(out)]) == 0
    finally:
        spark.conf.unset(key) if before is None else spark.conf.set(key, before)


def test_a_notebook_sessions_time_zone_leaves_the_csv_in_utc(spark, plain, tmp_path):
    """A notebook's own session (the library's Generator writes with it) in another time zone."""
    from synth_spark import Generator

    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        Generator(spark, scale=0.02, partitions=2).write(tmp_path / "out", formats=["parquet", "csv"])
        assert written(tmp_path / "out") == plain
        assert main(["verify", str(tmp_path / "out")]) == 0
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
