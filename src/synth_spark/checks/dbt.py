"""``synth-spark check``: the platform's data-quality rules, as the dbt tests of ``checks/dbt_project``
(shipped inside the package, so an installed synth-spark can run them), run with
dbt-duckdb over a generated dataset's files (Parquet, CSV, or the Delta tables through DuckDB's
delta extension).

The dataset's own manifest supplies what the rules depend on (the window's end, the last retry's
offset, the plan types); dbt's target and log folders go to a temporary folder, never into the
source tree. dbt runs in a child process, its result lines passed through as they come.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from synth_spark.checks.selection import selection
from synth_spark.config import config_from_manifest
from synth_spark.extras import require
from synth_spark.failures import ConfigError, EnvironmentProblem, quoted
from synth_spark.manifest import FORMATS, Format
from synth_spark.manifest import check as check_manifest
from synth_spark.manifest import read as read_manifest
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.publish.database import Database
from synth_spark.publish.dataset_folder import ADVANCING
from synth_spark.publish.opened import open_database, open_folder
from synth_spark.publish.readers import being_written

# the one piece of the simulation the checks read: the exchange rates a dataset was charged at, a
# pure function of its config that stands in for the reference table a platform would keep
from synth_spark.checks.on_purpose import broken_on_purpose, incidents_named
from synth_spark.simulation.fx import PPM, Rates
from synth_spark.vocabulary import CURRENCIES

#: the dbt project of the data-quality rules, package data (copied to a work folder for each run,
#: so an installation in a read-only place works: dbt writes beside its project)
PROJECT_DIR = Path(__file__).resolve().parent / "dbt_project"
#: dbt's progress lines announcing a test, left out of the output (its result line follows)
_START_LINE = re.compile(r"\d+ of \d+ START ")


@dataclass
class TestResult:
    name: str
    status: str  # dbt's: pass, fail, error, warn, skipped
    failures: int | None
    message: str | None

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "warn")


@dataclass
class CheckResult:
    dbt_exit_code: int
    seconds: float
    results: list[TestResult] = field(default_factory=list)

    @property
    def failed(self) -> list[TestResult]:
        return [r for r in self.results if not r.ok]

    @property
    def passed(self) -> bool:
        return self.dbt_exit_code == 0 and bool(self.results) and not self.failed

    def status(self, name: str) -> str:
        """dbt's status of the test called ``name``."""
        return next(r.status for r in self.results if r.name == name)


def _sql_string(text: str) -> str:
    """Text as it goes inside a quoted SQL string."""
    return text.replace("'", "''")


def _template(text: str) -> str:
    """Text as it goes into dbt-duckdb's external_location, which is formatted with str.format_map."""
    return text.replace("{", "{{").replace("}", "}}")


def check_format(dataset: Path | None, fmt: str, manifest: dict) -> None:
    """``fmt`` is one the checks read, and one the dataset holds."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format: {fmt!r} is not allowed; give {' or '.join(FORMATS)}")
    if fmt not in manifest.get("formats", []):
        raise ConfigError(
            f"DATASET: {str(dataset)!r} has no {fmt} output; generate with --format including {fmt}"
        )


def dbt_vars(
    dataset: Path | None, fmt: str, manifest: dict | None = None, delta_paths: dict[str, str] | None = None
) -> dict:
    """The dbt vars of the project for this dataset, from its manifest, checked whole (a path outside
    the dataset is never followed). For a dataset in a catalog, no folder: its ``manifest`` and
    ``delta_paths``, where each table's Delta files are."""
    manifest = manifest if manifest is not None else read_manifest(dataset)
    check_format(dataset, fmt, manifest)
    if dataset is not None:  # a folder's manifest names paths inside it, which are all dbt may read
        check_manifest(manifest)
    cfg = config_from_manifest(manifest.get("config", {}))
    root = dataset.resolve().as_posix() if dataset is not None else ""
    delta_paths = delta_paths or {t: f"{root}/delta/{t}" for t in manifest.get("tables", {})}
    csv_paths = {}
    for table, entry in manifest.get("tables", {}).items():
        path = entry.get("paths", {}).get("csv")
        if path:  # one file, or a folder of part files for a large table
            csv_paths[table] = _sql_string(path if path.endswith(".csv") else f"{path}/part-*.csv")
    # a snapshot's "now" is the end of its as-of day: nothing in it may be later
    end = (
        (dt.date.fromisoformat(manifest["as_of"]) + dt.timedelta(days=1))
        if manifest.get("as_of")
        else cfg.window.end
    )
    return {
        "data_dir": _template(_sql_string(root)),
        "format": fmt,
        "window_start": f"{cfg.window.start.isoformat()} 00:00:00+00:00",
        "window_end": f"{end.isoformat()} 00:00:00+00:00",  # exclusive: the first instant after
        "plan_end": f"{cfg.window.end.isoformat()} 00:00:00+00:00",
        "csv_paths": csv_paths,
        "delta_paths": {t: _sql_string(p) for t, p in delta_paths.items()},
        "plan_types": list(cfg.creators.plan_types),
        # the currencies creators price in; the exchange rates themselves are a file (run_check)
        "priced_locally": sorted(cfg.tiers.local_prices),
        "fx_max_deviation": cfg.fx.max_deviation,
        "fees": {
            "platform": {plan: p.platform_fee for plan, p in cfg.creators.plan_types.items()},
            "processing": cfg.payments.processing_fee.model_dump(),
        },
    }


def write_exchange_rates(cfg, path: Path) -> str:
    """The dataset's daily exchange rates (recomputed from its config, as the generator draws them)
    as a CSV of currency, UTC day and rate against the currency's reference; returns its path."""
    rates = Rates.of_window(cfg)
    first = dt.date(1970, 1, 1) + dt.timedelta(days=rates.first_day)
    with open(path, "w", encoding="utf-8") as f:
        f.write("currency_code,day,rate\n")
        for c, code in enumerate(CURRENCIES):
            for d, ppm in enumerate(rates.ppm[c].tolist()):
                f.write(f"{code},{first + dt.timedelta(days=d)},{ppm // PPM}.{ppm % PPM:06d}\n")
    return path.resolve().as_posix()


def duckdb_extension_dir() -> str:
    """Where DuckDB looks for extensions: the pip-installed ones (duckdb-ext-delta) when present,
    else DuckDB's own default, where ``INSTALL delta`` puts it."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            if (Path(root) / "extensions").is_dir():
                return str(Path(root) / "extensions")
    return str(Path.home() / ".duckdb" / "extensions")


def require_delta_extension(extension_dir: str) -> None:
    """Fail in one line, before dbt starts, when DuckDB cannot load its delta extension offline."""
    import duckdb

    try:
        with duckdb.connect(
            config={"extension_directory": extension_dir, "autoinstall_known_extensions": False}
        ) as con:
            con.execute("LOAD delta")
    except duckdb.Error as exc:
        raise EnvironmentProblem(
            f"DuckDB's delta extension is not installed ({str(exc).splitlines()[0]}); on Linux x86-64 "
            "pip install duckdb-ext-delta (synth-spark's dependencies include it), elsewhere run "
            '"INSTALL delta" once in duckdb with network, or check --format parquet'
        ) from exc


def project_dir() -> Path:
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise EnvironmentProblem(
            f"the dbt project of the checks is missing from the installed package ({PROJECT_DIR}); "
            "reinstall synth-spark"
        )
    return PROJECT_DIR


def _results(run_results: Path) -> list[TestResult]:
    if not run_results.is_file():
        return []
    data = json.loads(run_results.read_text())
    out = []
    for r in data.get("results", []):
        # test.<project>.<name>[.<hash>]
        name = r["unique_id"].split(".")[2]
        out.append(TestResult(name, r["status"], r.get("failures"), r.get("message")))
    return sorted(out, key=lambda r: r.name)


def run_check(
    dataset: Path | None,
    fmt: str = "parquet",
    select: str | None = None,
    out: TextIO | None = None,
    work_dir: Path | None = None,
    catalog: tuple[dict, dict[str, str]] | None = None,
    manifest: dict | None = None,
) -> CheckResult:
    """Run the dbt tests over ``dataset`` and return each test's result. dbt's output goes to ``out``
    (default stdout). ``select`` is a dbt node selection (``--select``); ``work_dir`` keeps dbt's
    target and logs there (default: a temporary folder, removed afterwards). ``catalog``: the
    manifest and Delta folders of a dataset in a catalog (``catalog_dataset``) instead of a folder's."""
    require("check")
    out = out or sys.stdout
    if select is not None:
        selection(select)
    if catalog:
        manifest, delta_paths = catalog
    else:
        manifest, delta_paths = (manifest if manifest is not None else read_manifest(dataset)), None
    dbt_vars_ = dbt_vars(dataset, fmt, manifest, delta_paths)
    project = project_dir()
    extension_dir = duckdb_extension_dir()
    if fmt == Format.DELTA:
        require_delta_extension(extension_dir)

    with tempfile.TemporaryDirectory(prefix="synth-spark-check-") as tmp:
        work = Path(work_dir) if work_dir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        project = Path(shutil.copytree(project, work / "project", dirs_exist_ok=True))
        rates = write_exchange_rates(config_from_manifest(manifest.get("config", {})), work / "rates.csv")
        dbt_vars_["exchange_rates"] = _sql_string(rates)
        cmd = [
            sys.executable,
            "-c",
            "from dbt.cli.main import cli; cli(prog_name='dbt')",
            "test",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--vars",
            json.dumps(dbt_vars_),
            "--no-version-check",
            "--no-send-anonymous-usage-stats",
            "--no-use-colors",
            "--no-partial-parse",
        ]
        if select:
            cmd += ["--select", select]
        env = {
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            "SYNTH_SPARK_DUCKDB_EXTENSIONS": extension_dir,
        }
        started = time.monotonic()
        with subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=work
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not _START_LINE.search(line):
                    out.write(line)
                    out.flush()
        seconds = time.monotonic() - started
        return CheckResult(proc.returncode, seconds, _results(work / "target" / "run_results.json"))


def catalog_dataset(spark, name: str, db=None) -> tuple[dict, dict[str, str]]:
    """The manifest of the dataset in the database ``name`` and the local folder of each table's
    Delta files, which DuckDB reads in place (``db``: the database already opened)."""
    db = db if db is not None else Database(spark, name)
    manifest = db.manifest()
    folders = {}
    for table in manifest["tables"]:
        location = db.location(table)
        if not location.startswith("file:"):
            raise ConfigError(
                f"--database: {name}.{table} is at {location}; check reads Delta files on this machine's "
                "disk with DuckDB: run verify or validate for a database elsewhere"
            )
        folders[table] = location.removeprefix("file:").replace("///", "/", 1)
    return manifest, folders


def _refuse_advancing(dataset: Path, fmt: str) -> None:
    """DuckDB reads a Delta table's latest version: during an advance, some tables' next days."""
    if fmt == Format.DELTA and (dataset / ADVANCING).exists():
        raise ConfigError(
            f"DATASET: {dataset} is being advanced by another synth-spark run (or one that did not finish "
            "left its Delta tables ahead of its manifest); run check when it ends, or after the next advance"
        )


def _refuse_replacing(db, manifest: dict) -> None:
    """A replace under way (by a live run) or a manifest replaced while DuckDB read the tables."""
    if db.replacing() is not None or db.manifest().get("run_id") != manifest.get("run_id"):
        raise being_written("--database", db.name)


def main(
    dataset: Path | None,
    formats: list[str],
    select: str | None = None,
    work_dir: Path | None = None,
    database: str | None = None,
    spark_conf: dict[str, str] | None = None,
    progress: Progress | None = None,
    master: str | None = "local[*]",
    dbt_output: TextIO | None = None,
    name: str = "DATASET",
) -> Outcome:
    """The CLI's ``check``: the dbt tests on the files of each of ``formats`` in turn; exit code 0
    when every test passes, 1 otherwise (bad input raises ConfigError). With ``database``, the Delta
    tables of a dataset in the session's catalog (Spark finds them)."""
    require("check")  # before anything is read: a missing extra is the one thing to say
    progress = progress or Progress()
    if select is not None:
        selection(select)  # before a session starts for a database
    catalog = manifest = None
    if database is not None:
        if formats != [Format.DELTA]:
            raise ConfigError(
                f"--format: a database holds Delta tables; give --format delta (not {','.join(formats)})"
            )
        from synth_spark.runtime.session import build_session  # the "spark" extra: needed for a database only

        progress("starting Spark to find the database's tables")
        spark = build_session(master, app_name="synth-spark-check", extra=spark_conf)
        opened = open_database(spark, database)
        catalog = catalog_dataset(spark, database, opened.db)
        _refuse_replacing(opened.db, catalog[0])
    else:
        opened = open_folder(dataset, name)  # settled, its manifest checked whole: refused before dbt starts
        manifest = opened.manifest
        for fmt in formats:
            check_format(dataset, fmt, manifest)
            _refuse_advancing(dataset, fmt)
    results = {}
    for fmt in formats:
        progress(f"running the dbt tests on the {fmt} files")
        results[fmt] = run_check(
            dataset, fmt, select, dbt_output, work_dir=work_dir, catalog=catalog, manifest=manifest
        )
    # DuckDB reads the latest files: the verdicts stand only if no other run wrote meanwhile
    opened.still()
    if database is None:
        for fmt in formats:
            _refuse_advancing(dataset, fmt)
    else:
        _refuse_replacing(opened.db, catalog[0])
    if (
        any(not r.results for r in results.values())
        and select is not None
        and all(r.dbt_exit_code == 0 for r in results.values())
    ):
        raise ConfigError(
            f"--select: {quoted(select)} selects none of the checks' tests; give a test's name, "
            "e.g. pledges__pledge_status__accepted_values, or source:synth.TABLE"
        )
    where = str(dataset) if database is None else f"the database {database}"
    on_purpose = broken_on_purpose(manifest if manifest is not None else catalog[0])
    lines, document = [], {"command": "check", "dataset": where, "formats": {}}
    for fmt, result in results.items():
        n_ok = sum(r.ok for r in result.results)
        document["formats"][fmt] = {
            "passed": n_ok,
            "failed": [
                {
                    "test": r.name,
                    "status": r.status,
                    "rows": r.failures,
                    **({"broken_on_purpose_by": on_purpose[r.name]} if r.name in on_purpose else {}),
                }
                for r in result.failed
            ],
            "dbt_exit_code": result.dbt_exit_code,
            "seconds": round(result.seconds, 1),
        }
        if not result.results:
            lines.append(
                f"synth-spark: dbt ran no test on the {fmt} files (exit {result.dbt_exit_code}); its output "
                "is above"
            )
            continue
        lines.append(
            f"synth-spark: {n_ok} passed, {len(result.failed)} failed; dbt tests on the {fmt} files of "
            f"{where} in {result.seconds:.1f}s"
        )
        lines += [
            f"  {r.status.upper():<5} {r.name}"
            + (f" ({r.failures} row{'s' * (r.failures != 1)})" if r.failures else "")
            + (
                f": broken on purpose by {incidents_named(on_purpose[r.name])}"
                if r.name in on_purpose
                else ""
            )
            for r in result.failed
        ]
    if any(r.failed for r in results.values()) and work_dir is None:
        lines.append(
            "  (dbt's compiled SQL went with its temporary folder: rerun with --work-dir DIR to keep it)"
        )
    return Outcome(0 if all(r.passed for r in results.values()) else 1, lines, document)
