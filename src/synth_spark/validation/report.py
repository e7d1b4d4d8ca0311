"""The validate report: ``report.json`` (machine-readable), ``report.md`` (one table: target,
tolerance, measured, verdict) and PNG charts of the series a person would rather look at."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from synth_spark.publish.written import write_report_record  # noqa: E402
from synth_spark.validation.verdicts import BELOW_1X, FAIL, UNATTAINABLE, Check, summary  # noqa: E402
from synth_spark.vocabulary import CHURN_REASONS  # noqa: E402

CHARTS = {
    "mrr.png": "Platform MRR by month",
    "churn.png": "Churn by month and reason",
    "payment_success_by_day.png": "First-attempt payment success by day",
    "new_pledges.png": "New pledges and new patrons by month",
    "engagement.png": "Engagement rate by month",
    "revenue_concentration.png": "Revenue concentration across creators",
}


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_charts(frames: dict, folder: Path) -> None:
    m = frames["monthly"]
    # Python datetimes: matplotlib reads a bar width as days (on datetime64[ns] a width is nanoseconds)
    x = [t.to_pydatetime() for t in m["month"]]

    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(x, m["mrr"].astype(float) / 1000, marker="o", ms=3)
    ax.set_ylabel("MRR (k USD)")
    ax.set_title(CHARTS["mrr.png"])
    ax.grid(alpha=0.3)
    _save(fig, folder / "mrr.png")

    fig, ax = plt.subplots(figsize=(8, 3.6))
    reasons = (
        frames["reasons_by_month"]
        .pivot(index="m", columns="churn_reason", values="count")
        .reindex(m["m"])
        .fillna(0)
    )
    bottom = np.zeros(len(m))
    for reason in CHURN_REASONS:
        if reason in reasons:
            share = reasons[reason].to_numpy() / m["active"].to_numpy()
            ax.bar(x, 100 * share, width=25, bottom=100 * bottom, label=reason)
            bottom += share
    ax.set_ylabel("churned / active (%)")
    ax.set_title(CHARTS["churn.png"])
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    _save(fig, folder / "churn.png")

    d = frames["success_by_day"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(d["day"], 100 * d["success_rate"], lw=0.6, alpha=0.5, label="daily")
    # Days off the billing run have few attempts: a 7-day attempt-weighted line shows the level.
    ok = (d["success_rate"] * d["attempts"]).rolling(7, center=True, min_periods=1).sum()
    ax.plot(
        d["day"], 100 * ok / d["attempts"].rolling(7, center=True, min_periods=1).sum(), lw=1.4, label="7-day"
    )
    ax.legend(fontsize=8)
    ax.set_ylabel("succeeded first attempts (%)")
    ax.set_title(CHARTS["payment_success_by_day.png"])
    ax.grid(alpha=0.3)
    _save(fig, folder / "payment_success_by_day.png")

    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.bar(x, m["new_pledges"], width=25, label="new pledges")
    ax.plot(x, m["new_patrons"], color="C3", marker="o", ms=3, label="new patrons")
    ax.set_title(CHARTS["new_pledges.png"])
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    _save(fig, folder / "new_pledges.png")

    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(x, 100 * m["engagement_rate"], marker="o", ms=3)
    for xi, month in zip(x, m["month"].dt.month):
        if month in (6, 7, 8):
            ax.axvspan(
                xi - dt.timedelta(days=14), xi + dt.timedelta(days=14), color="orange", alpha=0.2, lw=0
            )
    ax.set_ylabel("pledges with an event (%)")
    ax.set_title(CHARTS["engagement.png"])
    ax.grid(alpha=0.3)
    _save(fig, folder / "engagement.png")

    rev = np.sort(frames["revenue"]["revenue"].to_numpy())[::-1]
    fig, ax = plt.subplots(figsize=(5, 4))
    creators = np.arange(1, len(rev) + 1) / len(rev)
    ax.plot(100 * creators, 100 * np.cumsum(rev) / rev.sum())
    ax.axvline(10, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("top creators (%)")
    ax.set_ylabel("share of revenue (%)")
    ax.set_title(CHARTS["revenue_concentration.png"])
    ax.grid(alpha=0.3)
    _save(fig, folder / "revenue_concentration.png")


def draw_anomaly_charts(scores: list, control: list | None, folder: Path) -> list[str]:
    """One chart per anomaly: the series its signal is read from, the window shaded, and the
    control run's series dashed when there is one."""
    names = []
    ctrl = {c.anomaly_id: c for c in control or []}
    for sc in scores:
        if sc.series is None:
            continue
        name = _chart_name(sc)
        fig, ax = plt.subplots(figsize=(8, 3.6))
        for i, col in enumerate(c for c in sc.series.columns if c not in ("x", "first attempts")):
            ax.plot(
                sc.series["x"],
                sc.series[col],
                lw=1.3,
                marker="o" if len(sc.series) < 40 else None,
                ms=3,
                color=f"C{i}",
                label=col,
            )
            other = ctrl.get(sc.anomaly_id)
            if other is not None and other.series is not None and col in other.series:
                ax.plot(
                    other.series["x"],
                    other.series[col],
                    lw=1.0,
                    ls="--",
                    color=f"C{i}",
                    alpha=0.7,
                    label=f"{col} (control run)",
                )
        ax.axvspan(sc.window[0], sc.window[1], color="red", alpha=0.12, lw=0)
        ax.set_title(f"{sc.anomaly_type}: {sc.question}", fontsize=10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        _save(fig, folder / name)
        names.append(name)
        if sc.shape is not None:
            names.append(_draw_shape(sc, ctrl.get(sc.anomaly_id), folder))
    return names


def _chart_name(sc, shape: bool = False) -> str:
    return f"anomaly_{sc.anomaly_id}_{sc.anomaly_type}{'_shape' if shape else ''}.png"


def report_files(scores: list) -> list[str]:
    """The files a report on ``scores`` is made of: what validate records before it writes them."""
    charts = [
        _chart_name(sc, shape)
        for sc in scores
        if sc.series is not None
        for shape in (False, True)
        if not shape or sc.shape is not None
    ]
    return ["report.json", "report.md", "report.html", *CHARTS, *charts]


def _draw_shape(sc, control, folder: Path) -> str:
    """The anomaly's first chart: its daily (or monthly) series around the window, as bars."""
    name = _chart_name(sc, shape=True)
    col = next(c for c in sc.shape.columns if c != "x")
    daily = len(sc.shape) > 1 and (sc.shape["x"].iloc[1] - sc.shape["x"].iloc[0]).days == 1
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.bar(sc.shape["x"], sc.shape[col], width=0.8 if daily else 25, color="C0", label=col)
    if control is not None and control.shape is not None and col in control.shape:
        ax.plot(
            control.shape["x"], control.shape[col], lw=1.0, ls="--", color="C1", label=f"{col} (control run)"
        )
    ax.axvspan(sc.window[0], sc.window[1], color="red", alpha=0.12, lw=0)
    ax.set_title(f"{sc.anomaly_type}: {col}", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    _save(fig, folder / name)
    return name


def _anomaly_lines(scores: list, control: list | None) -> list[str]:
    ctrl = {c.anomaly_id: c for c in control or []}
    lines = [
        "",
        "## Injected anomalies",
        "",
        "Each anomaly of the ground-truth table, scored from the data: is its signal out of line in its "
        "window "
        "(robust z >= 3 against the months or days outside, or the category's own rates before), and does "
        "the "
        "drill-down rank the injected root cause first?"
        + (
            " The control run (same seed, anomalies off) is scored "
            "with the same ground truth and must show no signal."
            if control
            else ""
        ),
        "",
        "| # | anomaly | question | signal | detected | root cause found | control run |",
        "|---|---|---|---|---|---|---|",
    ]
    for sc in scores:
        c = ctrl.get(sc.anomaly_id)
        lines.append(
            f"| {sc.anomaly_id} | {sc.anomaly_type} | {sc.question} | {sc.signal} | "
            f"{'yes' if sc.detected else 'NO'} "
            f"| {'yes' if sc.root_cause_found else 'NO'} | "
            f"{'-' if c is None else ('no signal' if not c.detected else 'SIGNAL: ' + c.signal)} |"
        )
    for sc in scores:
        lines += [
            "",
            f"### {sc.anomaly_id}. {sc.anomaly_type}: {sc.question}",
            "",
            f"Expected root cause: {sc.expected_root_cause}. Signal: {sc.signal}.",
            "",
        ]
        for d in sc.drilldowns:
            top = "; ".join(f"{c.value} ({c.contribution:,.3g}, {100 * c.share:.0f}%)" for c in d.top)
            lines.append(f"- by {d.dimension}, {d.measure}: {top}")
        lines += ["", f"![{sc.anomaly_type}](anomaly_{sc.anomaly_id}_{sc.anomaly_type}.png)"]
        if sc.shape is not None:
            lines += [
                "",
                f"![{sc.anomaly_type}: the shape](anomaly_{sc.anomaly_id}_{sc.anomaly_type}_shape.png)",
            ]
    return lines


def table_sections(manifest: dict, samples: dict[str, list[dict]] | None) -> list[dict]:
    """Each published table for the report: its rows, its columns (type, allowed values, meaning)
    and a few sample rows."""
    from synth_spark.column_notes import NOTES
    from synth_spark.vocabulary import CLOSED_SETS, OUTPUT_TABLES, ddl

    out = []
    for table in OUTPUT_TABLES:
        types = dict(part.split(" ", 1) for part in ddl(table).split(", "))
        columns = [
            {
                "name": c,
                "type": types[c],
                "allowed": ", ".join(CLOSED_SETS.get((table, c), ())),
                "meaning": NOTES[table][c],
            }
            for c in types
        ]
        rows = (manifest.get("tables", {}).get(table) or {}).get("rows", 0)
        out.append(
            {"name": table, "rows": rows, "columns": columns, "sample": (samples or {}).get(table, [])}
        )
    return out


def _table_lines(tables: list[dict]) -> list[str]:
    lines = ["", "## Tables", "", "Every published table: its columns and a few rows (the first by key)."]
    for t in tables:
        lines += [
            "",
            f"### `{t['name']}` ({t['rows']:,} rows)",
            "",
            "| column | type | allowed values | meaning |",
            "|---|---|---|---|",
        ]
        lines += [f"| {c['name']} | {c['type']} | {c['allowed']} | {c['meaning']} |" for c in t["columns"]]
        if t["sample"]:
            head = list(t["sample"][0])
            lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in t["sample"]]
    return lines


def write_report(
    checks: list[Check],
    frames: dict,
    folder: Path,
    manifest: dict,
    scores: list | None = None,
    control: list | None = None,
    samples: dict[str, list[dict]] | None = None,
    ground_truth: list[dict] | None = None,
) -> dict:
    """report.json, report.md, report.html and the charts; ``samples``: a few rows per table;
    ``ground_truth``: the truth's rows, each with its realised effect against a control run."""
    from synth_spark.validation.html import write_html

    folder.mkdir(parents=True, exist_ok=True)
    # recorded first: a report cut short is still known for ours, so replacing the dataset moves it
    write_report_record(folder, report_files(scores or []))
    draw_charts(frames, folder)
    anomaly_charts = draw_anomaly_charts(scores or [], control, folder)
    counts = summary(checks)
    report = {
        "generator": "synth-spark",
        "dataset": {k: manifest.get(k) for k in ("seed", "scale", "window", "generated_at")},
        "summary": counts,
        "passed": counts.get(FAIL, 0) == 0,
        "checks": [c.to_dict() for c in checks],
        "charts": list(CHARTS) + anomaly_charts,
        "anomalies": [sc.to_dict() for sc in scores or []],
        "control_run": None if control is None else [sc.to_dict() for sc in control],
        "ground_truth": ground_truth or [],
        "monthly": frames["monthly"]
        .assign(month=frames["monthly"]["month"].dt.strftime("%Y-%m"))
        .drop(columns=["m"])
        .to_dict(orient="records"),
    }
    (folder / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    lines = [
        "# synth-spark validation report",
        "",
        f"Dataset: seed {manifest.get('seed')}, scale {manifest.get('scale')}, "
        f"window {manifest.get('window', {}).get('start')} to {manifest.get('window', {}).get('end')}.",
        f"**{counts.get('pass', 0)} passed, {counts.get(FAIL, 0)} failed**"
        f" ({counts.get(UNATTAINABLE, 0)} {UNATTAINABLE}: the target "
        "size bands and the target row volumes cannot both hold"
        + (
            f"; {counts[BELOW_1X]} {BELOW_1X}: the targets hold from 1x, and a miss on a smaller dataset "
            "is not judged"
            if counts.get(BELOW_1X)
            else ""
        )
        + ").",
        "",
        "| group | check | target | tolerance | measured | verdict |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.group} | {c.name} | {c.target} | {c.tolerance} | {c.measured} | {c.verdict} |" for c in checks
    ]
    if scores:
        lines += _anomaly_lines(scores, control)
    lines += ["", "## Charts", ""] + [f"![{title}]({name})" for name, title in CHARTS.items()]
    tables = table_sections(manifest, samples)
    lines += _table_lines(tables)
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    write_html(folder, report, CHARTS, tables)
    return report
