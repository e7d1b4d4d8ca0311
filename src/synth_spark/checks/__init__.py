"""Checks of a published dataset: verify (rows and checksums against the manifest) and dbt's rules."""
