"""Membership from a keyed export without the key (issue 26, item 8): how many corpus documents an outsider
identifies by joining what a keyed package holds against a plain index of candidate files.

    python3 benchmarks/exchange_membership.py [--docs-dir docs]

The corpus is the demo's (src/ascertain/demo_data/corpus: 16 documents); the candidates are those documents
and the demo's works and books (files the outsider holds, most of them not in the corpus). The outsider
indexes the candidates in the clear (exact token counts, as `corpus add` records them), then, for each
document of the keyed package, keeps the candidates that agree with:
  1. the document table's size columns as a keyed index wrote them before issue 26 (exact bytes and tokens);
  2. the document table as it is now (no bytes; tokens as a power-of-two bucket);
  3. the fingerprint table: the last fingerprint's position + k, which the master needs for spans and which
     tells a document's length to within the winnowing window (a candidate of length L qualifies when the
     last position + k lies in [L - w - k, L]).
A document is identified when exactly one candidate qualifies; the evaluator (who has the key) checks each
identification against the keyed digests. Writes the section `exchange-membership` of docs/methods.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
from ascertain.case import Case  # noqa: E402
from ascertain.demo import demo_data  # noqa: E402
from ascertain.fingerprint.keyed import keyed_sha256  # noqa: E402
from ascertain.index.lookup import source_index  # noqa: E402
from ascertain.index.shards import size_bucket  # noqa: E402
from ascertain.readers import ReadOptions  # noqa: E402
from ascertain.report.doc_sections import write_section  # noqa: E402
from ascertain.sources import add_source  # noqa: E402


def docs_of(case: Case, name: str):
    index_dir, manifest = source_index(case, name)
    docs = pq.read_table([index_dir / s["documents_file"] for s in manifest["shards"]],
                         columns=["doc", "sha256", "tokens", "bytes"]).to_pylist()
    # each document's last fingerprint position, from the lookup table's columns (index format 3 keeps no shard
    # fingerprint files; a content held twice has the rows of its first document only)
    bases = manifest["lookup"]["files"]["fp"]
    doc = np.concatenate([np.load(index_dir / f"{b}.doc.npy") for b in bases]).astype(np.int64)
    pos = np.concatenate([np.load(index_dir / f"{b}.pos.npy") for b in bases]).astype(np.int64)
    last_pos = np.full(int(doc.max()) + 1 if len(doc) else 0, -1, np.int64)
    np.maximum.at(last_pos, doc, pos)
    last = {d: int(v) for d, v in enumerate(last_pos.tolist()) if v >= 0}
    return docs, last, manifest["params"]


def score(keyed_docs, truth, candidates, agrees) -> tuple[int, int, int]:
    """(identified correctly, identified wrongly, left ambiguous or unmatched)."""
    right = wrong = unsure = 0
    for d in keyed_docs:
        hits = [c for c in candidates if agrees(d, c)]
        if len(hits) != 1:
            unsure += 1
        elif truth(d, hits[0]):
            right += 1
        else:
            wrong += 1
    return right, wrong, unsure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs-dir", default=str(HERE.parent / "docs"))
    a = ap.parse_args()
    data = demo_data()
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "case.key"
        key_file.write_bytes(os.urandom(32))
        key = key_file.read_bytes()
        defendant = Case.init(Path(tmp) / "defendant")
        add_source(defendant, "crawl", "corpus", [str(data / "corpus")], ReadOptions(), key_file=str(key_file),
                   store_text=False)
        outsider = Case.init(Path(tmp) / "outsider")
        add_source(outsider, "candidates", "corpus", [str(data / "corpus"), str(data / "works"),
                                                      str(data / "books")], ReadOptions())
        keyed, last, params = docs_of(defendant, "crawl")
        cands, _, _ = docs_of(outsider, "candidates")
        k, w = params["k"], params["w"]
        members = [c for c in cands if any(keyed_sha256(key, c["sha256"]) == d["sha256"] for d in keyed)]

        def truth(d, c):
            return keyed_sha256(key, c["sha256"]) == d["sha256"]

        def true_size(d):
            return next(c for c in members if truth(d, c))

        before = score(keyed, truth, cands, lambda d, c: (true_size(d)["bytes"], true_size(d)["tokens"])
                       == (c["bytes"], c["tokens"]))
        now = score(keyed, truth, cands, lambda d, c: d["bytes"] in (0, c["bytes"])
                    and d["tokens"] == size_bucket(c["tokens"]))
        by_pos = score([d for d in keyed if d["doc"] in last], truth, cands,
                       lambda d, c: c["tokens"] - w - k <= last[d["doc"]] + k <= c["tokens"])
        counts = defaultdict(int)
        for c in cands:
            counts[size_bucket(c["tokens"])] += 1
    n, m = len(keyed), len(cands)
    lines = ["| what the outsider joins on | identified (right) | identified (wrong) | not identified |",
             "|---|---:|---:|---:|",
             f"| exact bytes + tokens (the document table before issue 26) | {before[0]} | {before[1]} | "
             f"{before[2]} |",
             f"| the document table now (no bytes, tokens bucketed to a power of two) | {now[0]} | {now[1]} | "
             f"{now[2]} |",
             f"| last fingerprint position (needed by the master) | {by_pos[0]} | {by_pos[1]} | {by_pos[2]} |"]
    body = ("### Membership from a keyed package without the key (measured)\n\n"
            f"`python3 benchmarks/exchange_membership.py`: {n} keyed documents (the demo corpus), {m} candidate "
            f"files held by the outsider ({len(members)} of them in the corpus), k = {k}, w = {w}.\n\n"
            + "\n".join(lines) + "\n\n"
            "The document table no longer identifies files by size: bytes are not written and a token count is "
            "kept only as its power-of-two bucket (what `copy_tokens` reports for a keyed source: an upper "
            "bound). The fingerprint positions, which the master needs to measure spans, still tell a "
            "document's length to within the winnowing window, and that still identifies known files whose "
            "lengths are distinct. A keyed package therefore protects the text and the locators, not the fact "
            "that a file the outsider already holds, of a distinctive length, is in the corpus; the protective "
            "order should treat the package as revealing document lengths.\n\n")
    write_section(Path(a.docs_dir) / "methods.md", "exchange-membership", body)
    print(body)


if __name__ == "__main__":
    main()
