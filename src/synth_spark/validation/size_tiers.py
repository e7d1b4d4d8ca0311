"""Growth by latent creator size, and the target MRR/patron bands per size (unattainable at the
target volumes). Measured in Spark from the creators x months frame: only a few numbers per size
tier reach the driver, whatever the scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from synth_spark.validation.metrics import Dataset
from synth_spark.validation.verdicts import INFO, UNATTAINABLE, Check, _pct, _within
from synth_spark.vocabulary import SIZE_TIERS

#: the mean patrons per creator the target size bands imply (60% at ~25, 30% at ~275, 10% at ~750)
SEED_MEAN_PATRONS = 0.6 * 25 + 0.3 * 275 + 0.1 * 750
BANDS = {
    "emerging": "$0-$1,000 MRR, 1-50 patrons",
    "established": "$1,000-$10,000 MRR, 50-500 patrons",
    "top_creator": "$10,000+ MRR, 500+ patrons",
}


def _latent_frame(ds: Dataset, plan: dict[str, np.ndarray]) -> DataFrame:
    """Each planned creator's latent size and joining month, as a (broadcast-sized) Spark frame."""
    latent = pd.DataFrame(
        {
            "creator_id": plan["creator_id"],
            "size": np.array(SIZE_TIERS)[plan["size_code"]],
            "joined": plan["joined_month"],
        }
    )
    return F.broadcast(ds.spark.createDataFrame(latent))


def chained_growth(cma: DataFrame, founders: DataFrame, touched: DataFrame | None, last_m: int) -> dict:
    """Each tier's compound monthly growth of running pledges, chained month by month over the
    creators the tier had when the window opened: the mean of each month's log growth, over the
    creators no scenario instance touches in that month or the next (``touched``: creator_id, m).
    With nothing touched the chain telescopes to last month over first month."""
    a = cma.select("creator_id", "m", F.col("active").alias("now"))
    b = cma.select("creator_id", (F.col("m") - 1).alias("m"), F.col("active").alias("next"))
    pairs = (
        a.join(b, ["creator_id", "m"], "full")
        .where((F.col("m") >= 0) & (F.col("m") < last_m))
        .fillna(0, ["now", "next"])
        .join(founders, "creator_id")
    )
    if touched is not None:
        later = touched.select("creator_id", (F.col("m") - 1).alias("m"))
        pairs = pairs.join(touched, ["creator_id", "m"], "left_anti").join(
            later, ["creator_id", "m"], "left_anti"
        )
    steps = pairs.groupBy("size", "m").agg(F.sum("now").alias("now"), F.sum("next").alias("next")).toPandas()
    out = {}
    for size, g in steps.groupby("size"):
        # a month every one of the tier's creators is touched in has no growth to measure; the
        # others' average is the tier's, if at least half the window's months are left
        g = g[(g["now"] > 0) & (g["next"] > 0)]
        if 2 * len(g) >= last_m:
            out[size] = float(np.exp(np.log(g["next"] / g["now"]).mean()) - 1)
    return out


def size_tier_checks(
    ds: Dataset, plan: dict[str, np.ndarray], touched: DataFrame | None = None
) -> list[Check]:
    out = []
    latent = _latent_frame(ds, plan)
    last_m = ds.months - 1
    gone = ds.departed_creators()[0]
    cma = ds.creator_months().select("creator_id", "m", "active")
    departed = (
        cma.where(F.col("creator_id").isin(gone)).select("creator_id").distinct().count() if gone else 0
    )
    joined = pd.Series(plan["joined_month"])
    n_start, n_end = int((joined <= 0).sum()), int(len(joined) - len(gone))
    out.append(
        Check(
            "growth",
            "creators on the platform, last month / first month",
            "keeps pace with a platform growing ~50%",
            "-",
            f"{n_end / max(n_start, 1):.2f}x ({n_start} -> {n_end}: {int((joined >= 0).sum())} joined, "
            f"{len(gone)} left)",
            INFO,
            n_end / max(n_start, 1),
        )
    )
    # A creator who left the platform has no growth rate; its tier grows through those who stay.
    stay = cma.where(~F.col("creator_id").isin(gone)) if gone else cma
    ends = stay.groupBy("creator_id").agg(
        F.sum(F.when(F.col("m") == 0, F.col("active")).otherwise(0)).alias("first"),
        F.sum(F.when(F.col("m") == last_m, F.col("active")).otherwise(0)).alias("last"),
    )
    # A tier's growth is that of the creators it had when the window opened: a creator joining
    # later starts from nothing, and its ramp-up is not the tier's growth rate.
    founders = ends.join(latent.where(F.col("joined") < 0), "creator_id")
    steady = (F.col("first") >= 5) & (F.col("last") >= 1)
    # compound monthly growth, first to last month: of the tier's running pledges, and of each steady
    # creator's
    rate = F.pow(F.try_divide(F.col("last"), F.col("first")), 1.0 / last_m) - 1
    tiers = {
        r["size"]: r
        for r in founders.groupBy("size")
        .agg(
            F.sum("first").alias("first"),
            F.sum("last").alias("last"),
            F.median(F.when(steady, rate)).alias("median"),
            F.stddev(F.when(steady, rate)).alias("spread"),
        )
        .collect()
    }

    def tier(name: str, key: str) -> float:
        value = tiers[name][key] if name in tiers else None
        return float("nan") if value is None else float(value)

    growth = chained_growth(stay, founders.select("creator_id", "size"), touched, last_m)
    for name, (lo, hi) in (("established", (0.03, 0.08)), ("top_creator", (0.01, 0.03))):
        v = growth.get(name, float("nan"))
        left_out = [f"{departed} departed creators left out"] if departed and name == "top_creator" else []
        if touched is not None:
            left_out.append("months scenario instances touch left out")
        out.append(
            Check(
                "growth",
                f"monthly growth of running pledges, {name} tier"
                + (f" ({'; '.join(left_out)})" if left_out else ""),
                f"{lo:.0%}-{hi:.0%}",
                f"{lo:.0%} to {hi:.0%}",
                _pct(v),
                _within(v, lo, hi),
                v,
            )
        )
        med, spread = tier(name, "median"), tier(name, "spread")
        out.append(
            Check(
                "growth",
                f"per-creator monthly growth, {name}: median (spread)",
                "-",
                "-",
                f"{_pct(med)} ({_pct(spread)})",
                INFO,
                med,
            )
        )
    emerging_spread = tier("emerging", "spread")
    out.append(
        Check(
            "growth",
            "per-creator monthly growth spread, emerging (volatile)",
            "highest spread",
            "-",
            _pct(emerging_spread),
            INFO,
            emerging_spread,
        )
    )
    out.append(_stalled_emerging(ds, stay, ends, latent))
    out += _size_bands(ds, latent)
    return out


def _stalled_emerging(ds: Dataset, stay: DataFrame, ends: DataFrame, latent: DataFrame) -> Check:
    """ "40% of emerging creators fail to reach 20 patrons within 6 months", against a threshold scaled
    by how much smaller creators are here than the target size bands imply."""
    mean_last = float(ends.agg(F.avg("last")).first()[0] or 0.0)
    threshold = max(1, round(20 * mean_last / SEED_MEAN_PATRONS))
    # Only a creator who joined during the window has a first six months to watch.
    emerging = latent.where((F.col("size") == "emerging") & F.col("joined").between(0, ds.months - 6))
    first_six = (
        stay.join(emerging, "creator_id")
        .where(F.col("m").between(F.col("joined"), F.col("joined") + 5))
        .groupBy("creator_id")
        .agg(F.max("active").alias("peak"))
    )
    row = (
        emerging.join(first_six, "creator_id", "left")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.avg((F.coalesce(F.col("peak"), F.lit(0)) < threshold).cast("double")).alias("stalled"),
        )
        .first()
    )
    stalled = float(row["stalled"]) if row["n"] else float("nan")
    return Check(
        "growth",
        f"emerging creators below {threshold} running pledges in their first 6 months ({row['n']} joined in "
        "time to tell)",
        "40% (below 20 patrons)",
        f"scaled threshold: 20 x {mean_last:.1f} / {SEED_MEAN_PATRONS:.0f}",
        _pct(stalled),
        INFO,
        stalled,
    )


def _size_bands(ds: Dataset, latent: DataFrame) -> list[Check]:
    """Each size tier's MRR and patrons in the last month (zero for a creator with none running)."""
    end = latent.join(ds.creator_mrr_end(), "creator_id", "left").select(
        "size", F.coalesce("mrr", F.lit(0.0)).alias("mrr"), F.coalesce("patrons", F.lit(0)).alias("patrons")
    )
    rows = {
        r["size"]: r
        for r in end.groupBy("size")
        .agg(
            F.median("mrr").alias("mrr"),
            F.median("patrons").alias("patrons"),
            F.max("mrr").alias("mrr_max"),
            F.max("patrons").alias("patrons_max"),
        )
        .collect()
    }
    out = []
    for name, band in BANDS.items():
        r = rows.get(name)
        measured = (
            "no creators"
            if r is None
            else f"median ${r['mrr']:,.0f} MRR, {r['patrons']:.0f} patrons "
            f"(max ${r['mrr_max']:,.0f}, {r['patrons_max']:.0f})"
        )
        out.append(Check("mix", f"size band of {name} creators", band, "-", measured, UNATTAINABLE))
    return out
