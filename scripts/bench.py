"""Benchmark: synth-spark against the cheapest possible Spark job and against dbldatagen, side by side.

    python scripts/bench.py --scale S [--out DIR] [--partitions N] [--driver-memory 8g] [--skip dbldatagen]
        [--scenarios N] [--changes-days N] [--advance-days N] [--profile] [--layouts]

One Spark session (local[*]) in this process runs three stages, each writing Parquet under --out
(default out/bench-S):

1. ``synth-spark``: the package's ``generate()`` at scale S, Parquet only (simulation, derivation,
   staging, checksums and publication included: what ``synth-spark generate --format parquet`` does).
2. ``floor``: the same tables, with the row counts synth-spark produced and the schemas of
   ``synth_spark/vocabulary.py``, each written by ``spark.range(n)`` plus hash-derived values of the right
   type per column and no logic: about the least time any Spark generator of these tables takes here
   (not the least CPU: a hash per column costs more than dbldatagen's ``rand()``).
3. ``dbldatagen``: databrickslabs' generator, one ``DataGenerator`` per table built from the same schemas
   (``withSchema`` + ``withColumnSpec`` per field, random values in sensible ranges), same row counts.

A background thread samples the resident memory (VmRSS) of this process and all its descendants (the
driver JVM and the Python workers) every 0.5 s and keeps the peak sum, overall and per stage; the CPU
seconds the tree used in each stage are recorded too (steadier than wall time on a busy machine).
Results go to stdout and to DIR/bench.json and DIR/bench.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

STAGES = ("synth-spark", "floor", "dbldatagen")
SKIPPABLE = ("floor", "dbldatagen")
SAMPLE_SECONDS = 0.5
MIB = 1024 * 1024


# ----------------------------------------------------------------------------- memory and CPU of the
# process tree

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_tree(root: int) -> tuple[int, float]:
    """Sum of VmRSS (bytes) and of CPU seconds of ``root`` and all its descendants, from /proc (Linux).

    CPU seconds are utime + stime + the same of children already waited for (the Python workers that the
    PySpark daemon forked and reaped, for instance)."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue  # the process ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces or parentheses, so split after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = sum(int(x) for x in fields[11:15]) / _TICKS  # utime stime cutime cstime
    rss, seconds, todo = 0, 0.0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        seconds += cpu.get(pid, 0.0)
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmRSS:"):
                        rss += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return rss, seconds


def _psutil_tree(root: int) -> tuple[int, float]:
    import psutil

    rss, seconds = 0, 0.0
    proc = psutil.Process(root)
    for p in [proc, *proc.children(recursive=True)]:
        try:
            rss += p.memory_info().rss
            t = p.cpu_times()
            seconds += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return rss, seconds


def tree_usage(root: int | None = None) -> tuple[int, float]:
    """(resident bytes, CPU seconds so far) of a process and all its descendants."""
    root = os.getpid() if root is None else root
    return _proc_tree(root) if os.path.isdir("/proc/self") else _psutil_tree(root)


class MemorySampler(threading.Thread):
    """Peak RSS of the whole process tree, overall and per stage, sampled every ``interval`` seconds;
    and the tree's CPU seconds used by each stage."""

    def __init__(self, interval: float = SAMPLE_SECONDS):
        super().__init__(name="rss-sampler", daemon=True)
        self.interval = interval
        self.method = "/proc VmRSS" if os.path.isdir("/proc/self") else "psutil rss"
        self.samples = 0
        self.peak = 0
        self.stage: str | None = None
        self.stage_peak: dict[str, int] = {}
        self.stage_start: dict[str, int] = {}
        self.stage_cpu: dict[str, float] = {}
        self._cpu_at_begin = 0.0
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def sample(self) -> tuple[int, float]:
        rss, cpu = tree_usage()
        with self._lock:
            self.samples += 1
            self.peak = max(self.peak, rss)
            if self.stage is not None:
                self.stage_peak[self.stage] = max(self.stage_peak.get(self.stage, 0), rss)
        return rss, cpu

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def begin(self, stage: str) -> None:
        with self._lock:
            self.stage = stage
        self.stage_start[stage], self._cpu_at_begin = self.sample()

    def end(self) -> None:
        _, cpu = self.sample()
        with self._lock:
            if self.stage is not None:
                self.stage_cpu[self.stage] = cpu - self._cpu_at_begin
            self.stage = None

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()


# ----------------------------------------------------------------------------- value ranges from schemas.py


def primary_keys(tables) -> dict[str, str]:
    """Each table's key: its first column (creator_id, patron_id, ... as in schemas.py)."""
    from synth_spark.vocabulary import columns

    return {t: columns(t)[0] for t in tables}


def parent_of(column: str, table: str, keys: dict[str, str]) -> str | None:
    """The table a foreign-key column points to: ``creator_id`` -> creators, ``minimum_tier_id`` -> tiers."""
    for parent, key in keys.items():
        if parent != table and (column == key or column.endswith("_" + key)):
            return parent
    return None


MONEY_RANGE = (1.00, 500.00)  # decimals: dollars and cents
SMALL_INT_RANGE = (1, 10)  # non-key ints (tier_rank)


def column_plan(table: str, rows: dict[str, int]) -> list[tuple[str, str, dict]]:
    """(name, kind, parameters) per column of ``table``, shared by the floor and the dbldatagen spec."""
    from synth_spark.runtime.tables import schema
    from synth_spark.vocabulary import CLOSED_SETS

    keys = primary_keys(rows)
    plan = []
    for i, field in enumerate(schema(table).fields):
        t = field.dataType.simpleString()
        name = field.name
        if i == 0 and t in ("bigint", "int"):
            plan.append((name, "key", {"type": t, "max": rows[table]}))
        elif t in ("bigint", "int"):
            parent = parent_of(name, table, keys)
            hi = (
                max(rows[parent], 1)
                if parent
                else (max(rows[table], 1) if t == "bigint" else SMALL_INT_RANGE[1])
            )
            plan.append((name, "int", {"type": t, "min": 1, "max": hi, "parent": parent}))
        elif t.startswith("decimal"):
            plan.append((name, "decimal", {"type": t, "min": MONEY_RANGE[0], "max": MONEY_RANGE[1]}))
        elif t == "timestamp":
            plan.append((name, "timestamp", {"type": t}))
        elif t == "boolean":
            plan.append((name, "boolean", {"type": t}))
        elif t == "string":
            plan.append(
                (
                    name,
                    "string",
                    {
                        "type": t,
                        "values": list(CLOSED_SETS.get((table, name), ())),
                        "max": max(rows[table], 1),
                    },
                )
            )
        else:
            raise ValueError(f"{table}.{name}: no bench generator for type {t}")
    return plan


# ----------------------------------------------------------------------------- stage 2: the floor


def floor_frame(
    spark, table: str, rows: dict[str, int], partitions: int, start: dt.datetime, end: dt.datetime
):
    """``spark.range(n)`` and one hash of (id, column name) per column, cast or reduced to the column's type.

    Status and type columns get as many distinct strings as their closed set has (``status-1`` .. ``status-3``):
    Parquet stores a few distinct values far more cheaply than a unique string per row, and the floor must
    not write more bytes than the real tables would."""
    from pyspark.sql import functions as F

    n = rows[table]
    t0, span = int(start.timestamp()), int((end - start).total_seconds())
    cols = []
    for name, kind, p in column_plan(table, rows):
        h = F.xxhash64(F.col("id"), F.lit(name))
        if kind == "key":
            c = F.col("id") + 1
        elif kind == "int":
            c = F.pmod(h, F.lit(p["max"])) + 1
        elif kind == "decimal":
            cents_lo, cents_n = int(p["min"] * 100), int((p["max"] - p["min"]) * 100) + 1
            c = (F.pmod(h, F.lit(cents_n)) + cents_lo) / 100
        elif kind == "timestamp":
            c = F.timestamp_seconds(F.pmod(h, F.lit(span)) + t0)
        elif kind == "boolean":
            c = F.pmod(h, F.lit(2)) == 0
        else:  # string: a prefix and a number; as many distinct values as a closed set has, else up to n
            c = F.concat(
                F.lit(name + "-"), (F.pmod(h, F.lit(len(p["values"]) or p["max"])) + 1).cast("string")
            )
        cols.append(c.cast(p["type"]).alias(name))
    return spark.range(0, n, 1, partitions).select(*cols)


# ----------------------------------------------------------------------------- stage 3: dbldatagen


def dbldatagen_spec(
    spark,
    table: str,
    rows: dict[str, int],
    partitions: int,
    start: dt.datetime,
    end: dt.datetime,
    seed: int = 42,
):
    """A ``dbldatagen.DataGenerator`` for ``table``: ``withSchema`` from schemas.py, then one ``withColumnSpec``
    per field with random values (keys 1..n in order, foreign keys within the parent's rows, money in cents,
    timestamps inside the window, closed sets from their values, other strings a prefix and a number)."""
    import dbldatagen as dg

    from synth_spark.runtime.tables import schema

    window = dg.DateRange(start, end - dt.timedelta(seconds=1), dt.timedelta(seconds=1))
    gen = dg.DataGenerator(
        spark,
        name=f"bench_{table}",
        rows=rows[table],
        partitions=partitions,
        randomSeedMethod="hash_fieldname",
        randomSeed=seed,
    ).withSchema(schema(table))
    for name, kind, p in column_plan(table, rows):
        if kind == "key":
            gen = gen.withColumnSpec(name, minValue=1, maxValue=max(p["max"], 1))
        elif kind == "int":
            gen = gen.withColumnSpec(name, minValue=p["min"], maxValue=p["max"], random=True)
        elif kind == "decimal":
            gen = gen.withColumnSpec(name, minValue=p["min"], maxValue=p["max"], step=0.01, random=True)
        elif kind == "timestamp":
            gen = gen.withColumnSpec(name, dataRange=window, random=True)
        elif kind == "boolean":
            gen = gen.withColumnSpec(name, values=[True, False], random=True)
        elif p["values"]:
            gen = gen.withColumnSpec(name, values=p["values"], random=True)
        else:
            gen = gen.withColumnSpec(name, format=f"{name}-%d", minValue=1, maxValue=p["max"], random=True)
    return gen


def dbldatagen_unavailable() -> str | None:
    """Why dbldatagen cannot run here, or None."""
    try:
        import dbldatagen  # noqa: F401
    except Exception as exc:  # ImportError, or an import-time incompatibility
        return f"{type(exc).__name__}: {exc} (install with: pip install -e '.[bench]')"
    return None


# ----------------------------------------------------------------------------- the run


def _versions(spark) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("synth-spark", "pyspark", "dbldatagen", "numpy", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    out["spark"] = spark.version
    out["java"] = spark.sparkContext._jvm.System.getProperty("java.version")
    return out


def machine() -> dict:
    info = {"cores": os.cpu_count(), "platform": platform.platform()}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal:")))
        info["ram_gib"] = round(kb / 1024 / 1024, 1)
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            None,
        )
        if cpu:
            info["cpu"] = cpu
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except (OSError, StopIteration, ValueError):
        pass
    return info


def _rate(rows: int, seconds: float | None) -> float | None:
    return round(rows / seconds, 1) if seconds else None


def _say(message: str) -> None:
    print(message, flush=True)


def run_synth_spark(spark, cfg, out: Path, partitions: int | None) -> dict:
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    steps: list[tuple[float, str]] = []

    class Recording(Progress):
        def __call__(self, message: str) -> None:
            steps.append((time.monotonic() - self.started, message))
            super().__call__(message)

    started = time.monotonic()
    result = generate(spark, cfg, out, ["parquet"], partitions, Recording(quiet=True), overwrite=True)
    seconds = time.monotonic() - started
    # when each progress line was printed: the tables are not timed one by one (patrons and creators are
    # derived from the simulated tables, and two jobs run at once)
    timeline = [{"at_seconds": round(at, 2), "progress": msg} for at, msg in steps]
    return {
        "seconds": seconds,
        "tables": {t: {"rows": n} for t, n in result.rows.items()},
        "partitions": result.manifest["partitions"],
        "steps": timeline,
        "path": str(out / "parquet"),
    }


def run_changes(spark, cfg, out: Path, first: dt.date, last: dt.date, partitions: int | None) -> dict:
    from synth_spark.job.change_feed import write_changes
    from synth_spark.progress import Progress
    from synth_spark.publish.claim import Claim

    started = time.monotonic()
    with Claim(out, True, Progress(quiet=True)):
        m = write_changes(spark, cfg, out, ["parquet"], first, last, partitions, Progress(quiet=True))
    return {
        "seconds": round(time.monotonic() - started, 2),
        "days": (last - first).days + 1,
        "rows": sum(t["rows"] for t in m["tables"].values()),
        "path": str(out),
    }


def prepare_snapshot(spark, cfg, out: Path, day: dt.date, partitions: int | None) -> Path:
    from synth_spark.job.generate import generate
    from synth_spark.progress import Progress

    generate(spark, cfg, out, ["delta"], partitions, Progress(quiet=True), overwrite=True, as_of=day)
    return out


def run_advance(spark, snapshot: Path, last: dt.date, partitions: int | None) -> dict:
    from synth_spark.job.advance import advance
    from synth_spark.progress import Progress

    before = json.loads((snapshot / "_manifest.json").read_text())["as_of"]
    started = time.monotonic()
    m = advance(spark, snapshot, last, partitions, Progress(quiet=True))
    days = (last - dt.date.fromisoformat(before)).days
    return {
        "seconds": round(time.monotonic() - started, 2),
        "days": days,
        "rows": sum(t["rows"] for t in m["tables"].values() if isinstance(t, dict) and "rows" in t),
        "commits": sum(len(set(v.values())) for v in m["delta_versions"].values()),
        "path": str(snapshot),
    }


def run_tables(make_frame, tables: list[str], out: Path) -> dict:
    """Write each table's frame to ``out/<table>``, timing each write."""
    if out.exists():
        shutil.rmtree(out)
    per_table, started = {}, time.monotonic()
    for table in tables:
        t = time.monotonic()
        make_frame(table).write.mode("overwrite").parquet(str(out / table))
        per_table[table] = {"seconds": time.monotonic() - t}
    return {"seconds": time.monotonic() - started, "tables": per_table, "path": str(out)}


def warm_up(
    spark, cfg, partitions: int | None, start: dt.datetime, end: dt.datetime, scratch: Path, skip: list[str]
) -> float:
    """Every stage once, small and untimed, so that all timed stages run in an equally warm JVM. Returns the
    CPU seconds of its synth-spark generate (the session's first: it pays the JVM's warm-up)."""
    from synth_spark.vocabulary import OUTPUT_TABLES

    _, cpu = tree_usage()
    stage = run_synth_spark(spark, cfg, scratch / "synth-spark", partitions)
    generate_cpu = tree_usage()[1] - cpu
    rows = {t: stage["tables"][t]["rows"] for t in OUTPUT_TABLES}
    tables = list(OUTPUT_TABLES)
    if "floor" not in skip:
        run_tables(
            lambda tb: floor_frame(spark, tb, rows, stage["partitions"], start, end),
            tables,
            scratch / "floor",
        )
    if "dbldatagen" not in skip and not dbldatagen_unavailable():
        try:
            run_tables(
                lambda tb: dbldatagen_spec(spark, tb, rows, stage["partitions"], start, end).build(),
                tables,
                scratch / "dbldatagen",
            )
        except Exception:  # reported by the timed stage
            pass
    shutil.rmtree(scratch, ignore_errors=True)
    return generate_cpu


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    def scale(text: str) -> float:
        value = float(text)
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive factor")
        return value

    def skips(text: str) -> list[str]:
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in SKIPPABLE]
        if bad:
            raise argparse.ArgumentTypeError(f"{bad[0]!r} is not a stage; allowed: {', '.join(SKIPPABLE)}")
        return items

    p = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--scale", type=scale, required=True, help="synth-spark scale factor (1 = the seed's volumes)"
    )
    p.add_argument("--out", type=Path, default=None, help="output folder (default: out/bench-S)")
    p.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="Spark tasks and files per table, for all three stages (default: synth-spark's default)",
    )
    p.add_argument("--driver-memory", default=None, help="driver JVM memory, e.g. 8g")
    p.add_argument("--seed", type=int, default=None, help="synth-spark run seed (default from config: 42)")
    p.add_argument(
        "--no-warmup",
        action="store_true",
        help="time a cold JVM: skip the untimed warm-up round (at scale min(S, 1)) before the stages",
    )
    p.add_argument(
        "--skip", type=skips, action="extend", default=[], help="stages to skip: floor, dbldatagen"
    )
    p.add_argument(
        "--changes-days",
        type=int,
        default=0,
        metavar="N",
        help="also time 'changes' over the window's last N days (one simulation for the range)",
    )
    p.add_argument(
        "--scenarios",
        type=int,
        default=0,
        metavar="N",
        help="also time a generate with N scenario instances placed by the seed (mixed difficulty)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help=(
            "also take a generate apart: each kernel, pass, encoding, checksum and derived table alone "
            "(bench_profile.py)"
        ),
    )
    p.add_argument(
        "--advance-days",
        type=int,
        default=0,
        metavar="N",
        help="also time 'advance' of a Delta snapshot over the window's last N days",
    )
    p.add_argument(
        "--layouts",
        action="store_true",
        help="also compare the file layouts: a generate and a month's query with each (bench_layout.py)",
    )
    args = p.parse_args(argv)
    if args.partitions is not None and args.partitions < 1:
        p.error("--partitions: give 1 or more")
    args.out = args.out or Path("out") / f"bench-{args.scale:g}"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wall_started = time.monotonic()
    sampler = MemorySampler()
    sampler.start()

    from synth_spark.config import load_config
    from synth_spark.runtime.session import build_session
    from synth_spark.vocabulary import OUTPUT_TABLES

    cfg = load_config(scale=args.scale, seed=args.seed)
    partitions = args.partitions
    start = dt.datetime.combine(cfg.window.start, dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(cfg.window.end, dt.time(), dt.timezone.utc)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    _say(
        f"bench: scale {args.scale:g}, {partitions or 'default'} partitions, local[*] on {os.cpu_count()} "
        f"cores, into {out}"
    )
    t = time.monotonic()
    spark = build_session(
        "local[*]", app_name="synth-spark-bench", partitions=partitions, driver_memory=args.driver_memory
    )
    session_seconds = time.monotonic() - t
    # The JVM's JIT compiler spends some 30 CPU-seconds on its first minute of Spark work whatever the
    # scale: without a warm-up, the first timed stage pays it and the later ones ride on it.
    warmup = None
    if not args.no_warmup:
        warm_cfg = load_config(scale=min(args.scale, 1.0), seed=args.seed)
        _say(f"warm-up: every stage once at scale {warm_cfg.scale:g}, untimed ...")
        t = time.monotonic()
        warm_cpu = warm_up(spark, warm_cfg, args.partitions, start, end, out / ".warmup", args.skip)
        warmup = {
            "scale": warm_cfg.scale,
            "seconds": round(time.monotonic() - t, 2),
            "generate_cpu_seconds": round(warm_cpu, 2),
        }

    report: dict = {
        "scale": args.scale,
        "seed": cfg.seed,
        "partitions": partitions,
        "master": "local[*]",
        "driver_memory": args.driver_memory,
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": _versions(spark),
        "session_start_seconds": round(session_seconds, 2),
        "warmup": warmup,
        "memory_sampling": {
            "method": (
                f"{sampler.method}, sum over this process and all its descendants; CPU: "
                "utime+stime+cutime+cstime over the same tree"
            ),
            "interval_seconds": SAMPLE_SECONDS,
        },
        "stages": {},
    }

    # 1. synth-spark
    _say("[synth-spark] generating every table to Parquet ...")
    sampler.begin("synth-spark")
    stage = run_synth_spark(spark, cfg, out / "synth-spark", partitions)
    sampler.end()
    report["stages"]["synth-spark"] = {"status": "ok", **stage}
    # The other stages get the same number of tasks and files per table as synth-spark chose.
    partitions = report["partitions"] = stage["partitions"]
    rows = {t: stage["tables"][t]["rows"] for t in OUTPUT_TABLES}
    _say(f"[synth-spark] {sum(rows.values()):,} rows in {stage['seconds']:.1f}s")

    tables = list(OUTPUT_TABLES)

    # 2. the floor
    if "floor" in args.skip:
        report["stages"]["floor"] = {"status": "skipped"}
        _say("[floor] skipped")
    else:
        _say("[floor] spark.range + hashes, same tables, rows and schemas ...")
        sampler.begin("floor")
        stage = run_tables(
            lambda tb: floor_frame(spark, tb, rows, partitions, start, end), tables, out / "floor"
        )
        sampler.end()
        report["stages"]["floor"] = {"status": "ok", **stage}
        _say(f"[floor] {sum(rows.values()):,} rows in {stage['seconds']:.1f}s")

    # 3. dbldatagen
    reason = "skipped" if "dbldatagen" in args.skip else None
    if reason is None:
        why = dbldatagen_unavailable()
        reason = f"unavailable: {why}" if why else None
    if reason is None:
        _say("[dbldatagen] DataGenerator per table from schemas.py, random values ...")
        sampler.begin("dbldatagen")
        try:
            stage = run_tables(
                lambda tb: dbldatagen_spec(spark, tb, rows, partitions, start, end).build(),
                tables,
                out / "dbldatagen",
            )
            report["stages"]["dbldatagen"] = {"status": "ok", **stage}
            _say(f"[dbldatagen] {sum(rows.values()):,} rows in {stage['seconds']:.1f}s")
        except Exception as exc:  # an incompatibility with this Spark shows up here; reported, not hidden
            first = (str(exc).strip().splitlines() or [""])[0]
            reason = f"unavailable: {type(exc).__name__}: {first}"
        finally:
            sampler.end()
    if reason is not None:
        report["stages"]["dbldatagen"] = {"status": reason}
        _say(f"[dbldatagen] {reason}")

    # 4. change feeds (optional): the same config, the window's last days
    last = cfg.window.end - dt.timedelta(days=1)
    feeds = {}
    if args.changes_days:
        first = last - dt.timedelta(days=args.changes_days - 1)
        _say(f"[changes] daily batches of {first} to {last} ...")
        sampler.begin("changes")
        feeds["changes"] = run_changes(spark, cfg, out / "changes", first, last, partitions)
        sampler.end()
    if args.advance_days:
        day = last - dt.timedelta(days=args.advance_days)
        _say(f"[advance] a Delta snapshot of {day}, untimed, then advance to {last} ...")
        snapshot = prepare_snapshot(spark, cfg, out / "lake", day, partitions)
        sampler.begin("advance")
        feeds["advance"] = run_advance(spark, snapshot, last, partitions)
        sampler.end()
    for name, st in feeds.items():
        st.update(
            cpu_seconds=round(sampler.stage_cpu.get(name, 0.0), 1),
            peak_rss_mib=round(sampler.stage_peak.get(name, 0) / MIB),
        )
        _say(f"[{name}] {st['days']} days, {st['rows']:,} changed rows in {st['seconds']:.1f}s")
    report["change_feeds"] = feeds

    # 4b. placed scenarios (optional): what N instances cost over the same generate without them
    if args.scenarios:
        _say(f"[scenarios] the same generate with {args.scenarios} instances placed by the seed ...")
        placed = load_config(
            scale=args.scale, seed=args.seed, scenarios={"placed": args.scenarios, "difficulty": "mixed"}
        )
        sampler.begin("scenarios")
        stage = run_synth_spark(spark, placed, out / "scenarios", partitions)
        sampler.end()
        report["scenarios"] = {
            "instances": args.scenarios,
            "seconds": round(stage["seconds"], 2),
            "cpu_seconds": round(sampler.stage_cpu.get("scenarios", 0.0), 1),
            "peak_rss_mib": round(sampler.stage_peak.get("scenarios", 0) / MIB),
        }
        _say(f"[scenarios] {args.scenarios} instances: {stage['seconds']:.1f}s")

    # 5. the profile (optional): generate taken apart, step by step
    if args.profile:
        import bench_profile

        _say("[profile] each step of a generate alone ...")
        report["profile"] = bench_profile.profile(
            spark,
            cfg,
            partitions,
            out / "profile",
            tree_usage,
            warm_cfg=load_config(scale=min(args.scale, 1.0), seed=args.seed) if warmup else None,
        )

    # 6. the file layouts (optional): what --layout time costs and saves
    if args.layouts:
        import bench_layout

        _say("[layouts] a generate with each layout, then a month's query on each ...")
        report["layouts"] = bench_layout.measure(spark, cfg, partitions, out / "layouts", tree_usage)
        for line in bench_layout.render(report["layouts"])[3:]:
            _say(line)

    spark.stop()
    sampler.stop()

    # figures
    total_rows = sum(rows.values())
    for name, st in report["stages"].items():
        if st["status"] != "ok":
            continue
        st["seconds"] = round(st["seconds"], 2)
        st["rows"] = total_rows
        st["rows_per_second"] = _rate(total_rows, st["seconds"])
        st["peak_rss_mib"] = round(sampler.stage_peak.get(name, 0) / MIB)
        st["rss_at_start_mib"] = round(sampler.stage_start.get(name, 0) / MIB)
        st["cpu_seconds"] = round(sampler.stage_cpu.get(name, 0.0), 1)
        for tb, entry in st["tables"].items():
            entry["rows"] = rows[tb]
            if "seconds" in entry:
                entry["seconds"] = round(entry["seconds"], 2)
                entry["rows_per_second"] = _rate(rows[tb], entry["seconds"])
    synth = report["stages"]["synth-spark"]["seconds"]

    def ratio(other: str) -> float | None:
        st = report["stages"][other]
        return round(synth / st["seconds"], 2) if st["status"] == "ok" and st["seconds"] else None

    def cpu_ratio(other: str) -> float | None:
        st = report["stages"][other]
        return (
            round(report["stages"]["synth-spark"]["cpu_seconds"] / st["cpu_seconds"], 2)
            if st["status"] == "ok" and st["cpu_seconds"]
            else None
        )

    report["ratios"] = {
        "synth-spark/floor": ratio("floor"),
        "synth-spark/dbldatagen": ratio("dbldatagen"),
        "cpu synth-spark/floor": cpu_ratio("floor"),
        "cpu synth-spark/dbldatagen": cpu_ratio("dbldatagen"),
    }
    report["peak_rss_mib"] = round(sampler.peak / MIB)
    report["memory_sampling"]["samples"] = sampler.samples
    report["wall_seconds"] = round(time.monotonic() - wall_started, 2)

    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = render_markdown(report)
    (out / "bench.md").write_text(markdown)
    _say("")
    _say(markdown)
    _say(f"bench: wrote {out / 'bench.json'} and {out / 'bench.md'}")
    return 0


def _fmt(value, spec: str = ",.0f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def render_markdown(report: dict) -> str:
    m, v = report["machine"], report["versions"]
    lines = [
        f"# Benchmark, scale {report['scale']:g}",
        "",
        f"{m.get('cores')} cores, {m.get('ram_gib', '?')} GiB RAM ({m.get('cpu', 'cpu unknown')}), load "
        "average at start "
        f"{m.get('load_average_at_start', '?')}; local[*], {report['partitions']} partitions, driver memory "
        f"{report['driver_memory'] or 'default'}; seed {report['seed']}. Spark {v['spark']}, Java "
        f"{v['java']}, Python "
        f"{v['python']}, synth-spark {v['synth-spark']}, dbldatagen {v['dbldatagen']}. Session start "
        f"{report['session_start_seconds']:.1f}s (not in any stage). "
        + (
            f"Warm-up: every stage once at scale {report['warmup']['scale']:g} first, untimed "
            f"({report['warmup']['seconds']:.1f}s), so no stage pays the JVM's JIT warm-up for the others."
            if report.get("warmup")
            else "No warm-up (--no-warmup): the first stage pays the JVM's JIT warm-up."
        ),
        "",
        "| stage | wall s | rows | rows/s | CPU s, process tree | peak RSS, process tree (MiB) | RSS at "
        "stage start (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in STAGES:
        st = report["stages"][name]
        if st["status"] != "ok":
            lines.append(f"| {name} | {st['status']} | | | | | |")
            continue
        lines.append(
            f"| {name} | {st['seconds']:.1f} | {st['rows']:,} | {_fmt(st['rows_per_second'])} | "
            f"{st['cpu_seconds']:.1f} | {st['peak_rss_mib']:,} | {st['rss_at_start_mib']:,} |"
        )
    r = report["ratios"]
    lines += [
        "",
        f"synth-spark / floor: **{_fmt(r['synth-spark/floor'], '.2f')}x**; synth-spark / dbldatagen: "
        f"**{_fmt(r['synth-spark/dbldatagen'], '.2f')}x** (wall seconds); in CPU seconds "
        f"{_fmt(r['cpu synth-spark/floor'], '.2f')}x and {_fmt(r['cpu synth-spark/dbldatagen'], '.2f')}x. "
        f"Peak RSS of the whole run: {report['peak_rss_mib']:,} MiB.",
        "",
        "| table | rows | floor s | floor rows/s | dbldatagen s | dbldatagen rows/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    floor, dbl = report["stages"]["floor"], report["stages"]["dbldatagen"]
    for table, entry in report["stages"]["synth-spark"]["tables"].items():
        f = floor["tables"][table] if floor["status"] == "ok" else {}
        d = dbl["tables"][table] if dbl["status"] == "ok" else {}
        lines.append(
            f"| {table} | {entry['rows']:,} | {_fmt(f.get('seconds'), '.2f')} | "
            f"{_fmt(f.get('rows_per_second'))} | "
            f"{_fmt(d.get('seconds'), '.2f')} | {_fmt(d.get('rows_per_second'))} |"
        )
    lines += [
        "",
        "synth-spark's progress lines (its tables are not timed one by one: patrons and creators are "
        "derived from the simulated tables, and two tables are written at once):",
        "",
        "| s into the stage | progress |",
        "|---:|---|",
    ]
    lines += [
        f"| {s['at_seconds']:.1f} | {s['progress']} |" for s in report["stages"]["synth-spark"]["steps"]
    ]
    feeds = report.get("change_feeds") or {}
    if feeds:
        generate_s = report["stages"]["synth-spark"]["seconds"]
        lines += [
            "",
            "Change feeds (the window's last days, same session):",
            "",
            "| stage | days | wall s | CPU s | vs a full generate (wall) | rows |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, st in feeds.items():
            rows = "changed rows" if name == "changes" else "rows of the advanced tables"
            lines.append(
                f"| {name} | {st['days']} | {st['seconds']:.1f} | {st['cpu_seconds']:.1f} | "
                f"{st['seconds'] / generate_s:.2f}x | {st['rows']:,} {rows} |"
            )
    if report.get("scenarios"):
        sc, plain = report["scenarios"], report["stages"]["synth-spark"]
        lines += [
            "",
            f"Scenarios (same session): the generate above again with {sc['instances']} instances placed by "
            "the seed at mixed difficulty.",
            "",
            "| stage | wall s | CPU s | wall vs none | CPU vs none |",
            "|---|---:|---:|---:|---:|",
            f"| {sc['instances']} instances | {sc['seconds']:.1f} | {sc['cpu_seconds']:.1f} | "
            f"{sc['seconds'] / plain['seconds']:.2f}x | {sc['cpu_seconds'] / plain['cpu_seconds']:.2f}x |",
        ]
    if report.get("layouts"):
        import bench_layout

        lines += bench_layout.render(report["layouts"])
    if report.get("profile"):
        import bench_profile

        warm = report.get("warmup") or {}
        lines += bench_profile.render(
            report["profile"],
            report["stages"]["synth-spark"]["cpu_seconds"],
            warm.get("generate_cpu_seconds"),
        )
    lines += [
        "",
        "RSS is the sum of VmRSS over the bench process, the driver JVM and the Python workers; pages shared "
        "between forked workers are counted in each, and the JVM keeps its heap between stages, so a later "
        "stage's peak includes what earlier stages left (see 'RSS at stage start').",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
