"""The master's production request: the keyed locators of the matching documents, and nothing else of the index.

request.json holds, per matching document of the imported source: its doc id, keyed locator and keyed digest
(so the defendant can check it resolves the very document it indexed), and the works it matched with the
figures the protective order allows (--figures). It names the index by the SHA-256 of its manifest and the
key by its key check, and is authenticated by an HMAC under the case key: the defendant refuses a request made
with another key or altered on the way.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from sqlalchemy import select

from ascertain import __version__
from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.exchange.files import canonical, dump, load_json, refuse_existing, write_new
from ascertain.exchange.package import keyed_source
from ascertain.exchange.textless import MANIFEST
from ascertain.fingerprint.keyed import key_check
from ascertain.fingerprint.winnow import load_key
from ascertain.index.lookup import find_document
from ascertain.report.manifest import sha256_file
from ascertain.store import schema

FORMAT = "ascertain production request"
VERSION = 1
_MAC_LABEL = b"ascertain production request v1\0"
FIGURES = ("copied", "coverage", "own_coverage", "longest_run_tokens", "fragments")
DEFAULT_FIGURES = ("copied", "own_coverage", "longest_run_tokens")
REQUEST_FIX = "ask the master for the request again (`ascertain corpus request`), made with the case key"


def parse_figures(spec: str) -> list[str]:
    names = [] if spec.strip() == "none" else [f.strip() for f in spec.split(",") if f.strip()]
    unknown = [f for f in names if f not in FIGURES]
    if unknown:
        raise AscertainError("--figures", f"unknown figure(s) {', '.join(unknown)}",
                             f"choose among {', '.join(FIGURES)}, or none")
    return names


def request_mac(key: bytes, body: dict) -> str:
    return hmac.new(key, _MAC_LABEL + canonical(body), hashlib.sha256).hexdigest()


def write_request(case: Case, source: str, out: Path, key_file: str, figures: list[str],
                  include_not_copied: bool = False) -> dict:
    """Write the request for source `source` from the case's stored evidence (the last match run)."""
    out = Path(out)
    refuse_existing(out, "production request")
    key = load_key(key_file)
    row, index_dir, manifest = keyed_source(case, source, key, key_file)
    with case.store.engine.connect() as c:
        rows = c.execute(
            select(schema.evidence.c.doc_id, schema.evidence.c.doc_locator, schema.evidence.c.work_id,
                   schema.works.c.title, schema.claimants.c.name.label("claimant"),
                   *(getattr(schema.evidence.c, f) for f in FIGURES))
            .join(schema.works, schema.works.c.id == schema.evidence.c.work_id)
            .join(schema.claimants, schema.claimants.c.id == schema.works.c.claimant_id)
            .where(schema.evidence.c.source_id == row["id"])
            .order_by(schema.evidence.c.doc_id, schema.evidence.c.work_id)).mappings().all()
    chosen = [r for r in rows if include_not_copied or r["copied"]]
    if not chosen:
        raise AscertainError(source, "has no " + ("" if include_not_copied else "copied ") + "evidence in this case",
                             f"run `ascertain match {case.root} --key-file KEYFILE` first"
                             + ("" if include_not_copied else ", or pass --include-not-copied"))
    documents: dict[int, dict] = {}
    for r in chosen:
        doc = documents.get(r["doc_id"])
        if doc is None:
            doc = documents[r["doc_id"]] = {"doc_id": r["doc_id"], "locator": r["doc_locator"],
                                            "sha256": find_document(case, source, str(r["doc_id"]))["sha256"],
                                            "works": []}
        work = {"work_id": r["work_id"], "title": r["title"], "claimant": r["claimant"]}
        doc["works"].append({**work, **{f: r[f] for f in figures}})
    body = {"format": FORMAT, "version": VERSION, "ascertain": __version__, "source": source,
            "key_check": key_check(key), "index_manifest_sha256": sha256_file(index_dir / MANIFEST),
            "package_sha256": row["params"].get("imported", {}).get("package_sha256"),
            "include": "all evidence" if include_not_copied else "copied", "figures": figures,
            "documents": list(documents.values())}
    write_new(out, dump({**body, "mac": request_mac(key, body)}))
    summary = {"source": source, "request": str(out), "sha256": sha256_file(out), "documents": len(documents),
               "works": len({r["work_id"] for r in chosen}), "figures": figures}
    case.store.audit("corpus request", summary)
    return summary


def read_request(path: Path, key: bytes) -> dict:
    """The request's body after checking its format, key check and MAC under `key`."""
    req = load_json(path, "production request", REQUEST_FIX)
    if req.get("format") != FORMAT or req.get("version") != VERSION:
        raise AscertainError(str(path), "is not an ascertain production request (version 1)", REQUEST_FIX)
    if req.get("key_check") != key_check(key):
        raise AscertainError(str(path), "the request was made with another key than this one (its key check "
                             "differs); nothing was produced", "pass --key-file with the case key the master gave "
                             "you, or ask the master for a request made with it")
    body = {k: v for k, v in req.items() if k != "mac"}
    if not hmac.compare_digest(str(req.get("mac", "")), request_mac(key, body)):
        raise AscertainError(str(path), "the request's MAC does not verify under the case key (altered after the "
                             "master wrote it); nothing was produced", REQUEST_FIX)
    docs = body.get("documents")
    if not isinstance(docs, list) or not all(isinstance(d, dict) and isinstance(d.get("locator"), str)
                                             for d in docs):
        raise AscertainError(str(path), "has no valid document list", REQUEST_FIX)
    return body
