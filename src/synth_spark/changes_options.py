"""A ``changes`` request, settled before Spark starts, from the command line's options or the
library's arguments. ``changes SNAPSHOT`` runs with the snapshot's seed, scale and config and starts
the day after its day, all read from its manifest; a field that says otherwise is refused, since
batches of other settings replay onto no snapshot of these. The older form (``--from`` with the
settings given) is kept for a release with a note."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from synth_spark import manifest, options
from synth_spark.config import Config, ConfigError, config_from_manifest
from synth_spark.manifest import Format
from synth_spark.outcome import Outcome
from synth_spark.progress import Progress
from synth_spark.publish.claim import settle
from synth_spark.publish.dataset_folder import check_target
from synth_spark.publish.storage import check_writable, is_uri
from synth_spark.request import ALL_FORMATS, DataRequest, Names
from synth_spark.simulation.plan import refuse_unplannable

_DATA_OPTIONS = "changes SNAPSHOT continues the snapshot's seed, scale and config"


@dataclass(frozen=True)
class ChangesFields:
    """What a caller gives ``changes``: the snapshot to continue, the last day and where the feed
    goes (default: beside the snapshot); in the older form no snapshot, the first day and the
    settings instead."""

    to: dt.date
    snapshot: str | Path | None = None
    out: Path | None = None
    formats: tuple[Format, ...] = ALL_FORMATS
    partitions: int | None = None
    overwrite: bool = False
    first: dt.date | None = None
    scale: float | None = None
    seed: int | None = None
    config: Path | None = None
    settings: tuple[Mapping, ...] = field(default_factory=tuple)
    anomalies: bool = True

    def requested(self, names: Names) -> DataRequest:
        data = DataRequest.make(
            names,
            scale=self.scale,
            seed=self.seed,
            config=self.config,
            settings=self.settings,
            anomalies=self.anomalies,
            partitions=self.partitions,
        )
        if data.cfg.scenarios.data_incidents:
            raise ConfigError(
                "scenarios.data_incidents: a change feed is the platform's own database, which data "
                "incidents (faults of the copy into a warehouse) do not reach; leave it off"
            )
        return data


@dataclass(frozen=True)
class ChangesRequest:
    """A settled ``changes`` run: its config, the manifest of the snapshot it continues (None in
    the older form), its days, the feed's folder (``OUT/changes``) and how it is written."""

    cfg: Config
    snapshot: dict | None
    first: dt.date
    last: dt.date
    feed: Path
    formats: tuple[Format, ...]
    partitions: int | None
    overwrite: bool


def snapshot_folder(value: str | Path, name: str) -> Path:
    """The snapshot as given: a local folder (the feed is written beside it, on the driver's disk)."""
    text = str(value)
    if not text.strip() or is_uri(text):
        raise ConfigError(
            f"{name}: {text!r} is not a local folder; give the folder of a snapshot written by "
            "'synth-spark generate --as-of DAY'"
        )
    return Path(text)


def _first_difference(ours, theirs, path: str = "") -> tuple[str, object, object] | None:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            found = _first_difference(ours.get(key), theirs.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    return None if ours == theirs else (path, ours, theirs)


def _shown(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse_other_settings(asked: ChangesFields, cfg: Config, names: Names) -> None:
    """A field deciding the data that says other than the snapshot's ``cfg``, refused."""
    if asked.seed is not None and asked.seed != cfg.seed:
        raise ConfigError(
            f"{names('seed')}: {asked.seed} is not the snapshot's seed {cfg.seed}; leave "
            f"{names('seed')} out: {_DATA_OPTIONS}"
        )
    if asked.scale is not None and asked.scale != cfg.scale:
        raise ConfigError(
            f"{names('scale')}: {asked.scale:g} is not the snapshot's scale {cfg.scale:g}; leave "
            f"{names('scale')} out: {_DATA_OPTIONS}"
        )
    on = [name for name, a in cfg.fingerprint()["anomalies"].items() if a.get("enabled")]
    if not asked.anomalies and on:
        raise ConfigError(
            f"{names('anomalies')}: the snapshot was generated with anomalies on ({', '.join(on)}); "
            f"leave {names('anomalies')} out: {_DATA_OPTIONS}"
        )
    if asked.config is not None or asked.settings or not asked.anomalies:
        theirs = (
            dataclasses.replace(asked, seed=cfg.seed, scale=cfg.scale, partitions=None).requested(names).cfg
        )
        diff = _first_difference(cfg.fingerprint(), theirs.fingerprint())
        if diff:
            name = names("config") if asked.config is not None else names("settings")
            raise ConfigError(
                f"{name}: gives {diff[0]} = {_shown(diff[2])}, and the snapshot has {_shown(diff[1])}; "
                f"leave {names('config')} and {names('settings')} out: {_DATA_OPTIONS}"
            )


def _snapshot_run(asked: ChangesFields, names: Names) -> tuple[Config, dict, dt.date, Path]:
    """The config of a run continuing a snapshot, the snapshot's manifest, the day after the
    snapshot's and the feed's parent folder."""
    folder = snapshot_folder(asked.snapshot, names("snapshot"))
    out = asked.out if asked.out is not None else folder.absolute().parent / f"{folder.absolute().name}-feed"
    if folder.is_dir():
        settle(folder, names("snapshot"))  # a publish a killed run left in it, finished or undone first
    m = manifest.read(folder, names("snapshot"))
    if not m.get("as_of"):
        raise ConfigError(
            f"{names('snapshot')}: {str(asked.snapshot)!r} holds the whole window (no as_of), so no "
            "day follows it; give a snapshot written by 'synth-spark generate --as-of DAY'"
        )
    if not isinstance(m.get("config"), dict):
        raise ConfigError(
            f"{names('snapshot')}: the manifest of {str(asked.snapshot)!r} records no config to "
            "continue; generate the snapshot again with this synth-spark"
        )
    cfg = config_from_manifest(m["config"])
    as_of = dt.date.fromisoformat(m["as_of"])
    _refuse_other_settings(asked, cfg, names)
    first = as_of + dt.timedelta(days=1)
    if asked.first is not None and asked.first != first:
        raise ConfigError(
            f"{names('first')}: {asked.first.isoformat()} is not the day after the snapshot's day "
            f"{as_of.isoformat()}; leave {names('first')} out, or give {first.isoformat()}"
        )
    last = cfg.window.end - dt.timedelta(days=1)
    if not first <= asked.to <= last:
        raise ConfigError(
            f"{names('to')}: {asked.to.isoformat()} is not after the snapshot's day "
            f"{as_of.isoformat()} and within the window; give a day from {first.isoformat()} to "
            f"{last.isoformat()}"
        )
    if asked.partitions is not None:
        options.within_creators(names("partitions"), asked.partitions, cfg)
    refuse_unplannable(cfg)  # the older form's config is checked whole by DataRequest
    return cfg, m, first, out


def _older_run(asked: ChangesFields, names: Names) -> tuple[Config, dt.date, Path]:
    """``changes --out DIR --from D1 --to D2`` with the settings given (kept for a release)."""
    if asked.out is None:
        raise ConfigError(
            f"{names('snapshot')}: give the snapshot to continue, e.g. synth-spark changes "
            "out/snapshot --to 2024-12-31 --out feed"
        )
    if asked.first is None:
        raise ConfigError(
            f"{names('first')}: give the first day of the range, or continue a snapshot: "
            "synth-spark changes SNAPSHOT --to DAY --out DIR"
        )
    cfg = asked.requested(names).cfg
    options.in_window(names("first"), asked.first, cfg.window)
    options.in_window(names("to"), asked.to, cfg.window)
    if asked.first > asked.to:
        raise ConfigError(
            f"{names('first')}: {asked.first.isoformat()} is after {names('to')} "
            f"{asked.to.isoformat()}; give {names('first')} on or before {names('to')}"
        )
    return cfg, asked.first, asked.out


def changes_request(asked: ChangesFields, names: Names) -> ChangesRequest:
    """The settled run: all of it checked, and the feed's folder refused if it may not be written
    (inside the snapshot, say), before any work. The older form gets its note once it passes."""
    snapshot = None
    if asked.snapshot is not None:
        cfg, snapshot, first, out = _snapshot_run(asked, names)
    else:
        cfg, first, out = _older_run(asked, names)
    if not isinstance(out, Path):
        raise ConfigError(f"{names('out')}: change feeds are written to a local folder; give a path")
    check_target(out / "changes", asked.overwrite, names("out"))
    check_writable(out / "changes")
    if snapshot is None:
        print(OLDER_FORM_NOTE, file=sys.stderr)
    return ChangesRequest(
        cfg,
        snapshot,
        first,
        asked.to,
        out / "changes",
        tuple(asked.formats),
        asked.partitions,
        asked.overwrite,
    )


def written_feed(spark, run: ChangesRequest, progress: Progress) -> Outcome:
    """Write the feed a settled run asks for (its folder claimed, and seen by the session's
    server, by the caller) and report it."""
    # pyspark (the "spark" extra) only once a run is settled: changes' bad input is refused without it
    from synth_spark.job.change_feed import write_changes

    published = write_changes(
        spark,
        run.cfg,
        run.feed,
        list(run.formats),
        run.first,
        run.last,
        run.partitions,
        progress,
        snapshot=run.snapshot,
    )
    return changes_outcome(run, published)


def changes_outcome(run: ChangesRequest, published: dict) -> Outcome:
    """What a written feed reports: its days and, per table, its rows, inserts and updates."""
    days = (run.last - run.first).days + 1
    lines = [
        f"synth-spark: wrote {days} daily batches ({', '.join(run.formats)}) of {run.first.isoformat()} to "
        f"{run.last.isoformat()} to {run.feed.resolve()} in {published['seconds']:.1f}s"
    ]
    width = max(len(t) for t in published["tables"])
    tables = {}
    for table, entry in published["tables"].items():
        kinds = {k: sum(d[k] for d in entry["days"].values()) for k in ("insert", "update_postimage")}
        lines.append(
            f"  {table:<{width}}  {entry['rows']:>12,} rows  ({kinds['insert']:,} inserts, "
            f"{kinds['update_postimage']:,} updates)"
        )
        tables[table] = {
            "rows": entry["rows"],
            "inserts": kinds["insert"],
            "updates": kinds["update_postimage"],
            "days": entry["days"],
        }
    return Outcome(
        0,
        lines,
        {
            "command": "changes",
            "feed": str(run.feed.resolve()),
            "formats": list(run.formats),
            "first": run.first.isoformat(),
            "last": run.last.isoformat(),
            "seconds": round(published["seconds"], 1),
            "tables": tables,
        },
    )


OLDER_FORM_NOTE = (
    "synth-spark: note: changes --out DIR --from D1 with --seed/--scale/--config is the older form; "
    "continue a snapshot instead (its settings come from its manifest): "
    "synth-spark changes SNAPSHOT --to D2 --out DIR"
)
