"""Which segments explain a KPI's move: Adtributor's explanatory power and surprise (Bhagwan et al.,
NSDI 2014) over each dimension of the cube, then one step down inside the best segment for a root
cause two dimensions deep, in the spirit of Squeeze's search of the leaves.

Each member v of a dimension has an actual value A_v in the window and a forecast F_v from the
periods before (a rate: the window's denominator at the earlier rate). Its explanatory power is
(A_v - F_v) / (A - F), its surprise the Jensen-Shannon term of its share of the forecast against
its share of the actual. A dimension explains the move when a few members (at most three, each
explaining a tenth or more) explain two thirds of it; dimensions rank by the surprise of those
members. When none does, the move is everyone's: the whole platform ranks first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_spark.baselines.series import Kpi

DIMENSIONS = (
    "size", "category", "country", "currency", "plan_type", "nsfw", "verified", "creator_id",
    "payment_method", "patron_country",
)  # fmt: skip
#: Adtributor's thresholds: a member explains a tenth or more; the set explains two thirds
MEMBER_EP, SET_EP, MOST_MEMBERS = 0.1, 0.67, 3
#: a segment inside the best one is named when it explains this share of that segment's move
INNER_EP = 0.6
#: below this total surprise the members moved with their shares: no segment stands out
MIN_SURPRISE = 0.003


def _surprise(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        m = (p + q) / 2
        a = np.where(p > 0, p * np.log(p / m), 0.0)
        b = np.where(q > 0, q * np.log(q / m), 0.0)
    return 0.5 * (a + b)


def actual_and_forecast(rows: pd.DataFrame, dim: str | None, kpi: Kpi, window, before) -> pd.DataFrame:
    """Per member of ``dim`` (one row for the whole when None): A and F over the window's periods."""
    keys = [dim] if dim else []
    inside, earlier = rows[rows["period"].isin(window)], rows[rows["period"].isin(before)]
    scale = len(window) / max(len(before), 1)
    if kpi.stock:  # the level at the window's end against the level just before it
        last, prior = max(window), max(before)
        a = _sum(rows[rows["period"] == last], keys, kpi.numerator)
        f = _sum(rows[rows["period"] == prior], keys, kpi.numerator)
    elif kpi.denominator:
        a = _sum(inside, keys, kpi.numerator)
        rate = _sum(earlier, keys, kpi.numerator) / _sum(earlier, keys, kpi.denominator).replace(0, np.nan)
        f = (_sum(inside, keys, kpi.denominator) * rate).fillna(0.0)
    else:
        a = _sum(inside, keys, kpi.numerator)
        f = _sum(earlier, keys, kpi.numerator) * scale
    return pd.DataFrame({"a": a, "f": f}).fillna(0.0)


def _sum(rows: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    if not keys:
        return pd.Series({"all": float(rows[column].astype(float).sum())})
    return rows.groupby(keys, dropna=True)[column].sum().astype(float)


def explaining(members: pd.DataFrame) -> tuple[list, float] | None:
    """The members that explain the move and their total surprise, or None."""
    a, f = members["a"].to_numpy(), members["f"].to_numpy()
    change = a.sum() - f.sum()
    if change == 0 or a.sum() <= 0 or f.sum() <= 0:
        return None
    ep = (a - f) / change
    s = _surprise(f / f.sum(), a / a.sum())
    picked, total_ep, total_s = [], 0.0, 0.0
    for i in np.argsort(-s):
        if ep[i] < MEMBER_EP:
            continue
        picked.append(members.index[i])
        total_ep, total_s = total_ep + ep[i], total_s + s[i]
        if total_ep >= SET_EP:
            return (picked, float(total_s)) if total_s >= MIN_SURPRISE else None
        if len(picked) == MOST_MEMBERS:
            return None
    return None


def root_causes(rows: pd.DataFrame, kpi: Kpi, window, before, most: int = 5) -> list[dict]:
    """Segments that explain the KPI's move over ``window`` against ``before``, best first."""
    rows = rows[rows["period"].isin([*window, *before])]
    ranked = []
    for dim in DIMENSIONS:
        found = explaining(actual_and_forecast(rows, dim, kpi, window, before))
        if found:
            ranked.append((found[1], {dim: [text(v) for v in found[0]]}))
    ranked.sort(key=lambda r: -r[0])
    causes = [seg for _, seg in ranked]
    if not causes:
        return [{}]
    top = causes[0]
    ((dim, values),) = top.items()
    if len(values) == 1:
        inside = rows[rows[dim].map(text) == values[0]]
        inner = []
        for other in DIMENSIONS:
            if other == dim:
                continue
            members = actual_and_forecast(inside, other, kpi, window, before)
            found = explaining(members)
            if found and len(found[0]) == 1:
                a, f = members["a"], members["f"]
                share = (a[found[0][0]] - f[found[0][0]]) / ((a.sum() - f.sum()) or np.nan)
                if share >= INNER_EP:
                    inner.append((found[1], {dim: values, other: [text(found[0][0])]}))
        if inner:
            causes.insert(0, max(inner, key=lambda r: r[0])[1])
    return (causes + [{}])[:most]


def text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
