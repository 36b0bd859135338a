"""Whether the store's evidence and reports/evidence.json are the same match run's. `match` writes the file,
then the store's rows: a run killed between the two leaves them disagreeing, and a report written then would
describe one in its pages and ship the other. A report is refused until a new match has rewritten both."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.store import schema as s

MARK = b'],"manifest":'  # evidence.json ends with its manifest (sorted keys: "evidence" comes first)
TAIL_STEP = 1 << 16


def file_manifest(path: Path) -> dict:
    """The manifest at the end of an evidence.json, read from the end: the file can be gigabytes of records.
    Inside a JSON string a quote is escaped, so the last `],"manifest":` is the top-level key's."""
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        tail = b""
        at = size
        while at > 0:
            step = min(TAIL_STEP, at)
            at -= step
            fh.seek(at)
            tail = fh.read(step) + tail
            i = tail.rfind(MARK)
            if i >= 0:
                try:
                    return json.loads(tail[i + len(MARK):].rstrip()[:-1])
                except json.JSONDecodeError:
                    break
    raise AscertainError(str(path), "is not an evidence file written by `ascertain match` (no manifest at its "
                         "end; it may be truncated)", "run `ascertain match CASE` again: it rewrites the file")


def check_agrees(case: Case, match_run: dict, evidence_json: Path) -> None:
    """Refuse a report while the store's last match run and evidence.json disagree, saying how to mend it."""
    mend = (f"run `ascertain match {case.root}` again (all sources): it rewrites both the store's evidence "
            "and reports/evidence.json, then write the report")
    if not evidence_json.is_file():
        raise AscertainError(str(evidence_json), "is missing", mend)
    problems = []
    if file_manifest(evidence_json) != match_run["manifest"]:
        problems.append("the file holds another match run than the store's last one (a match was interrupted "
                        "between writing them, or one of them was changed)")
    with case.store.engine.connect() as c:
        rows = c.execute(select(func.count()).select_from(s.evidence)).scalar_one()
        other = c.execute(select(func.count()).select_from(s.evidence)
                          .where(s.evidence.c.run_id != match_run["id"])).scalar_one()
    want = match_run["manifest"].get("counts", {}).get("evidence")
    if want is not None and rows != want:
        problems.append(f"the store holds {rows} evidence rows, the match run recorded {want}")
    if other:
        problems.append(f"{other} evidence rows of the store belong to no match run the report is about")
    if problems:
        raise AscertainError(f"{case.root} / {evidence_json.name}", "the store's evidence and reports/"
                             f"{evidence_json.name} disagree: " + "; ".join(problems), mend)
