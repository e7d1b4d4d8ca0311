"""``synth-spark plan`` against the runs it predicts: for each scale, the plan's rows, bytes, time
and memory, then a fresh ``synth-spark generate`` with the same options (its wall time, the peak
memory of its whole process tree, its rows and the bytes of each format on disk), and the error of
each estimate. Prints a markdown table (docs/benchmark.md, "plan").

    python scripts/plan_vs_actual.py --scales 0.1 1 10 --out /tmp/plan-check [--format parquet]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import MemorySampler  # noqa: E402 - the bench's sampler of the process tree's memory

CLI = [str(Path(sys.executable).parent / "synth-spark")]


def _bytes_on_disk(dataset: Path, manifest: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for entry in manifest["tables"].values():
        for fmt, rel in entry["paths"].items():
            path = dataset / rel
            size = (
                path.stat().st_size
                if path.is_file()
                else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            )
            out[fmt] = out.get(fmt, 0) + size
    return out


def measured(scale: float, formats: str, out: Path, extra: list[str]) -> dict:
    args = ["--scale", str(scale), "--format", formats, *extra]
    plan = json.loads(subprocess.run([*CLI, "plan", *args, "--json"], check=True, capture_output=True).stdout)
    dataset = out / f"{scale:g}x"
    shutil.rmtree(dataset, ignore_errors=True)
    sampler = MemorySampler(0.2)
    sampler.start()
    started = time.monotonic()
    subprocess.run([*CLI, "generate", str(dataset), *args, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    sampler.stop()
    manifest = json.loads((dataset / "_manifest.json").read_text())
    rows = sum(e["rows"] for e in manifest["tables"].values())
    on_disk = _bytes_on_disk(dataset, manifest)
    shutil.rmtree(dataset)
    planned_bytes = {f: sum(per[f] for per in plan["bytes"].values()) for f in on_disk}
    return {
        "scale": scale,
        "rows": (sum(plan["rows"].values()), rows),
        "bytes": {f: (planned_bytes[f], on_disk[f]) for f in on_disk},
        "seconds": (plan["seconds"], wall),
        "memory_gib": (plan["memory_gib"], sampler.peak / 2**30),
    }


def _err(pair: tuple[float, float]) -> str:
    planned, actual = pair
    return f"{100 * (planned / actual - 1):+.0f}%" if actual else "-"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", type=float, nargs="+", default=[0.1, 1, 10])
    p.add_argument("--format", default="parquet,csv,delta")
    p.add_argument("--out", type=Path, default=Path("out/plan-check"))
    p.add_argument("--driver-memory", default=None)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    extra = ["--driver-memory", a.driver_memory] if a.driver_memory else []
    print(f"# plan against generate, {a.format}, {os.cpu_count()} cores\n")
    print(
        "| scale | rows: plan / actual | bytes: plan / actual (error) | time s: plan / actual | peak memory GiB: plan / actual |"
    )
    print("|---|---|---|---|---|")
    for scale in a.scales:
        m = measured(scale, a.format, a.out, extra)
        bytes_cell = "; ".join(
            f"{f} {p / 1e6:,.1f} / {q / 1e6:,.1f} MB ({_err((p, q))})" for f, (p, q) in m["bytes"].items()
        )
        print(
            f"| {scale:g}x | {m['rows'][0]:,} / {m['rows'][1]:,} ({_err(m['rows'])}) | {bytes_cell} | "
            f"{m['seconds'][0]:.0f} / {m['seconds'][1]:.1f} ({_err(m['seconds'])}) | "
            f"{m['memory_gib'][0]:.1f} / {m['memory_gib'][1]:.1f} ({_err(m['memory_gib'])}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
