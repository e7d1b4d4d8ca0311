"""The options of ``changes``, settled before Spark starts. ``changes SNAPSHOT`` runs with the
snapshot's seed, scale and config and starts the day after its day, all read from its manifest; an
option that says otherwise is refused, since batches of other settings replay onto no snapshot of
these. The older form (``--from`` with the settings given) is kept for a release with a note."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from synth_spark import manifest, options
from synth_spark.config import Config, ConfigError, config_from_manifest
from synth_spark.publish.claim import settle
from synth_spark.publish.dataset_folder import check_target
from synth_spark.publish.storage import check_writable, is_uri
from synth_spark.simulation.plan import refuse_unplannable

_DATA_OPTIONS = "changes SNAPSHOT continues the snapshot's seed, scale and config"


def snapshot_folder(text: str) -> Path:
    """SNAPSHOT as given: a local folder (the feed is written beside it, on the driver's disk)."""
    if not text.strip() or is_uri(text):
        raise ConfigError(f"SNAPSHOT: {text!r} is not a local folder; give the folder of a snapshot written by "
                          "'synth-spark generate --as-of DAY'")
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


def _refuse_other_settings(args: argparse.Namespace, cfg: Config,
                           requested: Callable[[argparse.Namespace], Config]) -> None:
    """An option deciding the data that says other than the snapshot's ``cfg``, refused."""
    if args.seed is not None and args.seed != cfg.seed:
        raise ConfigError(f"--seed: {args.seed} is not the snapshot's seed {cfg.seed}; leave --seed out: "
                          f"{_DATA_OPTIONS}")
    if args.scale is not None and args.scale != cfg.scale:
        raise ConfigError(f"--scale: {args.scale:g} is not the snapshot's scale {cfg.scale:g}; leave --scale out: "
                          f"{_DATA_OPTIONS}")
    on = [name for name, a in cfg.fingerprint()["anomalies"].items() if a.get("enabled")]
    if args.no_anomalies and on:
        raise ConfigError(f"--no-anomalies: the snapshot was generated with anomalies on ({', '.join(on)}); "
                          f"leave --no-anomalies out: {_DATA_OPTIONS}")
    if args.config is not None or args.settings or args.no_anomalies:
        args.seed, args.scale = cfg.seed, cfg.scale
        diff = _first_difference(cfg.fingerprint(), requested(args).fingerprint())
        if diff:
            name = "--config" if args.config is not None else "--set"
            raise ConfigError(f"{name}: gives {diff[0]} = {_shown(diff[2])}, and the snapshot has {_shown(diff[1])}; "
                              f"leave --config and --set out: {_DATA_OPTIONS}")


def snapshot_run(args: argparse.Namespace, requested: Callable[[argparse.Namespace], Config]) -> tuple[Config, dict]:
    """The config of ``changes SNAPSHOT`` and the snapshot's manifest; ``args.first`` becomes the
    day after the snapshot's. ``requested``: the config the data options ask for (the command
    line's), compared with the snapshot's when any of them is given."""
    folder = snapshot_folder(args.snapshot)
    if args.out is None:  # beside the snapshot, never inside it
        args.out = folder.absolute().parent / f"{folder.absolute().name}-feed"
    if folder.is_dir():
        settle(folder, "SNAPSHOT")  # a publish a killed run left in it, finished or undone first
    m = manifest.read(folder, "SNAPSHOT")
    if not m.get("as_of"):
        raise ConfigError(f"SNAPSHOT: {args.snapshot!r} holds the whole window (no as_of), so no day follows it; "
                          "give a snapshot written by 'synth-spark generate --as-of DAY'")
    if not isinstance(m.get("config"), dict):
        raise ConfigError(f"SNAPSHOT: the manifest of {args.snapshot!r} records no config to continue; generate the "
                          "snapshot again with this synth-spark")
    cfg = config_from_manifest(m["config"])
    as_of = dt.date.fromisoformat(m["as_of"])
    _refuse_other_settings(args, cfg, requested)
    first = as_of + dt.timedelta(days=1)
    if args.first is not None and args.first != first:
        raise ConfigError(f"--from: {args.first.isoformat()} is not the day after the snapshot's day "
                          f"{as_of.isoformat()}; leave --from out, or give {first.isoformat()}")
    last = cfg.window.end - dt.timedelta(days=1)
    if not first <= args.last <= last:
        raise ConfigError(f"--to: {args.last.isoformat()} is not after the snapshot's day {as_of.isoformat()} and "
                          f"within the window; give a day from {first.isoformat()} to {last.isoformat()}")
    if args.partitions is not None:
        options.within_creators("--partitions", args.partitions, cfg)
    args.first = first
    return cfg, m


def older_run(args: argparse.Namespace, requested: Callable[[argparse.Namespace], Config]) -> Config:
    """``changes --out DIR --from D1 --to D2`` with the settings given (kept for a release)."""
    if args.out is None:
        raise ConfigError("SNAPSHOT: give the snapshot to continue, e.g. synth-spark changes out/snapshot "
                          "--to 2024-12-31 --out feed")
    if args.first is None:
        raise ConfigError("--from: give the first day of the range, or continue a snapshot: "
                          "synth-spark changes SNAPSHOT --to DAY --out DIR")
    cfg = requested(args)
    options.in_window("--from", args.first, cfg.window)
    options.in_window("--to", args.last, cfg.window)
    if args.first > args.last:
        raise ConfigError(f"--from: {args.first.isoformat()} is after --to {args.last.isoformat()}; "
                          "give --from on or before --to")
    return cfg


def settled_changes(args: argparse.Namespace,
                    requested: Callable[[argparse.Namespace], Config]) -> tuple[Config, dict | None, Path]:
    """The config of a ``changes`` run, the manifest of the snapshot it continues (None in the
    older form, which gets its note once its options pass) and the feed's folder, DIR/changes."""
    snapshot = None
    if args.snapshot is not None:
        cfg, snapshot = snapshot_run(args, requested)
    else:
        cfg = older_run(args, requested)
    if not isinstance(args.out, Path):
        raise ConfigError("--out: change feeds are written to a local folder; give a path")
    refuse_unplannable(cfg)
    check_target(args.out / "changes", args.overwrite, "--out")  # e.g. inside the snapshot: refused before any work
    check_writable(args.out / "changes")
    if snapshot is None:
        print(OLDER_FORM_NOTE, file=sys.stderr)
    return cfg, snapshot, args.out / "changes"


OLDER_FORM_NOTE = ("synth-spark: note: changes --out DIR --from D1 with --seed/--scale/--config is the older form; "
                   "continue a snapshot instead (its settings come from its manifest): "
                   "synth-spark changes SNAPSHOT --to D2 --out DIR")
