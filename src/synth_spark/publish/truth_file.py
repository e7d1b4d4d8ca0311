"""The ground truth written apart from its dataset (``generate --truth-out PATH``): one JSON file a
tool under test is never pointed at, published with the dataset: staged whole before the dataset
is published, put in place after it, removed if the run fails in between. A file that is not one of
ours is never replaced, and the truth never goes inside the dataset's folder, which a tool is given.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from synth_spark.config import ConfigError
from synth_spark.manifest import TRUTH_FORMAT, TRUTH_VERSION
from synth_spark.publish.storage import partial_of, sync_folder

#: the truth's columns that hold JSON in the anomalies table, written as JSON values here
JSON_COLUMNS = ("segment", "kpis")


def check_truth_out(path: Path, dataset: Path | None, overwrite: bool, name: str = "--truth-out") -> Path:
    """``path`` resolved, or one line (naming the option or field ``name``) saying why the truth
    cannot go there."""
    path = Path(path).expanduser().resolve()
    if path.suffix != ".json":
        raise ConfigError(f"{name}: {str(path)!r} is not a .json file; give a path ending in .json")
    if dataset is not None:
        folder = Path(dataset).expanduser().resolve()
        if path == folder or folder in path.parents:
            raise ConfigError(
                f"{name}: {str(path)!r} is inside the dataset's folder, which a tool under test is "
                "given; give a path outside it"
            )
    if path.is_dir():
        raise ConfigError(f"{name}: {str(path)!r} is a folder; give a file path ending in .json")
    existing = next(p for p in path.parents if p.exists())  # the folders below it are made at the end
    if not existing.is_dir():
        raise ConfigError(f"{name}: {str(existing)!r} is a file, not a folder; give a path in a folder")
    if path.exists():
        if not is_truth_file(path):
            raise ConfigError(
                f"{name}: {str(path)!r} exists and is not a synth-spark ground truth; it is left as it "
                "is: give another path"
            )
        if not overwrite:
            raise ConfigError(
                f"{name}: {str(path)!r} already holds a ground truth; give "
                f"{'--overwrite' if name.startswith('--') else 'overwrite=True'} to replace it"
            )
    if not os.access(existing, os.W_OK):
        raise ConfigError(f"{name}: the folder {str(existing)!r} is not writable")
    return path


def is_truth_file(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh).get("format") == TRUTH_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def document(manifest: dict, truth: list[dict]) -> dict:
    """The truth file of a dataset: which dataset it answers (its run id, seed, scale and window),
    then one record per instance, the anomalies table's columns with its question id."""
    instances = []
    for row in truth:
        record = {"question_id": row["question_id"], **row}
        for column in JSON_COLUMNS:
            if isinstance(record.get(column), str):
                record[column] = json.loads(record[column])
        record["overlaps"] = [int(i) for i in (record.get("overlaps") or "").split(";") if i]
        instances.append(record)
    return {
        "format": TRUTH_FORMAT,
        "version": TRUTH_VERSION,
        "dataset": {
            "run_id": manifest["run_id"],
            "seed": manifest["seed"],
            "scale": manifest["scale"],
            "window": manifest["window"],
            **({"as_of": manifest["as_of"]} if manifest.get("as_of") else {}),
        },
        "instances": instances,
    }


class StagedTruth:
    """A truth file written whole and synced under a partial name, then put in place or removed."""

    def __init__(self, path: Path, doc: dict):
        self.path, self.partial = path, partial_of(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.partial, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            self.partial.unlink(missing_ok=True)
            raise

    def commit(self) -> None:
        os.replace(self.partial, self.path)
        sync_folder(self.path.parent)

    def discard(self) -> None:
        self.partial.unlink(missing_ok=True)


def read_truth(path: Path, manifest: dict, option: str = "--truth") -> list[dict]:
    """The rows of a truth file, as the anomalies table holds them (its JSON columns as JSON text),
    each with its question id; refused in one line unless it is the truth of the dataset whose
    ``manifest`` is given."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{option}: {str(path)!r} cannot be read as JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != TRUTH_FORMAT:
        raise ConfigError(f"{option}: {str(path)!r} is not a synth-spark ground truth")
    theirs, ours = doc.get("dataset", {}).get("run_id"), manifest.get("run_id")
    if theirs != ours:
        raise ConfigError(
            f"{option}: {str(path)!r} answers another dataset (run {theirs}), not this one (run {ours})"
        )
    rows = []
    for record in doc["instances"]:
        row = dict(record)
        for column in JSON_COLUMNS:
            row[column] = json.dumps(row[column])
        row["overlaps"] = ";".join(str(i) for i in row.get("overlaps") or []) or None
        rows.append(row)
    return rows
