"""Training provenance: the defendant's data-pipeline records, and each matched document traced through them.

A copy in an indexed corpus shows that the corpus holds the work, not that a model was trained on it. Where
the defendant produces its pipeline records, they are added to the case per source and each copy is traced:
crawled → kept (or dropped) by each filter and by deduplication → in the training mixture (with its weight)
→ in tokenized shards, times seen. The input is one JSON object a line (JSONL) or a CSV with the same
columns:

  document    the record's locator as the source indexed it (or its tail: `scraped.jsonl:5`, a path), or
  sha256      the sha256 of the document's text, as the index holds it (one of the two is required);
  stage       crawled | filter | dedup | mixture | shard (required);
  decision    kept | dropped (filter and dedup; default kept);
  name        the filter, mixture component or shard name;
  reason      why it was dropped (free text);
  weight      the mixture component's sampling weight (mixture);
  times_seen  how many times the training run read it (shard or mixture: epochs × repetitions).

`ascertain corpus provenance add CASE SOURCE FILE` checks every row, copies the file into the case
(provenance/SOURCE/, under its sha256) and records it; the report traces every copy of that source.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

from ascertain.case import Case
from ascertain.errors import AscertainError

STAGES = ("crawled", "filter", "dedup", "mixture", "shard")
FIELDS = ("document", "sha256", "stage", "decision", "name", "reason", "weight", "times_seen")


def parse(path: Path) -> list[dict]:
    """The rows of a provenance file, checked; a bad row raises an AscertainError naming its line."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise AscertainError(str(path), f"cannot be read ({e.strerror})", "pass the pipeline records file") from e
    text = raw.decode("utf-8", errors="strict") if raw else ""
    rows: list[tuple[int, dict]] = []
    if path.suffix.lower() == ".csv":
        rows = [(i + 2, dict(r)) for i, r in enumerate(csv.DictReader(io.StringIO(text)))]
    else:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise AscertainError(f"{path}:{i}", f"is not JSON ({e.msg})",
                                     "write one JSON object a line (see `ascertain corpus provenance --help`)") from e
            if not isinstance(obj, dict):
                raise AscertainError(f"{path}:{i}", "is not a JSON object", "write one JSON object a line")
            rows.append((i, obj))
    out = []
    for line, r in rows:
        where = f"{path}:{line}"
        stage = str(r.get("stage") or "").strip().lower()
        if stage not in STAGES:
            raise AscertainError(where, f"has stage {r.get('stage')!r}", f"use one of {', '.join(STAGES)}")
        doc, sha = str(r.get("document") or "").strip(), str(r.get("sha256") or "").strip().lower()
        if not doc and not sha:
            raise AscertainError(where, "names no document", "give `document` (its locator) or `sha256`")
        decision = str(r.get("decision") or "kept").strip().lower()
        if decision not in ("kept", "dropped"):
            raise AscertainError(where, f"has decision {r.get('decision')!r}", "use kept or dropped")
        row = {"document": doc, "sha256": sha, "stage": stage, "decision": decision,
               "name": str(r.get("name") or ""), "reason": str(r.get("reason") or "")}
        for key, cast in (("weight", float), ("times_seen", int)):
            v = r.get(key)
            if v not in (None, ""):
                try:
                    row[key] = cast(v)
                except (TypeError, ValueError) as e:
                    raise AscertainError(where, f"has {key} {v!r}, not a number", f"write {key} as a number") from e
        out.append(row)
    if not out:
        raise AscertainError(str(path), "holds no provenance rows", "one row per document and stage")
    return out


def folder(case: Case, source: str) -> Path:
    return case.root / "provenance" / source


def add(case: Case, source: str, path: Path) -> dict:
    """Check and copy a pipeline records file into the case for `source`; returns what was recorded."""
    from sqlalchemy import select

    from ascertain.store import schema

    with case.store.engine.connect() as c:
        if c.execute(select(schema.sources.c.id).where(schema.sources.c.name == source)).first() is None:
            raise AscertainError(source, "is not a source of this case", "add it with `ascertain corpus add` first")
    rows = parse(Path(path))
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    dest = folder(case, source) / f"{digest[:16]}{''.join(Path(path).suffixes[-1:]) or '.jsonl'}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    shutil.copyfile(path, tmp)
    tmp.replace(dest)
    result = {"source": source, "file": str(dest.relative_to(case.root)), "sha256": digest, "rows": len(rows),
              "stages": {s: sum(1 for r in rows if r["stage"] == s) for s in STAGES}}
    case.store.audit("provenance add", result)
    return result


def load(case: Case, source: str) -> tuple[list[dict], list[dict]]:
    """(rows, files with their sha256) of every provenance file added for a source ([] when none)."""
    rows, files = [], []
    d = folder(case, source)
    for p in sorted(d.glob("*")) if d.is_dir() else []:
        if p.suffix == ".tmp":
            continue
        rows += parse(p)
        files.append({"file": str(p.relative_to(case.root)), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()})
    return rows, files


def trace(rows: list[dict], locator: str, sha256: str | None) -> dict:
    """One document's path through the pipeline records: each stage's rows, and a one-line verdict."""
    loc = locator.replace("\\", "/")
    mine = [r for r in rows if (r["sha256"] and sha256 and r["sha256"] == sha256) or
            (r["document"] and (loc == r["document"] or loc.endswith("/" + r["document"].lstrip("/"))))]
    stages = {s: [r for r in mine if r["stage"] == s] for s in STAGES}
    dropped = [r for r in mine if r["decision"] == "dropped"]
    seen = sum(r.get("times_seen", 0) for r in mine)
    weights = sorted({r["weight"] for r in stages["mixture"] if "weight" in r})
    if not mine:
        verdict = "not in the pipeline records produced"
    elif dropped:
        first = dropped[0]
        verdict = f"dropped at {first['stage']} {first['name']}".rstrip() + (f" ({first['reason']})"
                                                                              if first["reason"] else "")
    elif stages["mixture"] or stages["shard"]:
        verdict = "in the training mixture" + (f" (weight {', '.join(f'{w:g}' for w in weights)})" if weights else "") \
            + (f", seen {seen} times" if seen else "")
    else:
        verdict = "kept by the records produced, not shown in a mixture or shard"
    path = []
    for s in STAGES:
        if stages[s]:
            names = ", ".join(f"{r['name'] or s} {r['decision']}" for r in stages[s])
            path.append(f"{s}: {names}")
    return {"verdict": verdict, "path": path, "times_seen": seen, "dropped": bool(dropped), "rows": len(mine)}
