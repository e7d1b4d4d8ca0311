"""``_manifest.json``: what a dataset is (seed, scale, window, config, versions), what it holds
(per table: rows, checksum and one path per format) and what validation needs of the plan that
made it (each creator's latent size and joining month), so that nothing downstream re-plans.

One home for building, reading and checking it.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import uuid
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from synth_spark import __version__
from synth_spark.failures import ConfigError, quoted
from synth_spark.vocabulary import GROUND_TRUTH, OUTPUT_TABLES, SIZE_TIERS, TABLES

MANIFEST = "_manifest.json"
GENERATOR = "synth-spark"


class Format(StrEnum):
    """A format a dataset's tables are written in: its value is how ``--format``, the manifest and
    the folders name it (a ``str``, so a manifest read back compares equal to it)."""

    PARQUET = "parquet"
    DELTA = "delta"
    CSV = "csv"


FORMATS = tuple(Format)
#: the files of the large tables: a file per generation task, or each covering its own stretch of
#: time (job/layout.py); the manifest records which
LAYOUTS = ("tasks", "time")
#: the most tasks one run may ask for (--partitions, and what a manifest may record): past this,
#: Spark spends its time starting tasks
MAX_PARTITIONS = 10_000
#: tables a manifest may name: the platform's seven and the ground truth
KNOWN_TABLES = (*TABLES, GROUND_TRUTH)
_PACKAGES = ("pyspark", "delta-spark", "numpy", "pyarrow", "faker", "pydantic")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "synth-spark": __version__}
    for pkg in _PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


#: the manifest's ``ground_truth``: where a dataset's answers are
TRUTH_IN_TABLE, TRUTH_APART = "in the anomalies table", "kept apart"
#: what a ground-truth file (generate --truth-out) says it is, first thing, and its version
TRUTH_FORMAT, TRUTH_VERSION = "synth-spark ground truth", 1


def header(plan) -> dict:
    """What every manifest of ours opens with: who wrote it, which run (an id of its own, so a
    dataset replaced by an identical one is still another), when, and the run's seed, scale and window."""
    cfg = plan.cfg
    return {
        "generator": GENERATOR,
        "generator_version": __version__,
        "run_id": uuid.uuid4().hex,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": cfg.seed,
        "scale": cfg.scale,
        "window": {
            "start": cfg.window.start.isoformat(),
            "end": (cfg.window.end - dt.timedelta(days=1)).isoformat(),
            "months": cfg.window.months,
            "timezone": "UTC",
        },
    }


def build(
    plan,
    formats: list[str],
    partitions: int,
    rows: dict[str, int],
    checksums: dict[str, str],
    paths: dict[str, dict[str, str]],
    as_of: dt.date | None = None,
    layout: str = "tasks",
) -> dict:
    """The manifest of a generated dataset (``plan``: the run's simulation.plan.Plan)."""
    cfg, job = plan.cfg, plan.constants
    creators = plan.creators
    joined = creators["joined_month"]
    broken = plan.data_incidents
    return {
        **header(plan),
        # the day whose end the tables show (a snapshot); absent for the window's end
        **({"as_of": as_of.isoformat()} if as_of is not None else {}),
        "formats": formats,
        "partitions": partitions,
        # how the large tables' rows are spread over files (job/layout.py)
        "layout": layout,
        "patron_id_pool": job.pool,
        "churn_normaliser": round(job.churn_norm, 6),
        "tables": {t: {"rows": rows[t], "checksum": checksums[t], "paths": paths[t]} for t in OUTPUT_TABLES},
        "anomalies": list(plan.published_truth),
        # where the answers are: in the anomalies table (and here), or kept apart (generate --truth-out)
        "ground_truth": TRUTH_APART if plan.truth_apart else TRUTH_IN_TABLE,
        # the investigation questions, without their answers (simulation/questions.py)
        "questions": plan.questions,
        # the data incidents asked for, and the checks each breaks on purpose (job/ingestion.py)
        **({"data_incidents": broken} if broken else {}),
        # Hidden variables of the simulation that validation measures against: one digit per
        # creator (creator ids run 1..n) for its size, and the month each creator that joined
        # inside the window joined in.
        "latent_creators": {
            "size_tiers": list(SIZE_TIERS),
            "size_code": (np.asarray(creators["size_code"], dtype=np.uint8) + ord("0"))
            .tobytes()
            .decode("ascii"),
            "joined_month": {
                str(int(c)): int(m) for c, m in zip(creators["creator_id"][joined >= 0], joined[joined >= 0])
            },
        },
        "versions": versions(),
        "config": cfg.fingerprint(),
    }


def text(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=False) + "\n"


def load(folder) -> dict | None:
    """The manifest of one of our datasets in ``folder``, or None if there is none of ours."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError, RecursionError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("generator") == GENERATOR else None


def read(folder, name: str = "DATASET") -> dict:
    """The manifest of the dataset in ``folder``, its header checked (header_problem); a one-line
    ConfigError when there is none or it is not one of ours."""
    if not folder.is_dir():
        raise ConfigError(
            f"{name}: {str(folder)!r} is not a folder; give a folder written by 'synth-spark generate'"
        )
    path = folder / MANIFEST
    if not path.is_file():
        raise ConfigError(
            f"{name}: {str(folder)!r} holds no {MANIFEST}; give a folder written by 'synth-spark generate'"
        )
    try:
        manifest = json.loads(path.read_text())
    except RecursionError:  # JSON nested deeper than Python's stack: no manifest of ours
        raise ConfigError(f"{name}: {str(path)!r} nests too deeply to be a manifest") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{name}: cannot read {str(path)!r}: {exc}") from None
    if not isinstance(manifest, dict):
        raise ConfigError(f"{name}: {str(path)!r} is not a manifest (a JSON object)")
    if manifest.get("kind") == "changes":
        raise ConfigError(
            f"{name}: {str(folder)!r} holds daily change batches (synth-spark changes), not a dataset; "
            "give a folder written by 'synth-spark generate'"
        )
    problem = header_problem(manifest)
    if problem:
        raise ConfigError(f"{name}: {str(path)!r} is not a manifest synth-spark writes: {problem}")
    return manifest


def _day(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def header_problem(manifest: dict) -> str | None:
    """What is wrong with the settings a manifest records that commands read before any work (its
    window, as-of day, tasks, formats and config, each when it is there), or None: a hand-edited
    manifest is refused in one line rather than failing deep in a run."""
    window, start, end = manifest.get("window"), dt.date.min, dt.date.max
    if window is not None:
        start, end = (
            (_day(window.get("start")), _day(window.get("end"))) if isinstance(window, dict) else (None, None)
        )
        if start is None or end is None or end < start:
            return f"its window {quoted(window)} is not a start and an end day (YYYY-MM-DD)"
    as_of = manifest.get("as_of")
    day = _day(as_of) if as_of else None
    if as_of and (day is None or not start <= day <= end):
        return f"its as_of {quoted(as_of)} is not a day (YYYY-MM-DD) of its window"
    partitions = manifest.get("partitions")
    if partitions is not None and (type(partitions) is not int or not 1 <= partitions <= MAX_PARTITIONS):
        return f"its partitions {quoted(partitions)} is not a number of tasks from 1 to {MAX_PARTITIONS:,}"
    formats = manifest.get("formats")
    if formats is not None and (
        not isinstance(formats, list) or not formats or any(f not in FORMATS for f in formats)
    ):
        return f"its formats {quoted(formats)} are not a list of {', '.join(FORMATS)}"
    if not isinstance(manifest.get("config", {}), dict):
        return f"its config {quoted(manifest['config'])} is not a mapping of settings"
    return None


def entries(manifest: dict, where: str = "DATASET") -> list[str]:
    """The table entries a manifest lists (``parquet/pledges``, ``csv/pledges.csv``, ...), checked to
    be one of the layouts we write: never an absolute path, ``..`` or anything outside the dataset."""
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise ConfigError(f"{where}: the manifest lists no tables")
    out = []
    for table, entry in tables.items():
        if table not in KNOWN_TABLES:
            raise ConfigError(
                f"{where}: the manifest lists table {table!r}; known tables: {', '.join(KNOWN_TABLES)}"
            )
        paths = entry.get("paths") if isinstance(entry, dict) else None
        if not isinstance(paths, dict):
            raise ConfigError(f"{where}: the manifest's entry for {table!r} lists no paths")
        for fmt, rel in paths.items():
            allowed = {f"{fmt}/{table}"} | ({f"csv/{table}.csv"} if fmt == Format.CSV else set())
            if fmt not in FORMATS or not isinstance(rel, str) or rel not in allowed:
                what = " or ".join(sorted(allowed)) if fmt in FORMATS else "a format of " + ", ".join(FORMATS)
                raise ConfigError(
                    f"{where}: the manifest's path {quoted(rel)} for {table} ({fmt}) is not one synth-spark "
                    f"writes; allowed: {what}"
                )
            out.append(rel)
    return out


def check(manifest: dict, where: str = "DATASET") -> tuple[list[str], dict[str, dict]]:
    """The formats and tables a dataset's manifest promises, checked whole: every table, in every
    format it names, at paths of ours, each with rows and a checksum."""
    formats, tables = manifest.get("formats"), manifest.get("tables")
    if not isinstance(formats, list) or not formats or any(f not in FORMATS for f in formats):
        raise ConfigError(
            f"{where}: the manifest's formats {quoted(formats)} are not a list of {', '.join(FORMATS)}"
        )
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{where}: the manifest lists no tables")
    entries(manifest, where)
    for table, entry in tables.items():
        if not isinstance(entry.get("rows"), int) or not isinstance(entry.get("checksum"), str):
            raise ConfigError(f"{where}: the manifest's entry for {table!r} has no rows and checksum")
    missing = [t for t in KNOWN_TABLES if t not in tables]
    if missing:
        raise ConfigError(
            f"{where}: the manifest lists no entry for {missing[0]!r}; "
            f"a dataset has all of {', '.join(KNOWN_TABLES)}"
        )
    for table, entry in tables.items():
        if sorted(entry["paths"]) != sorted(formats):
            raise ConfigError(
                f"{where}: the manifest lists {table} in {', '.join(sorted(entry['paths'])) or 'no format'}, "
                f"not in its formats {', '.join(formats)}"
            )
    return formats, tables


def latent_creators(manifest: dict) -> dict[str, np.ndarray] | None:
    """Each creator's latent size code and joining month (-1: before the window), as the run
    that made the dataset planned them; None for a dataset from a version that did not record them."""
    latent = manifest.get("latent_creators")
    if not isinstance(latent, dict) or list(latent.get("size_tiers", [])) != list(SIZE_TIERS):
        return None
    try:
        size_code = np.frombuffer(latent["size_code"].encode("ascii"), dtype=np.uint8).astype(np.int64) - ord(
            "0"
        )
        creator_id = np.arange(1, size_code.size + 1, dtype=np.int64)
        joined_month = np.full(size_code.size, -1, dtype=np.int64)
        for cid, month in latent.get("joined_month", {}).items():
            joined_month[int(cid) - 1] = int(month)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError, UnicodeError):
        raise ConfigError(
            "DATASET: the manifest's latent_creators are not the size codes and joining months "
            "synth-spark writes"
        ) from None
    if size_code.size and not 0 <= size_code.min() <= size_code.max() < len(SIZE_TIERS):
        raise ConfigError(
            f"DATASET: the manifest's latent_creators hold size codes other than 0 to {len(SIZE_TIERS) - 1}"
        )
    return {"creator_id": creator_id, "size_code": size_code, "joined_month": joined_month}
