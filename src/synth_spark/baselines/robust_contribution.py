"""A standard root-cause pipeline over the KPI cube, as a team would assemble it from well-kept
parts: robust residuals find where each KPI leaves its normal, on the platform and on each member
of each dimension (series.py); an Adtributor-style contribution analysis names the segments that
explain each move (contribution.py). It sees the cube only, never the ground truth.

    python -m synth_spark.baselines.robust_contribution CUBE_FOLDER > findings.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from synth_spark.baselines import series
from synth_spark.baselines.contribution import DIMENSIONS, root_causes, text

NAME = "robust residuals + contribution analysis"
#: spreads a series must leave its normal by: the platform's, and a segment's (many more series are
#: tried there, so more leave it by chance)
PLATFORM_Z, SEGMENT_Z, CREATOR_Z = 4.0, 4.5, 8.0
#: the KPIs watched creator by creator: flows whose counts are Poisson-like (a creator's MRR and
#: engagement swing with a few pledges or one post, and would fill the findings with noise)
PER_CREATOR = ("new_pledges", "voluntary_churn")
#: KPIs watched on the platform only: a segment's daily revenue is a handful of charges of very
#: different sizes, far noisier than a count (its declines are watched as rates, segment by segment)
PLATFORM_ONLY = ("revenue",)
#: a segment's series is tried when it is this large: per month, or per day of a rate's denominator
SMALLEST_MONTHLY, SMALLEST_DAILY = 20.0, 20.0
#: periods before a window its forecast is made from
BEFORE = {"day": 28, "month": 3}
#: the most findings reported, strongest first
MOST_FINDINGS = 40


_BY_CREATOR = {("month", name) for name in PER_CREATOR}


def candidates(cube: pd.DataFrame, kpis, grain: str) -> list[dict]:
    """Every run of periods where a KPI leaves its normal, on the platform or a segment."""
    periods = np.sort(cube["period"].unique())
    charges = (
        cube["first_attempts"].sum() - cube["first_attempt_declines"].sum() + cube["retry_successes"].sum()
    )
    unit = float(cube["revenue"].astype(float).sum() / max(charges, 1))  # the mean charge
    measures = sorted({c for k in kpis for c in (k.numerator, k.denominator) if c})
    by_dim: dict = {}  # each dimension's sums, every KPI's columns at once: one pass over the cube
    out = []
    for kpi in kpis:
        dims = [None, *(d for d in DIMENSIONS if d != "creator_id" or (grain, kpi.name) in _BY_CREATOR)]
        if kpi.name in PLATFORM_ONLY:
            dims = [None]
        columns = [kpi.numerator] + ([kpi.denominator] if kpi.denominator else [])
        for dim in dims:
            if dim not in by_dim:
                keys = ["period"] + ([dim] if dim else [])
                by_dim[dim] = cube.groupby(keys, dropna=True)[measures].sum().astype(float)
            sums = by_dim[dim][columns]
            groups = [(None, sums)] if dim is None else sums.groupby(level=dim)
            for member, part in groups:
                part = part.droplevel(dim) if dim else part
                part = part.reindex(periods, fill_value=0.0)
                size = part[kpi.denominator or kpi.numerator]
                if dim and size.median() < (SMALLEST_DAILY if grain == "day" else SMALLEST_MONTHLY):
                    continue
                if grain == "day":
                    den = part[kpi.denominator] if kpi.denominator else None
                    z = series.daily_z(part[kpi.numerator], den, kpi.cycle, unit)
                else:
                    z = series.monthly_z(part[kpi.numerator].to_numpy(), kpi.stock)
                threshold = PLATFORM_Z if dim is None else CREATOR_Z if dim == "creator_id" else SEGMENT_Z
                for a, b, peak in series.windows(z, threshold):
                    where = {} if dim is None else {dim: [text(member)]}
                    out.append(
                        {"kpi": kpi, "first": a, "last": b, "z": peak, "periods": periods, "where": where}
                    )
    return out


def merged(found: list[dict]) -> list[dict]:
    """One candidate per KPI and overlapping window, the strongest kept."""
    out: list[dict] = []
    for c in sorted(found, key=lambda c: -abs(c["z"])):
        if not any(
            o["kpi"].name == c["kpi"].name and c["first"] <= o["last"] and o["first"] <= c["last"]
            for o in out
        ):
            out.append(c)
    return out


def findings(cube_dir: Path) -> list[dict]:
    out = []
    for grain, kpis, file in (
        ("day", series.DAILY, "kpis_daily.parquet"),
        ("month", series.MONTHLY, "kpis_monthly.parquet"),
    ):
        # only the columns it uses: a 10x daily cube is some 26M rows
        used = {
            "period",
            *DIMENSIONS,
            "first_attempts",
            "first_attempt_declines",
            "retry_successes",
            "revenue",
        }
        used |= {c for k in kpis for c in (k.numerator, k.denominator) if c}
        cube = pd.read_parquet(cube_dir / file, columns=sorted(used))
        for c in merged(candidates(cube, kpis, grain)):
            periods, first, last = c["periods"], c["first"], c["last"]
            window = list(periods[first : last + 1])
            before = list(periods[max(0, first - BEFORE[grain]) : first])
            if not before:
                continue
            start = pd.Timestamp(periods[first]).date()
            end = pd.Timestamp(periods[last]).date()
            if grain == "month":
                end = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
            # the segment whose own series left its normal first, then what explains the move overall
            causes = [c["where"]] if c["where"] else []
            causes += [x for x in root_causes(cube, c["kpi"], window, before) if x not in causes]
            out.append(
                {
                    "kpi": c["kpi"].name,
                    "window": {"start": start.isoformat(), "end": end.isoformat()},
                    "root_causes": [{"segment": s} for s in causes[:5]],
                    "confidence": round(float(min(1.0, abs(c["z"]) / 20)), 3),
                    "_z": abs(c["z"]),
                }
            )
    out.sort(key=lambda f: -f.pop("_z"))
    return out[:MOST_FINDINGS]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cube", type=Path, help="the folder 'synth-spark metrics' wrote")
    args = p.parse_args(argv)
    json.dump({"tool": NAME, "findings": findings(args.cube)}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
