"""`ascertain verify DIR`: re-check a report against its manifest and its case, and re-derive it.

Checks, each reported as it is found: the expert's signature over manifest.json (and, given the expert's
public key or fingerprint, that it is theirs); every report file's sha256 (and no unlisted file); every
input still on disk; every index file; the store's evidence, work and source rows; the audit chain (intact,
no entry stripped of its hash, and still holding the signed head the report was written after); then the
re-derivation (report/rederive.py): indexes rebuilt from the inputs, the match re-run without caches, the
store, evidence.json and every report file compared with the re-derived ones.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.report import case_data, rederive, signing
from ascertain.report.build import MANIFEST_NAME
from ascertain.report.manifest import index_digests, sha256_file, software, store_digests
from ascertain.store import audit_chain
from ascertain.store import schema as s

UNLISTED = (MANIFEST_NAME, signing.SIGNATURE_NAME)  # the two files the manifest cannot list


def verify(report_dir: Path, case_dir: Path | None = None, key_file: str | None = None, rerun: bool = True,
           signer_key: Path | None = None, fingerprint: str | None = None, reindex: bool = True) -> dict:
    """{verified, differences: [{kind, item, problem}], checked: [...], signature: {...}}. `signer_key` (a
    public key file) or `fingerprint`: the key the report must be signed with."""
    report_dir = Path(report_dir)
    expected = None
    if signer_key is not None:
        expected = signing.load_public(signer_key)["fingerprint"]
    if fingerprint is not None:
        fp = signing.normalize_fingerprint(fingerprint)
        if expected is not None and fp != expected:
            raise AscertainError("--fingerprint", "is not the fingerprint of --signer-key",
                                 "give one of the two, or the matching pair")
        expected = fp
    try:
        raw = (report_dir / MANIFEST_NAME).read_bytes()
    except FileNotFoundError as e:
        raise AscertainError(str(report_dir), "has no manifest.json", "pass the folder `ascertain report` wrote") from e
    try:
        m = json.loads(raw)
    except json.JSONDecodeError as e:
        return _result([{"kind": "manifest", "item": MANIFEST_NAME, "problem": f"not valid JSON ({e})"}], [], {})
    diffs: list[dict] = []
    checked: list[str] = []

    def differ(kind: str, item: str, problem: str) -> None:
        diffs.append({"kind": kind, "item": item, "problem": problem})

    # 0. the signature: the manifest (and so every hash below) as the expert signed it
    sig = signing.check_signature(report_dir, m)
    sig["expected_fingerprint"] = expected
    if sig["signed"] and not sig["valid"]:
        differ("signature", signing.SIGNATURE_NAME, sig["problem"])
    elif not sig["signed"] and expected is not None:
        differ("signature", signing.SIGNATURE_NAME, "the report is not signed, and you asked for the key "
               f"{signing.grouped(expected)}")
    elif sig["signed"] and expected is not None and sig["fingerprint"] != expected:
        differ("signature", signing.SIGNATURE_NAME, f"signed by another key ({signing.grouped(sig['fingerprint'])}, "
               f"naming {sig['signer']!r}) than the one you gave ({signing.grouped(expected)})")
    checked.append(_signature_line(sig))

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
        if p.is_file() and rel not in UNLISTED and rel not in listed:
            differ("report file", rel, "not listed in the manifest")
    checked.append(f"{len(listed)} report files")

    case = Case.open(Path(case_dir) if case_dir else Path(m["case"]["root"]))
    data = case_data.load(case)
    # 2. inputs still on disk
    n = 0
    for w in m["inputs"]["work_files"]:
        p = Path(w["path"])
        if not p.is_absolute():
            p = case.root / p
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
    checked.append(f"{n} input files re-hashed")
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
    # 5. audit chain: intact, and holding at the report's place the head the (signed) manifest recorded
    chain = audit_chain.check(case.store.engine)
    for p in chain["problems"]:
        differ("audit", f"entry {p['id']}", p["problem"])
    at = m["audit"]["entries_at_report"]
    with case.store.engine.connect() as c:
        row = c.execute(select(s.audit_log.c.entry_hash).order_by(s.audit_log.c.id).offset(at - 1).limit(1)
                        ).first() if at else None
    if at and (row is None or row[0] != m["audit"]["head_at_report"]):
        differ("audit", f"entry {at}", "the audit chain was rewritten: its entry the report was written after "
               "is gone or has another hash than the head the report recorded")
    checked.append(f"audit chain ({chain['entries']} entries, head at the report's entry {at} compared)")
    # 6. re-derive: meaningful only with the software that wrote the report
    if rerun:
        was, now = m.get("software", {}), software()
        changed = [f"{k} {was.get(k)} then, {now.get(k)} now" for k in ("ascertain", "code_sha256")
                   if was.get(k) != now.get(k)]
        changed += [f"{k} {v} then, {now['dependencies'].get(k)} now" for k, v in
                    sorted(was.get("dependencies", {}).items()) if now["dependencies"].get(k) != v]
        if changed:
            differ("software", "ascertain", "the report was written by other software than this verify runs ("
                   + "; ".join(changed) + "): a re-derivation can differ for that reason alone; verify with the "
                   "software the manifest names")
        checked.extend(rederive.rederive(case, m, report_dir, differ, key_file, reindex))
    return _result(diffs, checked, sig)


def _signature_line(sig: dict) -> str:
    if not sig["signed"]:
        return "not signed (its hashes show the report is whole, not who wrote it)"
    if not sig["valid"]:
        return "signature INVALID"
    who = f"signed by {sig['signer']}, key {sig['fingerprint'][:16]}…"
    if sig.get("expected_fingerprint") == sig["fingerprint"]:
        return who + " (the key you gave)"
    if sig.get("expected_fingerprint"):
        return who + " (NOT the key you gave)"
    return who + " (not compared with a key you trust: pass --signer-key or --fingerprint)"


def _result(diffs: list[dict], checked: list[str], sig: dict) -> dict:
    return {"verified": not diffs, "differences": diffs, "checked": checked, "signature": sig}
