"""The ground truth a tool's findings are scored against: read from the dataset's manifest (which
lists the anomalies table's rows) or, for a dataset whose answers are kept apart, from the file
``generate --truth-out`` wrote, checked to be that dataset's."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from synth_spark.config import ConfigError
from synth_spark.manifest import TRUTH_APART
from synth_spark.publish.truth_file import read_truth

#: the families of instances a tool should find; a decoy is one it should leave alone
FOUND_FAMILIES = ("business", "data")


@dataclass(frozen=True)
class Instance:
    anomaly_id: int
    question_id: str
    type: str
    family: str
    start: dt.date
    end: dt.date
    segment: dict[str, tuple[str, ...]]
    kpis: tuple[str, ...]
    difficulty: str

    @property
    def is_decoy(self) -> bool:
        return self.family not in FOUND_FAMILIES


def value_text(value) -> str:
    """A segment's value as the scorer compares it: booleans as true/false, whole numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def segment_of(raw) -> dict[str, tuple[str, ...]]:
    raw = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return {dim: tuple(sorted(value_text(v) for v in values)) for dim, values in raw.items()}


def _instance(row: dict, question: str) -> Instance:
    kpis = row["kpis"] if isinstance(row["kpis"], dict) else json.loads(row["kpis"] or "{}")
    return Instance(
        anomaly_id=int(row["anomaly_id"]),
        question_id=question,
        type=row["anomaly_type"],
        family=row["family"],
        start=dt.date.fromisoformat(str(row["start_at"])[:10]),
        end=dt.date.fromisoformat(str(row["end_at"])[:10]),
        segment=segment_of(row["segment"]),
        kpis=tuple(kpis),
        difficulty=row.get("difficulty") or "default",
    )


def load_truth(dataset: Path, manifest: dict, truth_file: Path | None) -> list[Instance]:
    """The dataset's ground truth, one :class:`Instance` per row."""
    if truth_file is None:
        if manifest.get("ground_truth") == TRUTH_APART:
            raise ConfigError(
                f"--truth: the ground truth of {str(dataset)!r} is kept apart; give the file "
                "'generate --truth-out' wrote"
            )
        rows = list(manifest.get("anomalies", []))
        if rows and "question_id" not in rows[0]:
            raise ConfigError(
                f"DATASET: {str(dataset)!r} was written by an older synth-spark, whose ground truth has no "
                "question ids; generate it again"
            )
        return [_instance(r, r["question_id"]) for r in rows]
    return [_instance(r, r["question_id"]) for r in read_truth(truth_file, manifest)]
