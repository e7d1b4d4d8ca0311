"""The checks a dataset breaks on purpose: a run with data incidents (job/ingestion.py) lists each
in its manifest with the checks it is aimed at, so that ``check`` can say which failures are the
incidents' and not a fault of the generator."""

from __future__ import annotations


def broken_on_purpose(manifest: dict) -> dict[str, list[dict]]:
    """Each check a data incident of the dataset breaks on purpose (its manifest declares them), with
    the incidents that break it."""
    out: dict[str, list[dict]] = {}
    for incident in manifest.get("data_incidents", ()):
        for check in incident["breaks"]:
            out.setdefault(check, []).append(
                {"anomaly_id": incident["anomaly_id"], "anomaly_type": incident["anomaly_type"]}
            )
    return out


def incidents_named(incidents: list[dict]) -> str:
    return ", ".join(f"anomaly {i['anomaly_id']} ({i['anomaly_type']})" for i in incidents)
