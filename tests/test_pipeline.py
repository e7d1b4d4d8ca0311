"""The whole pipeline on a small dataset: schemas, closed sets, the seed's seven integrity rules,
volumes, output layout, manifest, Delta and CSV read-back, determinism."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from synth_spark.config import load_config
from synth_spark.job.generate import generate
from synth_spark.progress import Progress
from synth_spark.runtime.tables import checksum, schema
from synth_spark.vocabulary import CLOSED_SETS, GROUND_TRUTH, OUTPUT_TABLES, TABLE_ORDER

from .conftest import SMALL_SCALE
from .helpers import CLI, read_manifest

ONE_X = {
    "creators": 500,
    "patrons": 15_000,
    "pledges": 25_000,
    "transactions": 200_000,
    "posts": 8_000,
    "engagement_events": 500_000,
}


def test_every_table_has_the_seeds_columns_in_order_with_exact_types(tables):
    for name, df in tables.items():
        assert df.schema.fieldNames() == schema(name).fieldNames(), name
        assert [f.dataType for f in df.schema] == [f.dataType for f in schema(name)], name


def test_status_and_type_columns_stay_in_their_closed_sets(tables):
    for (table, column), allowed in CLOSED_SETS.items():
        seen = {r[0] for r in tables[table].select(column).distinct().collect()} - {None}
        assert seen <= set(allowed), f"{table}.{column}: {sorted(seen - set(allowed))}"
        assert seen, f"{table}.{column} is never filled"


def test_primary_keys_are_unique_and_not_null(tables):
    from synth_spark.vocabulary import PRIMARY_KEYS, TABLE_ORDER

    for table, key in ((t, PRIMARY_KEYS[t]) for t in TABLE_ORDER):
        df = tables[table]
        assert df.where(F.col(key).isNull()).count() == 0
        assert df.select(key).distinct().count() == df.count(), table


def _orphans(child, key, parent, parent_key=None):
    parent_key = parent_key or key
    return (
        child.where(F.col(key).isNotNull())
        .join(parent.select(F.col(parent_key).alias(key)), key, "left_anti")
        .count()
    )


def test_rule_1_pledges_reference_patrons_and_creators(tables):
    assert _orphans(tables["pledges"], "patron_id", tables["patrons"]) == 0
    assert _orphans(tables["pledges"], "creator_id", tables["creators"]) == 0
    assert _orphans(tables["pledges"], "tier_id", tables["tiers"]) == 0


def test_rule_2_transactions_reference_pledges_and_agree_on_patron_and_creator(tables):
    tx, pl = tables["transactions"], tables["pledges"]
    assert _orphans(tx, "pledge_id", pl) == 0
    mismatched = (
        tx.join(
            pl.select("pledge_id", F.col("patron_id").alias("p"), F.col("creator_id").alias("c")), "pledge_id"
        )
        .where((F.col("patron_id") != F.col("p")) | (F.col("creator_id") != F.col("c")))
        .count()
    )
    assert mismatched == 0


def test_rule_3_patron_first_pledge_at_is_their_earliest_pledge(tables):
    earliest = tables["pledges"].groupBy("patron_id").agg(F.min("started_at").alias("earliest"))
    joined = tables["patrons"].join(earliest, "patron_id", "left")
    assert joined.where(F.col("earliest").isNull()).count() == 0
    assert joined.where(F.col("first_pledge_at") != F.col("earliest")).count() == 0
    assert tables["patrons"].where(F.col("created_at") > F.col("first_pledge_at")).count() == 0


def test_rule_4_creator_first_pledge_received_at_is_the_earliest_pledge(tables):
    earliest = tables["pledges"].groupBy("creator_id").agg(F.min("started_at").alias("earliest"))
    joined = tables["creators"].join(earliest, "creator_id", "left")
    assert joined.where(~F.col("first_pledge_received_at").eqNullSafe(F.col("earliest"))).count() == 0
    assert (
        tables["pledges"]
        .join(tables["creators"].select("creator_id", "created_at"), "creator_id")
        .where(F.col("started_at") < F.col("created_at"))
        .count()
        == 0
    )


def test_rule_5_transaction_amounts_are_tier_prices_and_fees_add_up(tables):
    tx, tiers = tables["transactions"], tables["tiers"]
    # a charge is a tier's list price at the day's exchange rate: within the rates' bound of it
    # (tests/test_kernels.py and the dbt rule check the exact rate), and exactly it in US dollars
    bound = 1 + load_config().fx.max_deviation
    prices = tiers.select("creator_id", "price_usd").distinct()
    off_price = tx.join(
        prices,
        (tx.creator_id == prices.creator_id)
        & tx.gross_amount_usd.between(prices.price_usd / bound - 0.01, prices.price_usd * bound + 0.01),
        "left_anti",
    )
    assert off_price.count() == 0
    usd = tables["creators"].where(F.col("currency_code") == "USD").select("creator_id")
    usd_tx = tx.join(usd, "creator_id")
    usd_off = usd_tx.join(
        prices,
        (usd_tx.creator_id == prices.creator_id) & (usd_tx.gross_amount_usd == prices.price_usd),
        "left_anti",
    )
    assert usd_off.count() == 0
    assert tx.where(F.col("gross_amount_usd") <= 0).count() == 0
    assert (
        tx.where(
            F.col("net_amount_usd")
            != F.col("gross_amount_usd") - F.col("platform_fee_usd") - F.col("processing_fee_usd")
        )
        .where(F.col("transaction_status") == "succeeded")
        .count()
        == 0
    )
    # the pledge's amount is its current tier's price
    pl = tables["pledges"].join(tiers.select("tier_id", "price_usd"), "tier_id")
    assert pl.where(F.col("pledge_amount_usd") != F.col("price_usd")).count() == 0
    # occasional tier changes: some pledges were charged more than one amount
    amounts = tx.groupBy("pledge_id").agg(F.countDistinct("gross_amount_usd").alias("n"))
    assert amounts.where(F.col("n") > 1).count() > 0


def test_rule_6_engagement_only_while_the_patrons_pledge_to_that_creator_runs(tables):
    ev, pl, posts = tables["engagement_events"], tables["pledges"], tables["posts"]
    assert _orphans(ev, "post_id", posts) == 0
    running = pl.select(
        "patron_id",
        "creator_id",
        "started_at",
        F.least(
            F.coalesce("ended_at", F.lit("9999-01-01").cast("timestamp")),
            F.coalesce("pause_started_at", F.lit("9999-01-01").cast("timestamp")),
        ).alias("until"),
    )
    covered = (
        ev.join(running, ["patron_id", "creator_id"])
        .where((F.col("event_at") >= F.col("started_at")) & (F.col("event_at") < F.col("until")))
        .select("event_id")
        .distinct()
        .count()
    )
    assert covered == ev.count()
    on_own_posts = ev.join(
        posts.select("post_id", F.col("creator_id").alias("pc"), "published_at"), "post_id"
    )
    assert on_own_posts.where(F.col("pc") != F.col("creator_id")).count() == 0
    assert on_own_posts.where(F.col("event_at") < F.col("published_at")).count() == 0


def test_rule_7_posts_are_published_after_their_creator_exists(tables):
    late = (
        tables["posts"]
        .join(tables["creators"].select("creator_id", "created_at"), "creator_id")
        .where(F.col("published_at") <= F.col("created_at"))
    )
    assert late.count() == 0
    assert _orphans(tables["posts"], "minimum_tier_id", tables["tiers"], "tier_id") == 0


def test_no_date_after_the_window_and_timestamps_in_order(tables, small_config):
    end = F.lit(small_config.window.end.isoformat()).cast("timestamp")
    for name, df in tables.items():
        for field in df.schema:
            if field.dataType.typeName() == "timestamp":
                assert df.where(F.col(field.name) >= end).count() == 0, f"{name}.{field.name}"
    pl = tables["pledges"]
    assert pl.where(F.col("ended_at") <= F.col("started_at")).count() == 0
    assert pl.where(F.col("pause_started_at") < F.col("started_at")).count() == 0
    assert pl.where((F.col("pledge_status") == "churned") != F.col("ended_at").isNotNull()).count() == 0
    assert pl.where(F.col("churn_reason").isNotNull() != F.col("ended_at").isNotNull()).count() == 0


def test_volumes_scale_linearly_from_the_seeds_1x(small_manifest):
    rows = {t: small_manifest["tables"][t]["rows"] for t in TABLE_ORDER}
    assert rows["creators"] == round(500 * SMALL_SCALE)
    for table, at_1x in ONE_X.items():
        # 50 creators carry more sampling noise than 500; 1x volumes are pinned to ±10% in test_kernels.
        assert abs(rows[table] / (at_1x * SMALL_SCALE) - 1) < 0.25, (table, rows[table])


def test_emails_are_unique_and_names_are_realistic(tables):
    for table, name_col in (("creators", "creator_name"), ("patrons", "patron_name")):
        df = tables[table]
        assert df.select("email").distinct().count() == df.count()
        assert df.where(F.length(name_col) < 3).count() == 0
    assert tables["patrons"].select("country_code").distinct().count() >= 5


def test_first_pledge_flag_marks_exactly_one_pledge_per_patron(tables):
    per = tables["pledges"].groupBy("patron_id").agg(F.sum(F.col("is_first_pledge").cast("int")).alias("n"))
    assert per.where(F.col("n") != 1).count() == 0


def test_ground_truth_table_lists_each_enabled_anomaly(tables, small_manifest):
    truth = tables[GROUND_TRUTH].orderBy("anomaly_id").collect()
    assert [r["anomaly_type"] for r in truth] == [
        "viral_spike",
        "payment_outage",
        "holiday_churn",
        "creator_exodus",
        "category_collapse",
    ]
    assert len(small_manifest["anomalies"]) == len(truth)
    exodus = next(r for r in truth if r["anomaly_type"] == "creator_exodus")
    departed = {int(c) for c in exodus["creator_ids"].split(";")}
    # a creator who left is inactive, like any creator who stopped: no value of its own gives it away
    statuses = {r["creator_id"]: r["status"] for r in tables["creators"].collect()}
    assert all(statuses[c] == "inactive" for c in departed)
    assert any(s == "inactive" for c, s in statuses.items() if c not in departed)
    # no value of any closed set appears only inside an anomaly's window: the outage's declines are
    # processing errors, which ordinary days have too
    window = next(r for r in truth if r["anomaly_type"] == "payment_outage")
    tx = tables["transactions"]
    inside = (F.col("transaction_at") >= window["start_at"]) & (F.col("transaction_at") <= window["end_at"])
    reasons_in = {r[0] for r in tx.where(inside).select("failure_reason").distinct().collect()} - {None}
    reasons_out = {r[0] for r in tx.where(~inside).select("failure_reason").distinct().collect()} - {None}
    assert reasons_in <= reasons_out


def test_output_layout_and_manifest(small_dataset, small_manifest, small_config):
    for table in OUTPUT_TABLES:
        assert (small_dataset / "parquet" / table).is_dir()
        assert (small_dataset / "delta" / table / "_delta_log").is_dir()
        assert (small_dataset / "csv" / f"{table}.csv").is_file()
    m = small_manifest
    assert m["seed"] == small_config.seed and m["scale"] == small_config.scale
    assert m["window"] == {"start": "2023-01-01", "end": "2024-12-31", "months": 24, "timezone": "UTC"}
    assert set(m["tables"]) == set(OUTPUT_TABLES)
    assert {"pyspark", "delta-spark", "numpy", "pyarrow", "faker"} <= set(m["versions"])
    assert m["config"]["seed"] == small_config.seed
    assert not list(small_dataset.glob(".staging-*"))


def test_manifest_checksums_match_what_was_written(spark, small_dataset, small_manifest, tables):
    for table, df in tables.items():
        assert checksum(df) == (
            small_manifest["tables"][table]["rows"],
            small_manifest["tables"][table]["checksum"],
        )


def test_delta_tables_read_back_identical_to_parquet(spark, small_dataset, small_manifest):
    for table in OUTPUT_TABLES:
        df = spark.read.format("delta").load(str(small_dataset / "delta" / table))
        assert checksum(df) == (
            small_manifest["tables"][table]["rows"],
            small_manifest["tables"][table]["checksum"],
        ), table


def test_csv_reads_back_identical_with_the_documented_schema(spark, small_dataset, small_manifest):
    for table in OUTPUT_TABLES:
        df = spark.read.csv(
            str(small_dataset / "csv" / f"{table}.csv"),
            header=True,
            schema=schema(table),
            timestampFormat="yyyy-MM-dd'T'HH:mm:ss'Z'",
            mode="FAILFAST",
        )
        assert checksum(df) == (
            small_manifest["tables"][table]["rows"],
            small_manifest["tables"][table]["checksum"],
        ), table


def _checksums(manifest: dict) -> dict[str, str]:
    return {t: v["checksum"] for t, v in manifest["tables"].items()}


def test_same_seed_gives_identical_tables_with_other_partitioning(
    spark, small_config, small_manifest, tmp_path
):
    result = generate(
        spark, small_config, tmp_path / "p7", ["parquet"], partitions=7, progress=Progress(quiet=True)
    )
    assert result.checksums == _checksums(small_manifest)


def test_a_different_seed_gives_different_tables(spark, small_config, small_manifest, tmp_path):
    other = small_config.model_copy(update={"seed": small_config.seed + 1})
    result = generate(
        spark, other, tmp_path / "seed", ["parquet"], partitions=2, progress=Progress(quiet=True)
    )
    ours = _checksums(small_manifest)
    assert all(result.checksums[t] != ours[t] for t in TABLE_ORDER)


@pytest.mark.parametrize("master", ["local[1]"])
def test_same_seed_gives_identical_tables_on_another_master(small_config, small_manifest, tmp_path, master):
    """A separate process with its own JVM and one core, through the command line."""
    import subprocess

    out = tmp_path / "cli"
    conf = tmp_path / "anomalies-on.yaml"
    conf.write_text(
        "anomalies:\n"
        + "".join(
            f"  {a}: {{enabled: true}}\n"
            for a in ("viral_spike", "payment_outage", "holiday_churn", "creator_exodus", "category_collapse")
        )
    )
    cmd = [
        *CLI,
        "generate",
        str(out),
        "--config",
        str(conf),
        "--scale",
        str(small_config.scale),
        "--seed",
        str(small_config.seed),
        "--format",
        "parquet",
        "--partitions",
        "3",
        "--master",
        master,
        "--quiet",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rows" in done.stdout
    assert done.stderr == ""  # --quiet: no progress, no Spark log line, not even the JVM's start-up warning
    manifest = read_manifest(out)
    assert _checksums(manifest) == _checksums(small_manifest)


#: first characters a spreadsheet takes for a formula (CSV injection), and tab / carriage return
UNSAFE_FIRST = ("=", "+", "-", "@", "\t", "\r")


def test_csv_text_cells_are_safe_to_open_in_a_spreadsheet(small_dataset):
    """No text cell of any table starts like a formula. Generated text is safe at the source (names,
    titles, e-mails, tier texts, the ground truth's sentences), so the CSV holds the very same values
    as the Parquet (the read-back test above) and needs no escaping."""
    import csv

    for table in OUTPUT_TABLES:
        text_columns = [f.name for f in schema(table) if f.dataType.typeName() == "string"]
        seen, bad = 0, []
        with open(small_dataset / "csv" / f"{table}.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for column in text_columns:
                    cell = row[column]
                    seen += bool(cell)
                    if cell.startswith(UNSAFE_FIRST):
                        bad.append((column, cell))
        assert seen > 0, table
        assert not bad, f"{table}: {bad[:5]}"
