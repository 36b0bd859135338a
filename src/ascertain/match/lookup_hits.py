"""One work's hits without DuckDB: the rows match/run.py's HITS_FROM_ROWS_SQL, PAIRS_SQL and HITS_SQL give, in
their order and types.

A single-work lookup joins a few hundred work fingerprints with a few thousand corpus rows: DuckDB's statements
(join, the pairs' GROUP BY, the distinct documents, the sorted read, the drops) cost about 15 ms of CPU, a third
of a lookup in a resident process, where NumPy takes well under a millisecond. A batch match keeps DuckDB (its
join spills to disk past memory). tests/test_hit_bounds.py checks that both give the same hits.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ascertain.index import arrow_np

Hits = dict[str, np.ndarray]  # doc, file, wpos, dpos, df: sorted by doc, file, wpos, dpos
# past this many joined rows (a work copied in thousands of documents) DuckDB's join is faster (two threads,
# 1.25 against 1.6 CPU s for 4.4 million hits at 5 GB) and spills past memory: `lookup_hits` declines
MAX_JOIN_ROWS = 1 << 20


def lookup_hits(works_fp: pa.Table, min_shared: dict[int, int], seeds: pa.Table, rows: pa.Table, max_df: int
                ) -> tuple[np.ndarray, Hits] | None:
    """(the matched documents, sorted; their hits) of the works' fingerprints (hash, file, pos, own) against
    the corpus rows (hash, doc, pos) of the seeds (hash, df): the pairs (file, doc) with at least the file's
    `min_shared` distinct work positions and one hit touching the work's own text or of df <= max_df. None when
    the join would hold more than MAX_JOIN_ROWS rows (DuckDB's then)."""
    w_hash, w_file, w_pos, w_own = (arrow_np.column(works_fp, c) for c in ("hash", "file", "pos", "own"))
    s_hash, s_df = arrow_np.column(seeds, "hash"), arrow_np.column(seeds, "df")
    r_hash, r_doc, r_pos = (arrow_np.column(rows, c) for c in ("hash", "doc", "pos"))
    o = np.argsort(s_hash, kind="stable")
    s_hash, s_df = s_hash[o], s_df[o]
    o = np.argsort(r_hash, kind="stable")
    r_hash, r_doc, r_pos = r_hash[o], r_doc[o], r_pos[o]
    at = np.searchsorted(s_hash, r_hash)
    found = at < len(s_hash)
    found[found] = s_hash[at[found]] == r_hash[found]
    r_hash, r_doc, r_pos, r_df = r_hash[found], r_doc[found], r_pos[found], s_df[at[found]]
    lo, hi = np.searchsorted(r_hash, w_hash, "left"), np.searchsorted(r_hash, w_hash, "right")
    n = hi - lo
    if int(n.sum()) > MAX_JOIN_ROWS:
        return None
    wi = np.repeat(np.arange(len(w_hash)), n)
    ri = np.repeat(lo, n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    doc, file, wpos, dpos = r_doc[ri], w_file[wi], w_pos[wi], r_pos[ri]
    df, own = r_df[ri], w_own[wi]
    if not len(doc):
        return np.empty(0, np.int64), _typed(doc, file, wpos, dpos, df)
    files, fidx = np.unique(file, return_inverse=True)
    pair = doc.astype(np.int64) * len(files) + fidx  # in (doc, file) order
    # a work fingerprint's corpus rows come in (doc, pos) order: a stable sort on (pair, wpos) keeps dpos in order
    if int(pair.max()) < 1 << 31:
        o = np.argsort((pair << 32) | wpos.astype(np.int64), kind="stable")
    else:
        o = np.lexsort((dpos, wpos, pair))
    pair, doc, file, wpos, dpos, df, own = pair[o], doc[o], file[o], wpos[o], dpos[o], df[o], own[o]
    new_pair = np.ones(len(doc), dtype=bool)
    new_pair[1:] = pair[1:] != pair[:-1]
    starts = np.flatnonzero(new_pair)
    new_pos = new_pair.copy()
    new_pos[1:] |= wpos[1:] != wpos[:-1]
    distinct = np.add.reduceat(new_pos.astype(np.int64), starts)  # distinct work positions of each pair
    any_ok = np.logical_or.reduceat((own == 1) | (df <= max_df), starts)
    need = np.array([min_shared[f] for f in files.tolist()], np.int64)[pair[starts] % len(files)]
    keep = np.repeat((distinct >= need) & any_ok, np.diff(np.append(starts, len(doc))))
    doc, file, wpos, dpos, df = doc[keep], file[keep], wpos[keep], dpos[keep], df[keep]
    return np.unique(doc), _typed(doc, file, wpos, dpos, df)


def _typed(doc, file, wpos, dpos, df) -> Hits:
    """The columns in the types DuckDB's result has (match/run.py HITS_SQL)."""
    return {"doc": doc.astype(np.int64), "file": file.astype(np.int64), "wpos": wpos.astype(np.uint32),
            "dpos": dpos.astype(np.uint32), "df": df.astype(np.int64)}
