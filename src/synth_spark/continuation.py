"""A change feed continues a snapshot. ``changes SNAPSHOT`` runs with the snapshot's seed, scale and
config and starts the day after its day, all read from its manifest; an option that says otherwise
is refused, since batches of other settings replay onto no snapshot of these. The feed's manifest
records what it continues (``continues``): a reader applying the batches checks them against the
snapshot it has (:func:`check_continues`), so batches of another dataset are refused, not merged.
How ``changes`` settles its options against the snapshot is ``changes_options.py``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from synth_spark import manifest
from synth_spark.config import Config, ConfigError, config_from_manifest

#: the feed manifest's record of the snapshot it continues
CONTINUES = "continues"


def config_digest(cfg: Config) -> str:
    """A short hash of every setting of a run (seed and scale included)."""
    return hashlib.sha256(json.dumps(cfg.fingerprint(), sort_keys=True).encode()).hexdigest()[:16]


def continued(cfg: Config, as_of: dt.date, snapshot: dict | None = None) -> dict:
    """What a feed whose first day follows ``as_of`` continues: that day and the run's settings, and,
    for a feed cut from a given snapshot, that snapshot's run and each of its tables' checksums."""
    out = {
        "as_of": as_of.isoformat(),
        "seed": cfg.seed,
        "scale": cfg.scale,
        "config_sha256": config_digest(cfg),
    }
    if snapshot is not None:
        out["run_id"] = snapshot.get("run_id")
        out["checksums"] = {t: e["checksum"] for t, e in snapshot["tables"].items()}
    return out


def check_continues(snapshot: str | Path, feed: str | Path) -> None:
    """Refuse, in one line, the batches in ``feed`` (a ``changes/`` folder) unless they continue the
    dataset in ``snapshot`` as it is now: its day, its settings and, where the feed recorded them,
    its tables' checksums."""
    snapshot, feed = Path(snapshot), Path(feed)
    m = manifest.read(snapshot, "SNAPSHOT")
    f = manifest.load(feed)
    if f is None or f.get("kind") != "changes":
        raise ConfigError(
            f"FEED: {str(feed)!r} holds no change batches of synth-spark; give the changes/ folder "
            "'synth-spark changes' wrote"
        )
    theirs = f.get(CONTINUES)
    if not isinstance(theirs, dict):
        raise ConfigError(
            f"FEED: {str(feed)!r} does not say which snapshot it continues (written by an older "
            "synth-spark); write it again with 'synth-spark changes SNAPSHOT --to DAY --out DIR'"
        )
    day = m.get("as_of") or m["window"]["end"]
    if theirs.get("as_of") != day:
        raise ConfigError(
            f"FEED: the batches continue the snapshot of {theirs.get('as_of')}, and {str(snapshot)!r} "
            f"is as of {day}; give the batches of the days after {day}"
        )
    ours = continued(config_from_manifest(m["config"]), dt.date.fromisoformat(day), m)
    if theirs.get("config_sha256") != ours["config_sha256"]:
        raise ConfigError(
            f"FEED: the batches continue another dataset (seed {theirs.get('seed')}, scale "
            f"{theirs.get('scale')}, config {theirs.get('config_sha256')}), not {str(snapshot)!r} "
            f"(seed {ours['seed']}, scale {ours['scale']}, config {ours['config_sha256']})"
        )
    for table, digest in (theirs.get("checksums") or {}).items():
        if ours["checksums"].get(table) != digest:
            raise ConfigError(
                f"FEED: the batches continue another dataset: its {table} had checksum {digest}, "
                f"{str(snapshot)!r}'s has {ours['checksums'].get(table)}"
            )
