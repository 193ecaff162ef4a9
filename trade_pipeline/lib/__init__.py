"""Shared modules without Dagster: files, French, territories, nomenclatures, provenance, Chromium, the warehouse lock."""
