"""A tool's findings, read and checked against the findings schema (findings.schema.json, shipped
with the package): a file that breaks it is refused in one line naming the first error."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from synth_spark.benchmark.truth import segment_of
from synth_spark.config import ConfigError


@dataclass(frozen=True)
class Finding:
    number: int  # its place in the file, from 1
    kpi: str
    start: dt.date
    end: dt.date
    causes: tuple[dict[str, tuple[str, ...]], ...]  # ranked, best first
    question_id: str | None = None
    family: str | None = None


def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("findings.schema.json").read_text())


def load_findings(path: Path, option: str = "FINDINGS") -> tuple[str | None, list[Finding]]:
    """The tool's name (when the file gives one) and its findings, in the file's order."""
    import jsonschema

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{option}: {str(path)!r} cannot be read ({err.strerror})") from None
    except ValueError as err:
        raise ConfigError(f"{option}: {str(path)!r} is not JSON ({err})") from None
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the document"
        raise ConfigError(f"{option}: {str(path)!r} breaks the findings schema at {where}: {error.message}")
    out = []
    for i, f in enumerate(doc["findings"], start=1):
        start, end = (dt.date.fromisoformat(f["window"][k]) for k in ("start", "end"))
        if end < start:
            raise ConfigError(
                f"{option}: {str(path)!r} breaks the findings schema at findings/{i - 1}/window: its end "
                f"{end} is before its start {start}"
            )
        out.append(
            Finding(
                number=i,
                kpi=f["kpi"],
                start=start,
                end=end,
                causes=tuple(segment_of(c["segment"]) for c in f["root_causes"]),
                question_id=f.get("question_id"),
                family=f.get("family"),
            )
        )
    return doc.get("tool"), out
