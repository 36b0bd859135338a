"""Which work explains a region of a corpus document best, when several works were found in the same place.

Works that share text (one project's generated files, a vendored helper in two works) are each reported as
copied in the same region of a document. For every document, the copied evidence records whose copy-side
spans overlap (directly or through another record) form one region, and the region's records are ranked by

  1. the region's tokens each record covers (copy side, each token once),
  2. then the longest verbatim run, 3. then own coverage of the work, 4. then the work file id (stable order).

Each copied record gets `metrics.region_rank`: {rank, of, copy_tokens: the region's [first, end) token range,
copy_lines, best_work_id, best_work_file, share_explained: its covered tokens / the region's covered tokens}.
A record alone in its region is rank 1 of 1 with share 1.0.
"""

from __future__ import annotations

from collections import defaultdict


def rank_regions(rows: list[dict]) -> None:
    """Add `region_rank` to the metrics of every copied record with spans (in place, deterministic)."""
    by_doc: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for r in rows:
        if r["copied"] and r["metrics"]["spans"]:
            by_doc[r["source_id"], r["doc_id"]].append(r)
    for records in by_doc.values():
        for group in _overlapping(records):
            _rank(group)


def _intervals(record: dict) -> list[tuple[int, int]]:
    return sorted((s["copy_tokens"][0], s["copy_tokens"][1]) for s in record["metrics"]["spans"])


def _overlapping(records: list[dict]) -> list[list[dict]]:
    """Records connected by overlapping copy-side spans (union-find over a sweep of the sorted spans)."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    spans = sorted((a, b, i) for i, r in enumerate(records) for a, b in _intervals(r))
    end, owner = -1, -1  # the current cluster of overlapping spans: where it ends, one record in it
    for a, b, i in spans:
        if a < end:  # [a, b) overlaps the cluster
            parent[find(i)] = find(owner)
            end = max(end, b)
        else:
            owner, end = i, b
    groups: dict[int, list[dict]] = defaultdict(list)
    for i, r in enumerate(records):
        groups[find(i)].append(r)
    return list(groups.values())


def _covered(intervals: list[tuple[int, int]]) -> int:
    """Tokens in the union of the intervals."""
    total, end = 0, -1
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def _rank(group: list[dict]) -> None:
    region = [iv for r in group for iv in _intervals(r)]
    region_tokens = _covered(region)
    lines = [s["copy_lines"] for r in group for s in r["metrics"]["spans"] if s.get("copy_lines")]
    covered = {id(r): _covered(_intervals(r)) for r in group}
    order = sorted(group, key=lambda r: (-covered[id(r)], -r["metrics"]["longest_run_tokens"],
                                         -r["metrics"]["own_coverage"], r["work_file_id"]))
    best = order[0]
    for rank, r in enumerate(order, 1):
        r["metrics"]["region_rank"] = {
            "rank": rank, "of": len(order),
            "copy_tokens": [min(a for a, _ in region), max(b for _, b in region)],
            "copy_lines": [min(a for a, _ in lines), max(b for _, b in lines)] if lines else None,
            "best_work_id": best["work_id"], "best_work_file": best["work_file"],
            "share_explained": round(covered[id(r)] / region_tokens, 6) if region_tokens else 0.0,
        }
