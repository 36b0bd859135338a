"""Parquet shards of fingerprints (and, unless fingerprint-only, document texts) with a manifest."""
