"""Documents of one content in a source: grouped once at index time, measured once by `match`, counted.

The works a corpus repeats most (vendored files, mirrors, forks that changed nothing) are the ones a model
memorizes: a copy must be found however often it occurs. Each document's content digest (its language and
extracted text, 128 bits: index/shards.py) is written with its shard; once every shard is written the
digests are grouped. The first document (lowest id) of each content is its representative:

  - only representatives' fingerprints and MinHash bands enter the lookup tables, so a document frequency
    counts distinct contents, and 100,000 identical copies of a work seed like one;
  - lk-dup-PPPP.{rep,doc}.npy holds every document of a content held more than once, sorted by (rep, doc):
    how many documents hold it and which, read by key (the representative) and streamed, never all at once.

Memory is bounded by a partition (index/partitions.py), as for the fingerprints: the digests are spilled by
their top bits, each partition grouped alone, and the (rep, doc) rows spilled again by representative.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ascertain.index import arrow_np
from ascertain.index.partitions import Spill, lookup, partition_bits, partition_of, sort_rows

DIGEST_ROWS = np.dtype([("d0", "<u8"), ("d1", "<u8"), ("doc", "<i8")])
DUP_ROWS = np.dtype([("rep", "<i8"), ("doc", "<i8")])
DUP_SCHEMA = pa.schema([("rep", pa.int64()), ("doc", pa.int64())])


def group_contents(index_dir: Path, shards: list[dict]) -> tuple[np.ndarray, Spill, int]:
    """(copy: for each document, whether an earlier document holds its content; the spilled (rep, doc) rows
    of contents held more than once; their partition bits). A shard written before content digests (no
    `digest_file`) counts each of its documents as a content of its own."""
    n_docs = sum(s["documents"] for s in shards)
    bits = partition_bits(n_docs)
    digests = Spill(index_dir / ".spill-cd", bits, DIGEST_ROWS)
    for s in shards:
        if "digest_file" not in s:
            continue
        d = np.load(index_dir / s["digest_file"], allow_pickle=False).reshape(-1, 2)
        rows = np.empty(len(d), DIGEST_ROWS)
        rows["d0"], rows["d1"] = d[:, 0], d[:, 1]
        rows["doc"] = np.arange(s["first_doc"], s["first_doc"] + len(d), dtype=np.int64)
        digests.add(rows)
    copy = np.zeros(n_docs, bool)
    pairs = Spill(index_dir / ".spill-dup", bits, DUP_ROWS)
    for p in range(1 << bits):
        rows = sort_rows(digests.read(p))  # by digest, then doc: a content's representative comes first
        if not len(rows):
            continue
        first = np.ones(len(rows), bool)
        first[1:] = (rows["d0"][1:] != rows["d0"][:-1]) | (rows["d1"][1:] != rows["d1"][:-1])
        starts = np.flatnonzero(first)
        group = np.cumsum(first) - 1
        size = np.diff(np.append(starts, len(rows)))[group]
        multi = size > 1
        copy[rows["doc"][multi & ~first]] = True
        out = np.empty(int(multi.sum()), DUP_ROWS)
        out["rep"] = rows["doc"][starts][group][multi]
        out["doc"] = rows["doc"][multi]
        pairs.add(out)
    digests.remove()
    return copy, pairs, bits


def counts_of(index_dir: Path, lk: dict, doc_ids: np.ndarray) -> dict[int, int]:
    """{representative doc: documents holding its content} for those of `doc_ids` held more than once (an
    index built before content digests: none)."""
    if "dup" not in lk.get("files", {}) or not len(doc_ids):
        return {}
    t = lookup(index_dir, lk["files"]["dup"], lk["dup_bits"], "rep", np.asarray(doc_ids), DUP_SCHEMA, ["rep"])
    found, n = np.unique(arrow_np.column(t, "rep"), return_counts=True)
    return dict(zip(found.tolist(), n.tolist(), strict=True))


def documents_of(index_dir: Path, lk: dict, rep: int, chunk: int = 4096) -> Iterator[np.ndarray]:
    """The doc ids holding the content of representative `rep` (itself first), `chunk` at a time, read from the
    memory-mapped table: never all in memory."""
    base = index_dir / lk["files"]["dup"][int(partition_of(np.array([rep], np.uint64), lk["dup_bits"],
                                                           mixed=True)[0])]
    reps = np.load(base.with_name(f"{base.name}.rep.npy"), mmap_mode="r")
    docs = np.load(base.with_name(f"{base.name}.doc.npy"), mmap_mode="r")
    lo, hi = int(np.searchsorted(reps, rep, "left")), int(np.searchsorted(reps, rep, "right"))
    for a in range(lo, hi, chunk):
        yield np.asarray(docs[a:min(a + chunk, hi)])
