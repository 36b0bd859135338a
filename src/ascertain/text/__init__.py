"""Normalization and tokenization shared by works, corpora and outputs."""
