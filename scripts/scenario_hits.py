"""How often validate's detector finds placed scenario instances, per difficulty, and how often it
"finds" them in the control run, where nothing was put.

    python scripts/scenario_hits.py --scale 1 --seeds 1 2 3 [--instances 20] [--out out/scenario-hits]

For each seed it generates one dataset per difficulty (easy, medium, hard) with ``--instances``
instances placed by the run seed, and the control run (``--no-anomalies``), Parquet only; a dataset
already in ``--out`` is reused. Each dataset is then scored with its own ground truth, and the
control with the same ground truth. It prints a line per seed and difficulty, then a Markdown table:
the share of instances found (a gap of 3 standard errors in the type's direction), found with their
own segment ranked first, and found in the control run (false alarms). The figures go into
docs/anomalies.md; if found does not fall from easy to hard, the difficulty is not measuring what it
claims.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

LEVELS = ("easy", "medium", "hard")


def generate(folder: Path, seed: int, scale: float, *extra: str) -> None:
    if (folder / "_manifest.json").exists():
        return
    cmd = [sys.executable, "-m", "synth_spark.cli", "generate", str(folder), "--seed", str(seed)]
    cmd += ["--scale", f"{scale:g}", "--format", "parquet", "--quiet", *extra]
    subprocess.run(cmd, check=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--instances", type=int, default=20)
    p.add_argument("--out", type=Path, default=Path("out/scenario-hits"))
    args = p.parse_args(argv)

    folders = {}
    for seed in args.seeds:
        for level in LEVELS:
            folders[seed, level] = args.out / f"scale{args.scale:g}-seed{seed}-{level}"
            generate(
                folders[seed, level],
                seed,
                args.scale,
                "--scenarios",
                str(args.instances),
                "--difficulty",
                level,
            )
        folders[seed, None] = args.out / f"scale{args.scale:g}-seed{seed}-control"
        generate(folders[seed, None], seed, args.scale, "--no-anomalies")

    # Spark only once the datasets are there
    from synth_spark.config.loading import config_from_manifest
    from synth_spark.manifest import latent_creators
    from synth_spark.runtime.session import build_session
    from synth_spark.validation.metrics import Dataset
    from synth_spark.validation.scoring import ground_truth, score
    from synth_spark.vocabulary import ANOMALY_TYPES

    spark = build_session(app_name="scenario-hits")

    def load(folder: Path):
        manifest = json.loads((folder / "_manifest.json").read_text())
        cfg = config_from_manifest(manifest["config"])
        return manifest, Dataset.load(spark, str(folder), cfg.window.start, cfg.window.months, manifest)

    def catalogue(scores):
        return [s for s in scores if s.anomaly_type not in ANOMALY_TYPES]

    tally = {level: [0, 0, 0, 0] for level in LEVELS}
    print("seed difficulty instances found own-segment-first found-in-control")
    for seed in args.seeds:
        _, control = load(folders[seed, None])
        for level in LEVELS:
            manifest, ds = load(folders[seed, level])
            truth, latent = ground_truth(ds), latent_creators(manifest)
            run = catalogue(score(ds, truth, latent))
            ctl = catalogue(score(control, truth, latent))
            row = [
                len(run),
                sum(s.detected for s in run),
                sum(s.passed for s in run),
                sum(s.detected for s in ctl),
            ]
            print(seed, level, *row, flush=True)
            tally[level] = [a + b for a, b in zip(tally[level], row)]
    print()
    print("| scale | difficulty | instances | found | found, own segment first | found in the control run |")
    print("|---|---|---|---|---|---|")
    for level, (n, found, both, false) in tally.items():
        print(
            f"| {args.scale:g}x | {level} | {n} | {100 * found / n:.0f}% | {100 * both / n:.0f}% | "
            f"{100 * false / n:.0f}% |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
