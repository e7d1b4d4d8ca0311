"""``synth-spark plan``: what a ``generate`` with the same options would write and cost, without
starting Spark or writing anything. The options are checked as ``generate`` checks them (bad input:
one line, exit 2); the creators are drawn as the run would draw them, and the rows, bytes, tasks,
memory and time follow from the sizing model (``sizing.py``)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path

from synth_spark.commands import data_request
from synth_spark.config import ConfigError
from synth_spark.manifest import MANIFEST
from synth_spark.outcome import Outcome
from synth_spark import options
from synth_spark.request import ALL_FORMATS, CLI, WriteRequest
from synth_spark.sizing import estimate


def planned_cores(master: str | None) -> tuple[int, str]:
    """The cores a run on ``master`` would have here, and where that number comes from."""
    here = os.cpu_count() or 1
    found = re.fullmatch(r"local\[(\d+|\*)(?:,\d+)?\]", master or "")
    if master == "local":
        return 1, "local: one core"
    if found:
        return (
            (here, f"local[*]: the {here} cores here")
            if found.group(1) == "*"
            else (int(found.group(1)), f"{master}")
        )
    return (
        here,
        f"{master or 'the spark-submit master'}: the cluster's cores are not known here; shown for {here}",
    )


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError


def _duration(seconds: float) -> str:
    return (
        f"{seconds:.0f} s"
        if seconds < 120
        else f"{seconds / 60:.1f} min"
        if seconds < 7200
        else f"{seconds / 3600:.1f} h"
    )


def run_plan(args: argparse.Namespace) -> Outcome:
    # the "spark" extra is not needed: the plan is numpy, the estimate arithmetic
    from synth_spark.simulation.expected_rows import expected_rows
    from synth_spark.simulation.plan import Plan
    from synth_spark.simulation.workload import default_tasks

    data = data_request(args)
    folder, formats = None, list(ALL_FORMATS if args.formats is None else options.formats(args.formats))
    if args.dataset is not None or args.database is not None:  # checked as generate checks it
        write = WriteRequest.make(
            CLI, dataset=args.dataset, formats=args.formats, overwrite=args.overwrite, database=args.database
        )
        folder, formats = write.folder, list(write.formats)
    cfg = data.cfg
    try:  # what the plan cannot honour is bad input, refused as generate refuses it
        plan = Plan.make(cfg)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    cores, where = planned_cores(args.master)
    tasks = data.partitions or default_tasks(plan.expected_work(), cores)
    rows = expected_rows(plan)
    formats = [str(f) for f in formats]
    est = estimate(rows, formats, cores)
    width = max(len(t) for t in rows)
    lines = [
        f"synth-spark plan: generate at scale {cfg.scale:g}, seed {cfg.seed}, {', '.join(formats)}; "
        "nothing is written",
        f"  {'table':<{width}}  {'rows':>13}" + "".join(f"  {f:>10}" for f in formats),
        *(
            f"  {t:<{width}}  {n:>13,}" + "".join(f"  {_size(est.bytes[t][f]):>10}" for f in formats)
            for t, n in rows.items()
        ),
        f"  {'total':<{width}}  {sum(rows.values()):>13,}"
        + "".join(f"  {_size(est.total_bytes(f)):>10}" for f in formats),
        f"  tasks: {tasks} for the simulation, on {cores} cores ({where})",
        f"  time: about {_duration(est.seconds)} on {cores} cores (Spark's start included; the model is "
        "within 30% on the runs measured)",
        f"  memory: about {est.memory_gib:.1f} GiB for all processes at the peak; driver memory: "
        f"{est.driver_memory}",
        f"  disk: {_size(est.total_bytes())} of tables, and up to {_size(est.local_disk_bytes)} in "
        "Spark's local folder while it runs",
    ]
    room = _room(folder, est.total_bytes())
    if room:
        lines.append(f"  {room}")
    document = {
        "command": "plan",
        "scale": cfg.scale,
        "seed": cfg.seed,
        "formats": formats,
        "rows": rows,
        "bytes": est.bytes,
        "tasks": tasks,
        "cores": cores,
        "seconds": round(est.seconds, 1),
        "memory_gib": round(est.memory_gib, 2),
        "local_disk_bytes": est.local_disk_bytes,
        "driver_memory": est.driver_memory,
    }
    return Outcome(0, lines, document)


def _room(folder, needed: int) -> str | None:
    """Whether the folder's disk has room for the tables (a local folder only)."""
    if not isinstance(folder, Path):
        return None
    existing = next((p for p in [folder, *folder.resolve().parents] if p.exists()), None)
    if existing is None:
        return None
    free = shutil.disk_usage(existing).free
    held = " (it holds a dataset: generate needs --overwrite)" if (folder / MANIFEST).exists() else ""
    verdict = "room for them" if free > needed * 1.2 else "NOT enough room for them"
    return f"DATASET's disk: {_size(free)} free, {verdict}{held}"
