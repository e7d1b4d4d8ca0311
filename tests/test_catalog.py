"""Catalog tables (``--database``): Delta tables registered in Spark's embedded Hive metastore
(Derby, the test session's), described by the data dictionary, NOT NULL where a column is always
set, the run recorded in table properties, and a replaced dataset kept as Delta history."""

from __future__ import annotations

import json
import re

import pytest
from pyspark.sql import functions as F

from synth_spark.cli import main as cli
from synth_spark.column_notes import NOTES, TABLE_NOTES
from synth_spark.config import ConfigError, load_config
from synth_spark.job.catalog import generate_tables
from synth_spark.progress import Progress
from synth_spark.publish.database import MANIFEST_TABLE, Database
from synth_spark.vocabulary import EVENT_TIME, NULLABLE, OUTPUT_TABLES, columns

DB = "catalog_test"


@pytest.fixture(scope="module")
def config():
    return load_config(scale=0.02, seed=7)


@pytest.fixture(scope="module")
def published(spark, config):
    """The dataset written to a new database from the library API, then written again over it with
    the time layout: (the first manifest, the second, the database)."""
    from synth_spark import Generator

    gen = Generator(spark, config=config, partitions=2)
    first = gen.write(database=DB).manifest
    second = gen.write(database=DB, overwrite=True, layout="time").manifest
    return first, second, Database(spark, DB)


def test_every_table_is_a_delta_table_of_the_database_with_the_manifest_last(spark, published):
    first, second, db = published
    names = {r.tableName for r in spark.sql(f"SHOW TABLES IN {DB}").collect()}
    assert names == {*OUTPUT_TABLES, MANIFEST_TABLE}
    for table in OUTPUT_TABLES:
        assert spark.sql(f"DESCRIBE DETAIL {db.table(table)}").first()["format"] == "delta"
        assert spark.table(db.table(table)).columns == columns(table)
    assert db.manifest() == json.loads(json.dumps(second))


def test_the_tables_hold_exactly_what_the_manifest_records(spark, published):
    from synth_spark.checks.verify import OK, verify

    lines = verify(spark, None, emit=lambda _: None, database=DB)
    assert [(line.table, line.status) for line in lines] == [(t, OK) for t in OUTPUT_TABLES]


def test_comments_come_from_the_data_dictionary(spark, published):
    _, _, db = published
    for table in OUTPUT_TABLES:
        detail = {
            r.col_name: r.data_type for r in spark.sql(f"DESCRIBE TABLE EXTENDED {db.table(table)}").collect()
        }
        assert detail["Comment"] == TABLE_NOTES[table]
        for field in spark.table(db.table(table)).schema:
            assert field.metadata.get("comment") == NOTES[table][field.name]


def test_columns_that_are_always_set_are_not_null(spark, published):
    _, _, db = published
    for table in OUTPUT_TABLES:
        nullable = {f.name for f in spark.table(db.table(table)).schema if f.nullable}
        assert nullable == set(NULLABLE[table]), table


def test_delta_refuses_a_null_key(spark, published):
    _, _, db = published
    before = db.version("tiers")
    broken = spark.table(db.table("tiers")).limit(1).withColumn("tier_id", F.lit(None).cast("bigint"))
    with pytest.raises(Exception, match="NOT NULL constraint violated"):
        broken.writeTo(db.table("tiers")).append()
    assert db.version("tiers") == before


def test_table_properties_record_the_run(published):
    _, second, db = published
    props = db.properties("transactions")
    entry = second["tables"]["transactions"]
    assert {
        k: props[f"synth_spark.{k}"]
        for k in ("seed", "scale", "rows", "checksum", "layout", "as_of", "run_id")
    } == {
        "seed": "7",
        "scale": "0.02",
        "rows": str(entry["rows"]),
        "checksum": entry["checksum"],
        "layout": "time",
        "as_of": "",
        "run_id": second["run_id"],
    }
    assert props["synth_spark.generator_version"] == second["generator_version"]


def test_replacing_a_dataset_adds_a_version_and_keeps_the_history(spark, published):
    from synth_spark.runtime.tables import checksum

    first, second, db = published
    for table in ("pledges", "anomalies"):
        was, now = first["tables"][table], second["tables"][table]
        assert now["data_version"] > was["data_version"]
        then = spark.sql(f"SELECT * FROM {db.table(table)} VERSION AS OF {was['data_version']}")
        assert checksum(then) == (was["rows"], was["checksum"])
    # the same seed and scale in either layout: the same rows
    assert {t: e["checksum"] for t, e in first["tables"].items()} == {
        t: e["checksum"] for t, e in second["tables"].items()
    }


def _time_ranges(spark, location: str, column: str, version: int) -> list[tuple]:
    """The (min, max) of ``column`` of each file that the commit ``version`` wrote, from the Delta
    log's statistics (what Delta's data skipping reads), in order."""
    commit = spark.read.json(f"{location}/_delta_log/{version:020d}.json").where("add is not null")
    stats = F.from_json(
        "add.stats", f"minValues struct<{column}: timestamp>, maxValues struct<{column}: timestamp>"
    )
    return sorted(
        (r.s.minValues[column], r.s.maxValues[column]) for r in commit.select(stats.alias("s")).collect()
    )


def test_the_time_layout_gives_each_file_its_own_stretch_of_time(spark, published):
    first, second, _ = published
    for table in ("transactions", "engagement_events"):
        column, location = EVENT_TIME[table], second["tables"][table]["location"]
        ranges = _time_ranges(spark, location, column, second["tables"][table]["data_version"])
        assert len(ranges) >= 24  # at least a file per month of the window
        assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:])), (
            f"{table}: files overlap in time: {ranges}"
        )
        # the tasks layout: each file holds some creators over the whole window, so every file
        # overlaps the others
        tasks = _time_ranges(spark, location, column, first["tables"][table]["data_version"])
        assert all(a[1] > b[0] for a, b in zip(tasks, tasks[1:])), f"{table}: {tasks}"


def test_a_dataset_in_the_database_is_not_replaced_without_overwrite(spark, published, config):
    _, second, db = published
    versions = {t: db.version(t) for t in OUTPUT_TABLES}
    with pytest.raises(ConfigError, match="already holds a synth-spark dataset; pass --overwrite"):
        generate_tables(spark, config, db, 4, Progress(quiet=True))
    assert {t: db.version(t) for t in OUTPUT_TABLES} == versions
    assert db.manifest()["run_id"] == second["run_id"]


def test_a_table_synth_spark_did_not_write_is_never_replaced(spark, config):
    spark.sql("CREATE DATABASE IF NOT EXISTS catalog_foreign")
    spark.sql("CREATE TABLE IF NOT EXISTS catalog_foreign.pledges (x int) USING delta")
    spark.sql("INSERT INTO catalog_foreign.pledges VALUES (1)")
    with pytest.raises(ConfigError, match="catalog_foreign.pledges exists and synth-spark did not write it"):
        generate_tables(
            spark, config, Database(spark, "catalog_foreign"), 4, Progress(quiet=True), overwrite=True
        )
    assert spark.table("catalog_foreign.pledges").collect()[0].x == 1


def test_check_runs_the_dbt_tests_on_the_catalog_tables(spark, published):
    from synth_spark.checks.dbt import catalog_dataset, run_check

    result = run_check(
        None,
        "delta",
        select="source:synth.tiers source:synth.posts",
        out=open("/dev/null", "w"),
        catalog=catalog_dataset(spark, DB),
    )
    assert result.passed, [(r.name, r.status) for r in result.failed]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["generate", "--database", "a-b"], "--database: 'a-b' is not a database name"),
        (["generate", "--database", "x.y.z"], "--database: 'x.y.z' is not a database name"),
        (["generate", "out", "--database", "synth"], "--database: synth and the folder"),
        (["generate", "--database", "synth", "--format", "parquet"], "--format: parquet with --database"),
        (
            ["generate", "--database", "synth", "--remote", "sc://127.0.0.1:9"],
            "--database: catalog tables are not written",
        ),
        (
            ["verify", "out", "--database", "synth"],
            "--database: synth and the folder 'out' both name the dataset",
        ),
        (["check", "--database", "synth", "--format", "csv"], "--format: a database holds Delta tables"),
        (["validate"], "DATASET: give the dataset's folder (or --database NAME)"),
    ],
)
def test_a_database_given_wrongly_is_refused_in_one_line(argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert cli(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"path": "out", "database": "synth"},
            "database: synth and the folder 'out' both say where the dataset goes",
        ),
        ({}, "path: give the output folder (or a database)"),
        ({"database": "a-b"}, "database: 'a-b' is not a database name"),
        (
            {"database": "synth", "formats": "parquet"},
            "formats: parquet with database; catalog tables are Delta",
        ),
        ({"database": "synth", "layout": "monthly"}, "layout: 'monthly' is not a layout; give tasks or time"),
    ],
)
def test_the_api_refuses_a_database_given_wrongly_before_any_work(
    spark, config, kwargs, message, monkeypatch, tmp_path
):
    from synth_spark import Generator

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=re.escape(message)):
        Generator(spark, config=config).write(**kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_name_the_catalog_rejects_is_one_line_naming_the_option(spark):
    with pytest.raises(
        ConfigError, match=r"^--database: 'no_such\.db' is refused by the catalog: .*[Nn]ested"
    ):
        Database(spark, "no_such.db").exists()
