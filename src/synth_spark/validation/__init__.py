"""Validation: metrics measured on a published dataset, the platform's targets, anomaly scoring,
the report."""
