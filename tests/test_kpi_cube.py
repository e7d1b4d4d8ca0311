"""The KPI cube (benchmark/kpi_cube.py) against the dataset it is built from: its MRR and churn are
the ones validate measures, its counts are the tables', its two grains agree, and every value in it
is one the dataset holds."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from synth_spark.benchmark import kpi_cube
from synth_spark.benchmark.kpi_cube import TABLES, materialise
from synth_spark.config import ConfigError
from synth_spark.validation.metrics import Dataset
from synth_spark.vocabulary import CHURN_REASONS, FAILURE_CODES, SIZE_TIERS, TABLE_ORDER

from .conftest import manifest_only

KEYS = ["period", "creator_id", "patron_country", "payment_method"]
CREATOR_ATTRIBUTES = ["size", "category", "country", "currency", "plan_type", "nsfw", "verified"]
#: what happened in a period: a month's is the sum of its days'
FLOWS = [
    "new_pledges",
    "pledges_ended",
    *(f"churn_{r}" for r in CHURN_REASONS),
    "first_attempts",
    "first_attempt_declines",
    *(f"declines_{r}" for r in FAILURE_CODES if r),
    "retries",
    "retry_successes",
    "revenue",
    "transactions",
    "posts",
    "engagement_events",
]
#: what stands at the end of a period: a month's is its last day's
STOCKS = ["mrr", "active_pledges", "active_patrons"]


def _parquet(folder, table: str) -> pd.DataFrame:
    return pd.read_parquet(folder / "parquet" / table)


@pytest.fixture(scope="module")
def written(small_dataset, tmp_path_factory):
    """The cube of the small dataset, written into a folder that already held a file of its own:
    the folder, the rows materialise counted, and the lines it reported."""
    out = tmp_path_factory.mktemp("kpis")
    (out / "notes.txt").write_text("mine")
    lines = []
    rows = materialise(small_dataset, out, progress=lines.append)
    return out, rows, lines


@pytest.fixture(scope="module")
def cube(written) -> dict[str, pd.DataFrame]:
    out, _, _ = written
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}


@pytest.fixture(scope="module")
def measured(spark, small_dataset, small_config, small_manifest) -> pd.DataFrame:
    """validate's monthly measures of the same dataset (validation/metrics.py), by month."""
    window = small_config.window
    ds = Dataset.load(spark, str(small_dataset), window.start, window.months, small_manifest)
    monthly = ds.monthly()
    monthly.index = [m.date() for m in monthly["month"]]
    return monthly


def _per_month(cube: dict, column: str) -> pd.Series:
    return cube["kpis_monthly"].groupby("period")[column].sum()


def test_the_monthly_mrr_is_the_mrr_validate_measures_each_month(cube, measured):
    mrr = _per_month(cube, "mrr")
    assert list(mrr.index) == list(measured.index)
    assert [float(x) for x in mrr] == pytest.approx([float(x) for x in measured["mrr"]], abs=0.005)


def test_monthly_churned_and_active_pledges_are_validates_so_its_churn_rate_is_too(cube, measured):
    # validate's "ended": every end of a pledge active in the month, departures of creators included;
    # its judged churn also leaves out the pledges a departing creator ended (the ground truth's),
    # which the cube, being what a tool is given, does not read
    assert list(_per_month(cube, "churned")) == list(measured["ended"])
    assert list(_per_month(cube, "pledges_in_period")) == list(measured["active"])
    # pledges_ended counts every end, also of a pledge paused in an earlier month
    monthly = cube["kpis_monthly"]
    assert (monthly["pledges_ended"] >= monthly["churned"]).all()
    assert (monthly[[f"churn_{r}" for r in CHURN_REASONS]].sum(axis=1) == monthly["pledges_ended"]).all()


def test_monthly_engaged_patrons_are_validates_engaged_pledge_months(cube, measured):
    assert list(_per_month(cube, "engaged_patrons")) == list(measured["engaged"])


def test_the_daily_first_attempts_and_declines_are_the_transactions_table_s(cube, small_dataset):
    tx = _parquet(small_dataset, "transactions")
    first = tx[tx["transaction_type"] == "payment"]
    daily = cube["kpis_daily"]
    assert daily["first_attempts"].sum() == len(first)
    assert daily["first_attempt_declines"].sum() == (first["transaction_status"] == "failed").sum()
    for reason in filter(None, FAILURE_CODES):
        assert daily[f"declines_{reason}"].sum() == (first["failure_reason"] == reason).sum(), reason
    assert daily["transactions"].sum() == len(tx)


def test_a_month_s_flows_are_the_sum_of_its_days(cube):
    daily = cube["kpis_daily"].assign(period=lambda d: [p.replace(day=1) for p in d["period"]])
    by_day = daily.groupby("period")[FLOWS].sum()
    by_month = cube["kpis_monthly"].groupby("period")[FLOWS].sum()
    pd.testing.assert_frame_equal(by_day, by_month)


def test_a_month_s_stocks_are_those_at_the_end_of_its_last_day(cube):
    daily = cube["kpis_daily"]
    last_days = daily[[(p + dt.timedelta(days=1)).day == 1 for p in daily["period"]]]
    at_month_end = last_days.assign(period=lambda d: [p.replace(day=1) for p in d["period"]])
    columns = ["creator_id", "patron_country", "payment_method", *STOCKS]
    ours = at_month_end[at_month_end["active_pledges"] > 0][["period", *columns]]
    monthly = cube["kpis_monthly"]
    theirs = monthly[monthly["active_pledges"] > 0][["period", *columns]]
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs.reset_index(drop=True))


def test_every_value_is_one_of_the_dataset_s_and_every_measure_is_a_non_negative_count(
    cube, small_dataset, small_config
):
    creators = _parquet(small_dataset, "creators")
    patrons = _parquet(small_dataset, "patrons")
    methods = set(_parquet(small_dataset, "transactions")["payment_method"])
    attributes = creators.rename(
        columns={
            "country_code": "country",
            "currency_code": "currency",
            "is_nsfw": "nsfw",
            "is_verified": "verified",
        }
    ).set_index("creator_id")[CREATOR_ATTRIBUTES[1:]]
    window = small_config.window
    for name, table in cube.items():
        assert list(table.columns[: len(KEYS) + len(CREATOR_ATTRIBUTES)]) == [
            "period",
            "creator_id",
            *CREATOR_ATTRIBUTES,
            "patron_country",
            "payment_method",
        ], name
        measures = table.columns[len(KEYS) + len(CREATOR_ATTRIBUTES) :]
        assert set(FLOWS) | set(STOCKS) <= set(measures)
        assert not table.duplicated(KEYS).any(), name
        assert (table[measures] >= 0).all(axis=None), name
        assert (table[measures] != 0).any(axis=1).all(), f"{name}: a row with nothing in it"
        assert table["period"].between(window.start, window.end - dt.timedelta(days=1)).all()
        assert set(table["size"]) <= set(SIZE_TIERS)
        # each creator's rows carry its own attributes
        pd.testing.assert_frame_equal(
            table[CREATOR_ATTRIBUTES[1:]].reset_index(drop=True),
            attributes.loc[table["creator_id"]].reset_index(drop=True),
            check_dtype=False,
        )
        assert set(table["patron_country"].dropna()) <= set(patrons["country_code"])
        assert set(table["payment_method"].dropna()) <= methods
        # posts and active_creator are the creator's own, on its row without a patron
        own = table["patron_country"].isna()
        assert (table.loc[~own, ["posts", "active_creator"]] == 0).all(axis=None), name
        assert table.loc[own].groupby("period")["active_creator"].max().eq(1).all(), name
        assert table["active_creator"].le(1).all()


def test_the_sql_names_a_column_for_every_churn_and_decline_reason_of_the_vocabulary(cube):
    columns = set(cube["kpis_daily"].columns)
    assert {c for c in columns if c.startswith("churn_")} == {f"churn_{r}" for r in CHURN_REASONS}
    assert {c for c in columns if c.startswith("declines_")} == {f"declines_{r}" for r in FAILURE_CODES if r}


def test_every_format_of_a_dataset_gives_the_same_cube(small_dataset, cube, tmp_path):
    for fmt in ("csv", "delta"):
        materialise(small_dataset, tmp_path / fmt, fmt, progress=lambda line: None)
        for name in TABLES:
            pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / fmt / f"{name}.parquet"), cube[name])


def test_a_format_the_dataset_lacks_is_refused_in_one_line_naming_what_it_has(tmp_path):
    dataset = manifest_only(tmp_path / "dataset", ("parquet",))
    out = tmp_path / "kpis"
    for fmt, says in (("csv", "it has parquet"), ("xml", "give parquet or delta or csv")):
        with pytest.raises(ConfigError, match="--format") as refused:
            materialise(dataset, out, fmt)
        assert says in str(refused.value) and "\n" not in str(refused.value)


def test_a_dataset_whose_files_cannot_be_read_is_refused_before_anything_is_written(tmp_path):
    dataset = manifest_only(tmp_path / "dataset", ("parquet",))  # a manifest, and no table files
    out = tmp_path / "kpis"
    with pytest.raises(ConfigError, match="parquet/creators"):
        materialise(dataset, out)
    for table in TABLE_ORDER:  # files, but not Parquet ones
        (tmp_path / "dataset" / "parquet" / table).mkdir(parents=True)
        (tmp_path / "dataset" / "parquet" / table / "part-00000.parquet").write_text("not parquet")
    with pytest.raises(ConfigError, match="cannot read its parquet files of creators"):
        materialise(dataset, out)
    assert list(out.iterdir()) == []


def test_a_query_that_fails_halfway_leaves_the_earlier_file_in_place(small_dataset, tmp_path, monkeypatch):
    sql = tmp_path / "sql"
    sql.mkdir()
    shutil.copy(kpi_cube.SQL_DIR / "cube.sql", sql / "cube.sql")
    # rows first, then an error while they are being written
    (sql / "kpis_daily.sql").write_text(
        "SELECT CASE WHEN n < 100000 THEN n ELSE error('boom') END AS n\nFROM range(200000) AS t(n)\n"
    )
    monkeypatch.setattr(kpi_cube, "SQL_DIR", sql)
    out = tmp_path / "kpis"
    out.mkdir()
    (out / "kpis_daily.parquet").write_text("the earlier cube")
    with pytest.raises(Exception, match="boom"):
        materialise(small_dataset, out, progress=lambda line: None)
    assert [p.name for p in out.iterdir()] == ["kpis_daily.parquet"]
    assert (out / "kpis_daily.parquet").read_text() == "the earlier cube"


def test_a_run_writes_its_two_files_whole_and_touches_nothing_else(written, cube):
    out, rows, lines = written
    assert sorted(p.name for p in out.iterdir()) == [
        "kpis_daily.parquet",
        "kpis_monthly.parquet",
        "notes.txt",
    ]
    assert (out / "notes.txt").read_text() == "mine"
    assert rows == {name: len(table) for name, table in cube.items()}
    assert len(lines) == 2 and all("rows" in line for line in lines)
