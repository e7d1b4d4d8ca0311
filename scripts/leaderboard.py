"""The leaderboard: root-cause methods scored on a fixed benchmark set, as a table for docs/benchmark-scoring.md.

    python scripts/leaderboard.py --scale 1 --seeds 1 2 3 [--instances 20] [--out out/leaderboard]
        [--tool NAME --run 'COMMAND {dataset} {cube} {questions} {findings}']

The set: for each seed, one dataset with the five default scenarios alone, one per difficulty (easy,
medium, hard) with ``--instances`` placed instances and the five off, each with the decoys listed and
its ground truth kept apart (``generate --truth-out``), and the control run (``--no-anomalies``). A
dataset already in ``--out`` is reused, so the set is built once and every tool is scored on the same
data. Each method gets the dataset's folder, its KPI cube and its questions, never the truth; its
findings are scored with ``synth-spark score`` and pooled over the seeds: each measure with a 95%
Wilson interval over the instances, and false alarms per month on the datasets and on the control.

The two reference methods always run (synth_spark/baselines): robust residuals with a contribution
analysis, over the cube; and validate's own detectors, an oracle told where to look. ``--run`` adds a
tool of your own: a shell command with ``{dataset}``, ``{cube}``, ``{questions}`` and ``{findings}``
(where it must write its findings file), run once per dataset and once on the control.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
from pathlib import Path

SETS = ("default", "easy", "medium", "hard")
DEFAULTS = ("viral_spike", "payment_outage", "holiday_churn", "creator_exodus", "category_collapse")
CLI = [sys.executable, "-m", "synth_spark.cli"]
MEASURES = ("detection", "ac@1", "ac@3", "avg@5")


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def build(folder: Path, seed: int, scale: float, kind: str, instances: int) -> None:
    """One dataset of the set (its truth beside it, its cube and its questions), unless it is there."""
    if not (folder / "_manifest.json").exists():
        extra = (
            ["--no-anomalies"] if kind == "control" else ["--decoys", "--truth-out", f"{folder}.truth.json"]
        )
        if kind in ("easy", "medium", "hard"):
            extra += ["--scenarios", str(instances), "--difficulty", kind]
            extra += [f"--set=anomalies.{a}.enabled=false" for a in DEFAULTS]
        args = ["generate", str(folder), "--seed", str(seed), "--scale", f"{scale:g}", "--format", "parquet"]
        run([*CLI, *args, "--quiet", "--overwrite", *extra], stdout=sys.stderr)
    cube = folder.parent / f"{folder.name}-kpis"
    if not (cube / "kpis_monthly.parquet").exists():
        run([*CLI, "metrics", str(folder), "--out", str(cube), "--quiet"], stdout=sys.stderr)
    questions = folder.parent / f"{folder.name}.questions.jsonl"
    if not questions.exists():
        questions.write_text(run([*CLI, "questions", str(folder)], capture_output=True, text=True).stdout)


def methods(args) -> dict[str, str]:
    """Each method's command, by name."""
    python = shlex.quote(sys.executable)
    out = {
        "robust residuals + contribution": f"{python} -m synth_spark.baselines.robust_contribution {{cube}} > {{findings}}",
        "validate's detectors (oracle)": (
            f"[ -f {{report}}/report.json ] || {python} -m synth_spark.cli validate {{dataset}} --truth {{truth}} "
            "--quiet --report {report} >/dev/null; "
            f"{python} -m synth_spark.baselines.validate_detectors {{report}}/report.json > {{findings}}"
        ),
    }
    if args.run:
        out[args.tool] = args.run
    return out


def findings(name: str, command: str, folder: Path, control: bool) -> Path:
    out = folder.parent / f"{folder.name}.{slug(name)}.findings.json"
    if out.exists():
        return out
    if control and "{truth}" in command:  # the oracle is told the truth's windows: a control has none
        out.write_text('{"findings": []}')
        return out
    filled = command.format(
        dataset=shlex.quote(str(folder)),
        cube=shlex.quote(str(folder.parent / f"{folder.name}-kpis")),
        questions=shlex.quote(str(folder.parent / f"{folder.name}.questions.jsonl")),
        findings=shlex.quote(str(out)),
        truth=shlex.quote(f"{folder}.truth.json"),
        report=shlex.quote(str(folder.parent / f"{folder.name}.report")),
    )
    run(["bash", "-c", filled])
    return out


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def score(folder: Path, found: Path, control: Path) -> dict:
    cmd = [*CLI, "score", str(folder), str(found), "--truth", f"{folder}.truth.json"]
    cmd += ["--control-findings", str(control), "--json"]
    return json.loads(run(cmd, capture_output=True, text=True).stdout)


def wilson(hits: float, n: int) -> tuple[float, float]:
    if n == 0:
        return 0.0, 0.0
    p, z = hits / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--instances", type=int, default=20)
    p.add_argument("--out", type=Path, default=Path("out/leaderboard"))
    p.add_argument("--tool", default="your tool", help="its name in the table")
    p.add_argument("--run", default=None, help="its command; see above")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pooled: dict[tuple[str, str], dict] = {}
    for seed in args.seeds:
        base = args.out / f"scale{args.scale:g}-seed{seed}"
        control = Path(f"{base}-control")
        build(control, seed, args.scale, "control", args.instances)
        for kind in SETS:
            folder = Path(f"{base}-{kind}")
            build(folder, seed, args.scale, kind, args.instances)
            for name, command in methods(args).items():
                doc = score(
                    folder, findings(name, command, folder, False), findings(name, command, control, True)
                )
                rows = doc["by_difficulty"].get(kind, {"instances": 0})
                cell = pooled.setdefault(
                    (name, kind),
                    {"n": 0, "alarms": 0.0, "control": 0.0, "runs": 0, **{m: 0.0 for m in MEASURES}},
                )
                n = rows.get("instances", 0)
                cell["n"] += n
                for m in MEASURES:
                    cell[m] += rows.get(m, 0.0) * n
                cell["alarms"] += doc["false_alarms_per_month"]
                cell["control"] += doc["control"]["false_alarms_per_month"]
                cell["runs"] += 1
                print(f"seed {seed} {kind:<8} {name}: {json.dumps(rows)}", file=sys.stderr)
    print(
        "| method | set | instances | detection | AC@1 | AC@3 | Avg@5 | false alarms a month | on the control |"
    )
    print("|---|---|---:|---|---|---:|---:|---:|---:|")
    for (name, kind), c in pooled.items():
        n = c["n"]
        share = {m: c[m] / n if n else 0.0 for m in MEASURES}
        lo_d, hi_d = wilson(c["detection"], n)
        lo_a, hi_a = wilson(c["ac@1"], n)
        print(
            f"| {name} | {kind} | {n} | {share['detection']:.0%} ({lo_d:.0%}-{hi_d:.0%}) | "
            f"{share['ac@1']:.0%} ({lo_a:.0%}-{hi_a:.0%}) | {share['ac@3']:.0%} | {share['avg@5']:.0%} | "
            f"{c['alarms'] / c['runs']:.2f} | {c['control'] / c['runs']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
