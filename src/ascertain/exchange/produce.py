"""The defendant's production: keyed locators resolved back to its own documents, exactly those written out.

A keyed locator is `keyed:INPUT:ITEM:TAG` (fingerprint/keyed.py): the place of the input on the `corpus add`
command line, the place of the item in that input's stream, and an HMAC of the plain locator. The defendant
passes the same inputs again; they must give the input pins its index holds (same paths, same content), then
each requested item is read again and accepted only if its keyed locator and keyed digest are the requested
ones. OUTDIR is written whole or not at all:
  documents/       one file per produced document: the file's own bytes, or a record's text (UTF-8)
  production.json  per document: doc id, keyed and plain locator, file, form, bytes, SHA-256, the works the
                   request names; and the SHA-256 of the request it answers
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.exchange.files import dump, refuse_existing, write_new
from ascertain.exchange.package import source_row
from ascertain.exchange.request import REQUEST_FIX, read_request
from ascertain.exchange.textless import MANIFEST
from ascertain.fingerprint.keyed import key_check, keyed_inputs, keyed_locator, keyed_sha256
from ascertain.fingerprint.winnow import load_key
from ascertain.index.lookup import source_index
from ascertain.readers import Document, ReadOptions, read_inputs
from ascertain.report.manifest import sha256_file
from ascertain.sources import describe_inputs
from ascertain.text.languages import extension_of

FORMAT = "ascertain production"
LOCATOR_RE = re.compile(r"^keyed:([0-9]+):([0-9]+):([0-9a-f]{16})$")
INPUTS_FIX = ("pass the inputs exactly as given to `ascertain corpus add` (same paths, same order, unchanged "
              "content); `ascertain sources list CASE --json` shows how many there were")


def produce(case: Case, source: str, request: Path, outdir: Path, paths: list[str], key_file: str) -> dict:
    outdir = Path(outdir)
    refuse_existing(outdir, "production")
    key = load_key(key_file)
    row = source_row(case, source)
    index_dir, manifest = source_index(case, source)
    if row["kind"] != "corpus" or not row["keyed"]:
        raise AscertainError(source, "is not a keyed corpus source", "name the source indexed with --key-file")
    if manifest.get("key_check") != key_check(key):
        raise AscertainError(f"{source} / {key_file}", "this is not the key the source was indexed with (its key "
                             "check differs); nothing was produced", "pass --key-file with the case key")
    req = read_request(Path(request), key)
    if req.get("index_manifest_sha256") != sha256_file(index_dir / MANIFEST):
        raise AscertainError(str(request), f"the request was made on another index than source {source}'s (the "
                             "manifest SHA-256 differs); nothing was produced",
                             "name the source whose package you exported, or ask the master for its request")
    wanted = _wanted(req["documents"], len(manifest["inputs"]), request)
    paths = [os.path.abspath(p) for p in paths]
    _check_inputs(key, paths, manifest["inputs"])
    reading = manifest.get("reading", {})
    opts = ReadOptions(**{k: reading[k] for k in ("text_field", "language", "rev", "max_doc_bytes") if k in reading})
    staging = outdir.with_name(f".{outdir.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "documents").mkdir(parents=True)
    try:
        produced = _resolve(key, paths, opts, wanted, staging / "documents")
        missing = [d["locator"] for (i, n), d in sorted(wanted.items()) if (i, n) not in produced]
        if missing:
            raise AscertainError(str(request), f"{len(missing)} requested document(s) were not found in the inputs "
                                 f"(first: {missing[0]}); nothing was produced", INPUTS_FIX)
        entries = [produced[k] for k in sorted(produced, key=lambda k: wanted[k]["doc_id"])]
        doc = {"format": FORMAT, "version": 1, "source": source, "request_sha256": sha256_file(Path(request)),
               "index_manifest_sha256": req["index_manifest_sha256"], "key_check": req["key_check"],
               "documents": entries}
        write_new(staging / "production.json", dump(doc))
        os.replace(staging, outdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary = {"source": source, "outdir": str(outdir), "documents": len(entries),
               "bytes": sum(e["bytes"] for e in entries),
               "production_sha256": sha256_file(outdir / "production.json"), "request": str(request)}
    case.store.audit("corpus produce", summary)
    return summary


def _wanted(docs: list[dict], n_inputs: int, request: Path) -> dict[tuple[int, int], dict]:
    wanted = {}
    for d in docs:
        m = LOCATOR_RE.match(d["locator"])
        if not m or int(m.group(1)) >= n_inputs:
            raise AscertainError(f"{request}: {d['locator']!r}", "is not a keyed locator of this source",
                                 REQUEST_FIX)
        wanted[int(m.group(1)), int(m.group(2))] = d
    return wanted


def _check_inputs(key: bytes, paths: list[str], pins: list[dict]) -> None:
    if len(paths) != len(pins):
        raise AscertainError(" ".join(paths) or "(no inputs)", f"{len(paths)} input(s) given, the source was "
                             f"indexed from {len(pins)}", INPUTS_FIX)
    for i, (mine, theirs) in enumerate(zip(keyed_inputs(key, describe_inputs(paths)), pins, strict=True)):
        if mine != theirs:
            raise AscertainError(paths[i], f"is not input {i + 1} the source was indexed from (another path, or "
                                 "its content changed since)", INPUTS_FIX)


def _resolve(key: bytes, paths: list[str], opts: ReadOptions, wanted: dict[tuple[int, int], dict],
             folder: Path) -> dict[tuple[int, int], dict]:
    """Read each input that holds requested items, up to its last requested item; write each that verifies."""
    produced = {}
    for i, p in enumerate(paths):
        items = sorted(n for (j, n) in wanted if j == i)
        if not items:
            continue
        todo = set(items)
        for n, item in enumerate(read_inputs([p], opts)):
            if n in todo:
                todo.discard(n)
                req = wanted[i, n]
                if (isinstance(item, Document) and keyed_locator(key, item.locator, i, n) == req["locator"]
                        and keyed_sha256(key, item.sha256) == req.get("sha256")):
                    produced[i, n] = _write(item, req, folder)
            if not todo:
                break
    return produced


def _write(item: Document, req: dict, folder: Path) -> dict:
    """The file's own bytes when the locator is a file that still hashes as read; else the text as UTF-8."""
    form, data = "text", item.text.encode("utf-8", "surrogatepass")
    if os.path.isfile(item.locator):
        raw = Path(item.locator).read_bytes()
        if hashlib.sha256(raw).hexdigest() == item.sha256:
            form, data = "file", raw
    if form == "file":
        name = f"{req['doc_id']:06d}-{re.sub(r'[^A-Za-z0-9._-]', '_', Path(item.locator).name)}"
    else:
        name = f"{req['doc_id']:06d}{extension_of(item.language)}"
    write_new(folder / name, data)
    digest = hashlib.sha256(data).hexdigest()
    return {"doc_id": req["doc_id"], "keyed_locator": req["locator"], "locator": item.locator,
            "file": f"documents/{name}", "form": form, "language": item.language, "bytes": len(data),
            "sha256": digest, "as_indexed": digest == item.sha256, "works": req.get("works", [])}
