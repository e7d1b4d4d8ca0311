"""``report.html``: the validate report as one self-contained page (styles inline, charts embedded
as data URIs), so it can be mailed, attached to a ticket or opened from any folder."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from synth_spark.validation.verdicts import FAIL, PASS

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.pass { color: #176b2c; font-weight: 600; } td.FAIL { color: #b00020; font-weight: 700; }
td.info, td.not { color: #666; }
.summary { font-size: 1.15em; } .summary b.fail { color: #b00020; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
code { background: #f4f4f4; padding: 0 3px; }
"""


def _img(folder: Path, name: str, title: str) -> str:
    data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{escape(title)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{escape(title)}</figcaption></figure>"
    )


def _table(header: list[str], rows: list[list[str]], classes: list[str | None] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = (classes or [None] * len(rows))[i]
        last = f' class="{escape(cls)}"' if cls else ""
        cells = "".join(
            f"<td{last if j == len(row) - 1 else ''}>{escape(str(v))}</td>" for j, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_html(folder: Path, report: dict, charts: dict[str, str], tables: list[dict]) -> Path:
    """``report``: what report.json holds; ``charts``: file name -> title; ``tables``: per table its
    name, columns (name, type, allowed values, meaning) and sample rows."""
    ds, counts = report["dataset"], report["summary"]
    window = ds.get("window") or {}
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>synth-spark validation report</title>"
        f"<style>{_STYLE}</style></head><body>",
        "<h1>synth-spark validation report</h1>",
        f"<p>Dataset: seed {escape(str(ds.get('seed')))}, scale {escape(str(ds.get('scale')))}, window "
        f"{escape(str(window.get('start')))} to {escape(str(window.get('end')))}, generated "
        f"{escape(str(ds.get('generated_at')))}.</p>",
        f"<p class=summary><b>{counts.get(PASS, 0)} passed</b>, <b class=fail>{counts.get(FAIL, 0)} "
        "failed</b>; "
        + ", ".join(f"{n} {escape(k)}" for k, n in counts.items() if k not in (PASS, FAIL) and n)
        + "</p>",
        "<h2>Checks</h2>",
        _table(
            ["group", "check", "target", "tolerance", "measured", "verdict"],
            [
                [c["group"], c["name"], c["target"], c["tolerance"], c["measured"], c["verdict"]]
                for c in report["checks"]
            ],
            [c["verdict"].split()[0] for c in report["checks"]],
        ),
    ]
    if report.get("anomalies"):
        parts.append("<h2>Injected anomalies</h2>")
        for sc in report["anomalies"]:
            parts.append(
                f"<h3>{sc['anomaly_id']}. {escape(sc['anomaly_type'])}: {escape(sc['question'])}</h3>"
                f"<p>Expected root cause: {escape(sc['expected_root_cause'])}. Signal: "
                f"{escape(sc['signal'])}.</p><ul>"
            )
            for d in sc["drilldowns"]:
                top = "; ".join(
                    f"{escape(str(c['value']))} ({c['contribution']:,.3g}, {100 * c['share']:.0f}%)"
                    for c in d["top"]
                )
                parts.append(f"<li>by {escape(d['dimension'])}, {escape(d['measure'])}: {top}</li>")
            parts.append("</ul>")
            for suffix, title in (
                ("", sc["anomaly_type"]),
                ("_shape", f"{sc['anomaly_type']}: the shape around its window"),
            ):
                name = f"anomaly_{sc['anomaly_id']}_{sc['anomaly_type']}{suffix}.png"
                if (folder / name).is_file():
                    parts.append(_img(folder, name, title))
    parts.append("<h2>Charts</h2>")
    parts += [_img(folder, name, title) for name, title in charts.items() if (folder / name).is_file()]
    if tables:
        parts.append("<h2>Tables</h2>")
        for t in tables:
            parts.append(f"<h3><code>{escape(t['name'])}</code> ({t['rows']:,} rows)</h3>")
            parts.append(
                _table(
                    ["column", "type", "allowed values", "meaning"],
                    [[c["name"], c["type"], c["allowed"], c["meaning"]] for c in t["columns"]],
                )
            )
            if t["sample"]:
                parts.append("<p>Sample rows (the first by key):</p>")
                parts.append(_table(list(t["sample"][0]), [list(r.values()) for r in t["sample"]]))
    parts.append("</body></html>")
    path = folder / "report.html"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
