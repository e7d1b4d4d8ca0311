"""A generated dataset opened in DuckDB: a view of each platform table over the files its manifest
lists, in one of its formats, and what the KPI cube's SQL reads beside them (each creator's latent
size, the window's first instant and the instant after its end).

Paths, the window and the format check are ``synth-spark check``'s (checks/dbt.py ``dbt_vars``), so
both read a dataset alike; DuckDB's delta extension is loaded as check loads it, offline."""

from __future__ import annotations

from pathlib import Path

from synth_spark.checks.dbt import dbt_vars, duckdb_extension_dir, require_delta_extension
from synth_spark.extras import require
from synth_spark.failures import ConfigError, quoted
from synth_spark.manifest import FORMATS, Format, latent_creators
from synth_spark.manifest import check as check_manifest
from synth_spark.vocabulary import SIZE_TIERS, TABLE_ORDER, column_types

#: the format read when none is asked for: the first of these the dataset has
PREFERENCE = (Format.PARQUET, Format.DELTA, Format.CSV)
#: DuckDB's names for the Spark types of vocabulary.TABLES; the others are spelt alike
_DUCKDB_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMPTZ"}


def chosen_format(manifest: dict, fmt: str | None) -> str:
    """``fmt``, or the first of PREFERENCE the dataset has; refused in one line when it has not."""
    has = [f for f in PREFERENCE if f in manifest["formats"]]
    if fmt is None:
        return has[0]
    if fmt not in FORMATS:
        raise ConfigError(f"--format: {quoted(fmt)} is not a format; give {' or '.join(FORMATS)}")
    if fmt not in has:
        raise ConfigError(f"--format: the dataset has no {fmt} files; it has {', '.join(has)}")
    return fmt


def sql_string(text: str) -> str:
    """``text`` as a quoted SQL string."""
    return "'" + text.replace("'", "''") + "'"


def _csv_types(table: str) -> str:
    pairs = (
        f"{sql_string(c)}: {sql_string(_DUCKDB_TYPES.get(t, t))}" for c, t in column_types(table).items()
    )
    return "{" + ", ".join(pairs) + "}"


def _sources(dataset: Path, manifest: dict, fmt: str, csv_paths: dict[str, str]) -> dict[str, str]:
    """Each platform table's DuckDB table function over its files (``csv_paths``: check's, a file or
    a glob of a folder's part files). manifest.check holds every path to the few it may be, none
    with a quote in it."""
    root = dataset.resolve()
    out = {}
    for table in TABLE_ORDER:
        rel = manifest["tables"][table]["paths"][fmt]
        if not (root / rel).exists():
            raise ConfigError(f"DATASET: its manifest lists {rel}, which is not in {str(dataset)!r}")
        where = f"{root.as_posix()}/{rel}"
        if fmt == Format.PARQUET:
            out[table] = f"read_parquet({sql_string(where + '/*.parquet')})"
        elif fmt == Format.CSV:
            where = f"{root.as_posix()}/{csv_paths[table]}"
            out[table] = f"read_csv({sql_string(where)}, header = true, types = {_csv_types(table)})"
        else:
            out[table] = f"delta_scan({sql_string(where)})"
    return out


def open_dataset(dataset: Path, manifest: dict, fmt: str | None, temp_dir: Path):
    """A DuckDB session in UTC over ``dataset``'s files in ``fmt`` (None: PREFERENCE), which spills to
    ``temp_dir`` when short of memory; returns it and the format read."""
    require("metrics", "benchmark")
    import duckdb

    check_manifest(manifest)
    fmt = chosen_format(manifest, fmt)
    found = dbt_vars(dataset, fmt, manifest)
    extensions = duckdb_extension_dir()
    if fmt == Format.DELTA:
        require_delta_extension(extensions)
    con = duckdb.connect(
        config={
            "extension_directory": extensions,
            "autoinstall_known_extensions": False,
            "temp_directory": str(temp_dir),
        }
    )
    try:
        _define(con, dataset, manifest, fmt, found)
    except BaseException:
        con.close()
        raise
    return con, fmt


def _define(con, dataset: Path, manifest: dict, fmt: str, found: dict) -> None:
    """The views, the sizes and the window's variables cube.sql reads, in session ``con``."""
    import duckdb

    con.execute("SET TimeZone = 'UTC'")  # a day and a month are UTC ones, wherever this runs
    if fmt == Format.DELTA:
        con.execute("LOAD delta")
    for table, source in _sources(dataset, manifest, fmt, found["csv_paths"]).items():
        try:  # DuckDB reads the files' schema here: a file it cannot read fails now, named
            con.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM {source}")
        except duckdb.Error as exc:
            raise ConfigError(
                f"DATASET: cannot read its {fmt} files of {table}: {str(exc).splitlines()[0]}"
            ) from None
    con.execute("CREATE TEMP TABLE creator_sizes (creator_id BIGINT, size VARCHAR)")
    latent = latent_creators(manifest)
    if latent is not None:  # a dataset of a version that did not record sizes: size stays NULL
        sizes = [SIZE_TIERS[int(code)] for code in latent["size_code"]]
        con.execute(
            "INSERT INTO creator_sizes SELECT unnest(?::BIGINT[]), unnest(?::VARCHAR[])",
            [latent["creator_id"].tolist(), sizes],
        )
    con.execute("SET VARIABLE window_start = ?::TIMESTAMPTZ", [found["window_start"]])
    con.execute("SET VARIABLE window_end = ?::TIMESTAMPTZ", [found["window_end"]])
