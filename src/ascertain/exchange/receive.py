"""The master's check of a production: each produced file is the very document that was indexed and matched.

With the key the master recomputes, for every file in production.json, the keyed digest of its bytes and
compares it with the digest the imported index holds for that document (and the keyed locator with the
index's), so a substituted, altered or extra document is caught without trusting the defendant's manifest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from ascertain.case import Case
from ascertain.exchange.files import load_json
from ascertain.exchange.package import keyed_source
from ascertain.fingerprint.keyed import keyed_sha256
from ascertain.fingerprint.winnow import load_key
from ascertain.index.lookup import find_document

FIX = "ask the defendant to produce again from the request (`ascertain corpus produce`)"


def check_production(case: Case, source: str, production: Path, key_file: str) -> dict:
    key = load_key(key_file)
    row, _, manifest = keyed_source(case, source, key, key_file)
    prod = load_json(Path(production) / "production.json", "production manifest", FIX)
    folder = (Path(production) / "documents").resolve()
    listed = {PurePosixPath(d.get("file", "")).name for d in prod.get("documents", [])}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed) if folder.is_dir() else []
    problems = [f"{name}: not listed in production.json" for name in extra]
    checked = []
    for d in prod.get("documents", []):
        path = (Path(production) / str(d.get("file", ""))).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            problems.append(f"{d.get('file')!r}: missing, or outside the production's documents/ folder")
            continue
        indexed = find_document(case, source, str(int(d["doc_id"])))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        same = keyed_sha256(key, digest) == indexed["sha256"] and d.get("keyed_locator") == indexed["locator"]
        if not same:
            problems.append(f"{d['file']}: not the document {d['doc_id']} that was indexed (keyed digest or locator "
                            "differs)")
        checked.append({"doc_id": d["doc_id"], "file": d["file"], "sha256": digest, "as_indexed": same})
    return {"source": source, "production": str(production), "documents": len(checked),
            "verified": not problems, "problems": problems, "checked": checked}
