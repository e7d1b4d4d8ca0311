"""The library API from an existing session: the tables as lazy DataFrames, or a dataset written as
the command line writes it, with the same checksums; bad options refused before any work."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import synth_spark
from synth_spark.runtime.tables import checksum
from synth_spark.vocabulary import OUTPUT_TABLES

from .helpers import table_checksums


def test_built_tables_have_the_command_lines_rows_and_checksums(spark, small_config, small_dataset):
    gen = synth_spark.Generator(spark, config=small_config, partitions=3)
    try:
        tables = gen.build()
        assert list(tables) == list(OUTPUT_TABLES)
        assert {t: checksum(df) for t, df in tables.items()} == table_checksums(small_dataset)
    finally:
        gen.unpersist()


def test_building_runs_nothing_until_an_action(spark, small_config):
    jobs_before = spark.sparkContext.statusTracker().getJobIdsForGroup(None)
    tables = synth_spark.Generator(spark, config=small_config).build(["pledges", "creators"])
    assert list(tables) == ["pledges", "creators"]
    assert spark.sparkContext.statusTracker().getJobIdsForGroup(None) == jobs_before


def test_write_takes_a_plain_string_path_and_matches_the_cli(spark, small_config, small_dataset, tmp_path):
    out = tmp_path / "api"
    result = synth_spark.Generator(spark, config=small_config).write(str(out), formats="parquet")
    assert result.out == out
    assert table_checksums(out) == table_checksums(small_dataset)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"scale": 0}, "scale: '0' is not allowed; give a factor above 0 and up to 10,000"),
        ({"seed": -3}, "seed: '-3' is not a whole number; give 0 to 2**63-1"),
        ({"partitions": 0}, "partitions: 0 is not allowed; give 1 to 10,000"),
        (
            {"as_of": "2031-01-01"},
            "as_of: 2031-01-01 is outside the window; give a day from 2023-01-01 to 2024-12-31",
        ),
        (
            {"settings": {"anomalies.viral_spike.enabled": "maybe"}},
            "config: anomalies.viral_spike.enabled: Input should be a valid boolean (got 'maybe')",
        ),
    ],
)
def test_bad_options_are_refused_in_one_line(spark, options, message):
    with pytest.raises(synth_spark.ConfigError) as err:
        synth_spark.Generator(spark, **options)
    assert str(err.value) == message


def test_a_bad_format_is_refused_before_anything_runs_or_is_written(spark, small_config, tmp_path):
    out = tmp_path / "never"
    gen = synth_spark.Generator(spark, config=small_config)
    with pytest.raises(synth_spark.ConfigError, match=r"^formats: 'json' is not a format; allowed: "):
        gen.write(out, formats=["parquet", "json"])
    assert not out.exists()
    assert gen._plan is None  # not even planned


def test_an_unknown_table_is_refused(spark, small_config):
    with pytest.raises(
        synth_spark.ConfigError, match=r"^tables: 'pledge' is not a table; give some of creators, "
    ):
        synth_spark.Generator(spark, config=small_config).build(["pledge"])


def test_the_api_leaves_the_callers_session_as_it_found_it(spark, small_config, tmp_path, monkeypatch):
    # a notebook's session: none of synth-spark's write settings given, its own Python for workers
    written_as = ("spark.sql.parquet.outputTimestampType", "spark.sql.sources.partitionOverwriteMode")
    given = {key: spark.conf.get(key, None) for key in written_as}
    sc = spark.sparkContext
    own_python = sc.pythonExec
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    for key in written_as:
        spark.conf.unset(key)
    sc.pythonExec = str(Path(sys.executable).parent / "python3")  # the same interpreter by another name
    spark.range(1).count()  # Delta's extension sets two settings of its own on a session's first query
    try:
        before = {**spark.conf.getAll, "pythonExec": sc.pythonExec}
        gen = synth_spark.Generator(spark, config=small_config)
        gen.build(["creators"])
        gen.write(tmp_path / "out", formats="parquet")
        after = {**spark.conf.getAll, "pythonExec": sc.pythonExec}
        assert {
            k: (before.get(k), after.get(k)) for k in {*before, *after} if before.get(k) != after.get(k)
        } == {}
    finally:
        sc.pythonExec = own_python
        for key, value in given.items():
            if value is not None:
                spark.conf.set(key, value)


def test_the_result_type_is_exported():
    assert synth_spark.Result.__name__ == "Result"
    assert "Result" in synth_spark.__all__


def test_verify_and_check_judge_a_dataset_from_python(spark, small_dataset):
    verified = synth_spark.verify(spark, str(small_dataset), formats=["parquet", "delta"])
    assert verified.code == 0 and verified.document["ok"], verified.lines
    assert len(verified.document["tables"]) == 2 * len(OUTPUT_TABLES)
    checked = synth_spark.check(small_dataset, select="source:synth.creators")
    assert checked.code == 0, checked.lines
    assert checked.document["formats"]["parquet"]["passed"] > 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda spark, tmp: synth_spark.verify(spark, tmp / "none"), "path: "),
        (lambda spark, tmp: synth_spark.verify(spark, tmp, formats="orc"), "formats: 'orc' is not a format"),
        (lambda spark, tmp: synth_spark.check(tmp / "none"), "path: "),
    ],
)
def test_verify_and_check_refuse_bad_input_in_one_line(spark, tmp_path, call, message):
    with pytest.raises(synth_spark.ConfigError) as err:
        call(spark, tmp_path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_validate_measures_from_python_and_leaves_the_session_as_it_was(spark, small_dataset, tmp_path):
    spark.range(1).count()  # Delta's extension sets two settings of its own on a session's first query
    before = dict(spark.conf.getAll)
    outcome = synth_spark.validate(spark, small_dataset, report=tmp_path / "report")
    after = dict(spark.conf.getAll)
    assert {
        k: (before.get(k), after.get(k)) for k in {*before, *after} if before.get(k) != after.get(k)
    } == {}
    assert outcome.code == (0 if outcome.document["passed"] else 1)
    assert outcome.lines[-1].startswith("synth-spark: ") and (tmp_path / "report" / "report.json").is_file()
    assert len(outcome.document["checks"]) == len(outcome.lines) - 1  # a line per check, then the summary
