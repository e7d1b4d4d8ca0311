"""Validation: metrics measured on a published dataset, the seed's targets, anomaly scoring, the report."""
