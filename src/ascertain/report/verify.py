"""`ascertain verify DIR`: re-check a report against its manifest and its case.

Checks, each reported as it is found: every report file's sha256 (and no unlisted file); every input that is
still on disk; every index file; the store's evidence, work and source rows; the audit chain (intact, and
still holding the entry the report was written after); and a re-run of the match into a scratch copy of the
case, whose evidence must equal the report's byte for byte.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.report import case_data
from ascertain.report.build import MANIFEST_NAME
from ascertain.report.manifest import index_digests, sha256_file, store_digests
from ascertain.store import audit_chain
from ascertain.store import schema as s


def verify(report_dir: Path, case_dir: Path | None = None, key_file: str | None = None, rerun: bool = True) -> dict:
    report_dir = Path(report_dir)
    try:
        m = json.loads((report_dir / MANIFEST_NAME).read_text())
    except FileNotFoundError as e:
        raise AscertainError(str(report_dir), "has no manifest.json", "pass the folder `ascertain report` wrote") from e
    except json.JSONDecodeError as e:
        return _result([{"kind": "manifest", "item": MANIFEST_NAME, "problem": f"not valid JSON ({e})"}], [])
    diffs: list[dict] = []
    checked: list[str] = []

    def differ(kind: str, item: str, problem: str) -> None:
        diffs.append({"kind": kind, "item": item, "problem": problem})

    # 1. the report's own files
    listed = m.get("files", {})
    for name, digest in sorted(listed.items()):
        p = report_dir / name
        if not p.is_file():
            differ("report file", name, "missing")
        elif sha256_file(p) != digest:
            differ("report file", name, "changed since the report was written (sha256 differs)")
    for p in sorted(report_dir.rglob("*")):
        rel = p.relative_to(report_dir).as_posix()
        if p.is_file() and rel != MANIFEST_NAME and rel not in listed:
            differ("report file", rel, "not listed in the manifest")
    checked.append(f"{len(listed)} report files")

    case = Case.open(Path(case_dir) if case_dir else Path(m["case"]["root"]))
    data = case_data.load(case)
    # 2. inputs still on disk
    n = 0
    for w in m["inputs"]["work_files"]:
        p = Path(w["path"])
        if p.is_file():
            n += 1
            if sha256_file(p) != w["sha256"]:
                differ("input", w["path"], "work file changed since it was added (sha256 differs)")
    for name, inputs in m["inputs"]["sources"].items():
        for i in inputs:  # a keyed source records no paths (fingerprint/keyed.py): nothing to re-hash here
            p = Path(i.get("path", ""))
            if i.get("sha256") and i.get("path") and p.is_file():
                n += 1
                if sha256_file(p) != i["sha256"]:
                    differ("input", i["path"], f"input of source {name} changed since it was indexed")
    kept = m["inputs"].get("class_file")
    if kept:
        n += 1
        p = case.root / kept["kept_as"]
        if not p.is_file() or sha256_file(p) != kept["sha256"]:
            differ("input", str(p), "the class file kept in the case is missing or changed")
    checked.append(f"{n} inputs on disk")
    # 3. index files
    now_index = index_digests(data.sources)
    for src, files in m["index"].items():
        have = now_index.get(src, {})
        for name, digest in files.items():
            if name not in have:
                differ("index", f"{src}/{name}", "missing")
            elif have[name] != digest:
                differ("index", f"{src}/{name}", "changed (sha256 differs)")
        for name in sorted(set(have) - set(files)):
            differ("index", f"{src}/{name}", "not in the manifest")
    checked.append(f"{sum(len(f) for f in m['index'].values())} index files")
    # 4. store rows
    now_store = store_digests(case)
    for key, value in m["store"].items():
        if now_store.get(key) != value:
            differ("store", key, f"store rows differ ({key}: {value} in the manifest, {now_store.get(key)} now)")
    checked.append("store rows (evidence, works, work files, sources)")
    # 5. audit chain
    chain = audit_chain.check(case.store.engine)
    for p in chain["problems"]:
        differ("audit", f"entry {p['id']}", p["problem"])
    at = m["audit"]["entries_at_report"]
    with case.store.engine.connect() as c:
        row = c.execute(select(s.audit_log.c.entry_hash).order_by(s.audit_log.c.id).offset(at - 1).limit(1)
                        ).first() if at else None
    if at and (row is None or row[0] != m["audit"]["head_at_report"]):
        differ("audit", f"entry {at}", "the audit entry the report was written after is gone or changed")
    checked.append(f"audit chain ({chain['entries']} entries)")
    # 6. re-run the match
    if rerun:
        problem = _rerun(case, m, report_dir, key_file)
        if problem:
            differ("rerun", "evidence.json", problem)
        checked.append("match re-run, evidence compared byte for byte")
    return _result(diffs, checked)


def _result(diffs: list[dict], checked: list[str]) -> dict:
    return {"verified": not diffs, "differences": diffs, "checked": checked}


def _rerun(case: Case, m: dict, report_dir: Path, key_file: str | None) -> str | None:
    if not case.store.url.startswith("sqlite"):
        return "the re-run needs a SQLite case store (copied into a scratch folder); pass --no-rerun for this case"
    want = m.get("evidence_sha256")
    with tempfile.TemporaryDirectory(prefix="ascertain-verify-") as tmp:
        scratch = Path(tmp) / "case"
        shutil.copytree(case.root, scratch, ignore=shutil.ignore_patterns("reports", ".duckdb-tmp"))
        from ascertain.match.measure import Thresholds
        from ascertain.match.run import MatchOptions, run_match

        params = m["match_run"]["manifest"]["parameters"]
        opts = MatchOptions(key_file=key_file, max_seed_df=params["max_seed_df"], max_hash_hits=params["max_hash_hits"],
                            thresholds=Thresholds(**params["thresholds"]), copied_only=params.get("copied_only", False),
                            allow_empty=True)
        c2 = Case.open(scratch)
        try:
            run_match(c2, opts)
        except AscertainError as e:
            return f"the match could not be re-run: {e.what}: {e.problem} ({e.fix})"
        finally:
            c2.store.engine.dispose()
        got = sha256_file(scratch / "reports" / "evidence.json")
    if got != want:
        return "the re-run's evidence differs from the evidence the report was written from"
    return None
