"""`verify` re-derives a report, it does not re-read it: in a scratch copy of the case, each plain source's
index is rebuilt from its inputs (re-read and re-hashed, folders file by file), the match is run again with
no CMI scan cache (the scratch index has none), and the report is written again from that evidence. Then the
store's evidence rows, the report folder's evidence.json and every file of the report (every figure of
report.html and report.pdf, the exhibits, the tables) are compared with the re-derived ones, byte for byte.

A keyed source cannot be rebuilt (its inputs are the producing party's): its index files are taken as the
manifest hashed them, without their cache. `reindex=False` does the same for every source (said in the
result), for a verifier who does not hold the corpora.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from ascertain.case import CONFIG, Case
from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params
from ascertain.index.shards import IndexWriter, read_manifest
from ascertain.media import is_image_source
from ascertain.readers import ReadOptions, read_inputs
from ascertain.readers.base import Skip, printable
from ascertain.readers.records import read_jsonl
from ascertain.report import case_data
from ascertain.report.manifest import sha256_file, store_digests
from ascertain.report.rederive_images import (
    compare_image_digests,
    rebuild_image_index,
    rederive_image_works,
    rerun_image_match,
    rerun_image_metadata_match,
)
from ascertain.sources import describe_inputs
from ascertain.store import schema
from ascertain.text.levels import DEFAULT_LEVEL

Differ = Callable[[str, str, str], None]
GIT_REV = re.compile(r"@([0-9a-f]{12}):")
CACHE_DIR = "cache"  # an index folder's caches (cmi/cache.py): never carried into the re-derivation
MAX_RECORD_DIFFS = 10  # differing evidence records named one by one; the rest are counted
RECORD_DIFF_BYTES = 512 << 20  # evidence files larger than this are compared by digest only


def rederive(case: Case, m: dict, report_dir: Path, differ: Differ, key_file: str | None = None,
             reindex: bool = True) -> list[str]:
    """Re-derive the report's evidence and files in a scratch case; each difference goes to `differ`.
    Returns what was checked."""
    if not case.store.url.startswith("sqlite"):
        differ("rerun", "store", "the re-derivation needs a SQLite case store (copied into a scratch folder); "
               "pass --no-rerun for this case")
        return []
    checked = []
    with tempfile.TemporaryDirectory(prefix="ascertain-verify-") as tmp:
        scratch = Path(tmp) / case.root.name  # the report prints the case folder's name
        _copy_case(case, scratch)
        c2 = Case.open(scratch)
        try:
            n_files = _rederive_works(case, c2, differ)
            checked.append(f"{n_files} work files re-read, their text and CMI re-derived")
            n_images = rederive_image_works(case, c2, differ)
            if n_images:
                checked.append(f"{n_images} image work files re-read, their descriptors and image CMI re-derived")
            data = case_data.load(c2)
            rebuilt = kept = 0
            for src in data.sources.values():
                if src["kind"] == "image-metadata":  # no index: the metadata match re-reads its pinned files
                    continue
                if reindex and is_image_source(src.get("params")):
                    rebuilt += rebuild_image_index(src, case_data.index_path(case, src),
                                                   case_data.index_path(c2, src), differ)
                elif reindex and not src["keyed"]:
                    rebuilt += _rebuild_index(case, src, scratch, differ)
                else:
                    _copy_index(case_data.index_path(case, src), case_data.index_path(c2, src))
                    kept += 1
            checked.append(f"{rebuilt} source(s) re-indexed from their inputs"
                           + (f", {kept} index(es) taken as hashed (keyed{'' if reindex else ' or --no-reindex'})"
                              if kept else ""))
            if not _rerun_match(c2, m, key_file, differ):
                return checked
            _relabel_run(c2, m["match_run"])
            checked.append("match re-run without caches")
            if rerun_image_match(c2, m, differ):
                checked.append("image match re-run")
            if rerun_image_metadata_match(c2, differ):
                checked.append("metadata-only image datasets matched again")
            _compare_evidence(case, c2, m, report_dir, scratch, differ)
            checked.append("store rows and evidence.json compared with the re-run's")
            n = _compare_report(c2, m, report_dir, scratch, differ)
            if n:
                checked.append(f"{n} report files compared with a report written again from the re-run")
        finally:
            c2.store.engine.dispose()
    return checked


def _copy_case(case: Case, scratch: Path) -> None:
    """The case without its reports and indexes; the store copied through SQLite's backup (a consistent
    snapshot, whatever its WAL holds) to scratch/store.sqlite, wherever the case keeps it: the re-run must
    never write to the case's own store."""
    import sqlite3

    def skip(folder: str, names: list[str]) -> set[str]:
        return {"reports", ".duckdb-tmp", "index"} & set(names) if Path(folder) == case.root else set()

    shutil.copytree(case.root, scratch, ignore=skip)
    # the last classes run's member lists are what the report's member table reads (hashed under the store
    # digests, not re-derived): without them the report written again would list no members
    if (case.root / "reports" / "classes").is_dir():
        shutil.copytree(case.root / "reports" / "classes", scratch / "reports" / "classes")
    (scratch / "index").mkdir(exist_ok=True)
    config = json.loads((scratch / CONFIG).read_text())
    config["store_url"] = "sqlite:///store.sqlite"
    (scratch / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    for p in scratch.glob("store.sqlite*"):
        p.unlink()
    src, dst = sqlite3.connect(case.store.url.removeprefix("sqlite:///")), sqlite3.connect(scratch / "store.sqlite")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _rederive_works(case: Case, c2: Case, differ: Differ) -> int:
    """Re-read every work's files from disk and re-scan their CMI, into the scratch store the re-run reads:
    the text and CMI the case's store holds for a work are what `works add` derived, or a difference."""
    from sqlalchemy import delete, select, update

    from ascertain.cmi.work import record_work_cmi

    wf, cmi = schema.work_files, schema.work_cmi
    n = 0
    with c2.store.begin() as c:
        works = c.execute(select(schema.works.c.id, schema.works.c.inputs)).all()
        for wid, inputs in works:
            # image works' files are re-derived by rederive_images.py (they hold no text)
            stored = {r.path: r for r in c.execute(select(wf).where(wf.c.work_id == wid, wf.c.language != "image"))}
            if not stored:
                continue  # a metadata-only work
            paths = [p if Path(p).is_absolute() else str(case.root / p) for p in inputs]
            gone = [p for p in paths if not Path(p).exists()]
            for p in gone:
                differ("input", p, "work file is gone: its text and CMI cannot be re-derived")
            if gone:
                continue
            # a work read at a git revision names it in its locators (repo@COMMIT:path): read it there again
            rev = next((m.group(1) for p in stored if (m := GIT_REV.search(p))), None)
            again = {case.stable_path(d.locator): d for p in paths
                     for d in read_inputs([p], ReadOptions(rev=rev, expand_containers=False))
                     if not isinstance(d, Skip)}
            for path in sorted(set(stored) | set(again)):
                row, d = stored.get(path), again.get(path)
                if row is None or d is None:
                    differ("input", path, "work file " + ("is not in the store's work" if row is None
                                                          else "is gone from the work's folder"))
                    continue
                n += 1
                if (row.sha256, row.text, row.language) != (d.sha256, d.text, d.language):
                    differ("store", f"work file {path}", "the store's text of this work file is not the file's "
                           "(the store or the file was changed since the work was added)")
                    c.execute(update(wf).where(wf.c.id == row.id).values(sha256=d.sha256, text=d.text,
                                                                         language=d.language))
            before = {r.work_file_id: (r.scope, r.cmi) for r in c.execute(select(cmi).where(cmi.c.work_id == wid))}
            c.execute(delete(cmi).where(cmi.c.work_id == wid))
            record_work_cmi(c, wid, inputs)
            after = {r.work_file_id: (r.scope, r.cmi) for r in c.execute(select(cmi).where(cmi.c.work_id == wid))}
            path_of = {r.id: p for p, r in stored.items()}
            for fid in sorted(set(before) | set(after)) if before else ():  # an old case's are scanned at match
                if before.get(fid) != after.get(fid):
                    differ("store", f"work CMI of {path_of.get(fid, fid)}", "the store's CMI of this work file "
                           "differs from a new scan of it (the store was changed)")
    return n


def _copy_index(src_dir: Path, dest: Path) -> None:
    shutil.copytree(src_dir, dest, ignore=lambda folder, names: {CACHE_DIR} & set(names)
                    if Path(folder) == src_dir else set())


def _rebuild_index(case: Case, src: dict, scratch: Path, differ: Differ) -> int:
    """Rebuild one plain source's index from its inputs into the scratch case; compare it with the case's,
    file by file and document by document. Returns 1 when rebuilt, 0 when an input is gone (the case's index
    is then used, and the difference said)."""
    name, original = src["name"], case_data.index_path(case, src)
    recorded = src["inputs"]
    paths = [i["path"] for i in recorded]
    dest = scratch / Path(src["index_dir"])
    gone = [p for p in paths if not Path(p).exists()]
    for p in gone:
        differ("input", p, f"input of source {name} is gone: its index cannot be re-derived")
    if gone:
        _copy_index(original, dest)
        return 0
    try:
        now = describe_inputs(paths)
    except AscertainError as e:
        differ("input", e.what, f"input of source {name}: {e.problem}")
        _copy_index(original, dest)
        return 0
    for before, after in zip(recorded, now, strict=True):
        if before != after:
            what = ("file's sha256" if before.get("kind") == "file" else "folder's files (names or sizes)")
            differ("input", before["path"], f"input of source {name} changed since it was indexed (the {what} "
                   "differ)")
    old = read_manifest(original) or {}
    reading = old.get("reading", {})
    p = src["params"]
    params = Params(k=int(p["k"]), w=int(p["w"]), keyed=False, level=p.get("level", DEFAULT_LEVEL))
    opts = ReadOptions(text_field=reading.get("text_field", "text"), language=reading.get("language"),
                       rev=reading.get("rev"), max_doc_bytes=reading.get("max_doc_bytes", ReadOptions.max_doc_bytes),
                       meta_fields=tuple(p.get("meta_fields") or ()))
    writer = IndexWriter(dest, params, recorded, reading, store_text=bool(old.get("store_text", True)))

    def items():
        for path in paths:
            if src["kind"] == "outputs":
                yield from read_jsonl(Path(path), opts, printable(path))
            else:
                yield from read_inputs([path], opts)

    writer.build(items())
    _compare_documents(name, original, dest, differ)
    have = {q.name: sha256_file(q) for q in sorted(original.iterdir()) if q.is_file()}
    again = {q.name: sha256_file(q) for q in sorted(dest.iterdir()) if q.is_file()}
    for f in sorted(set(have) | set(again)):
        if have.get(f) != again.get(f):
            differ("index", f"{name}/{f}", "differs from the index rebuilt from the inputs"
                   if f in have and f in again else "missing from the case's index" if f in again
                   else "not in the index rebuilt from the inputs")
    return 1


def _documents(index_dir: Path) -> dict[str, str]:
    m = read_manifest(index_dir) or {"shards": []}
    out: dict[str, str] = {}
    for shard in m["shards"]:
        t = pq.read_table(index_dir / shard["documents_file"], columns=["locator", "sha256"])
        out.update(zip(t.column("locator").to_pylist(), t.column("sha256").to_pylist(), strict=True))
    return out


def _compare_documents(name: str, original: Path, rebuilt: Path, differ: Differ) -> None:
    """Name the documents (files, records, archive members) whose text changed, vanished or appeared."""
    try:
        have = _documents(original)
    except (OSError, KeyError, ValueError) as e:
        differ("index", name, f"the case's index cannot be read ({e})")
        return
    again = _documents(rebuilt)
    named = 0
    for loc in sorted(set(have) | set(again)):
        if have.get(loc) == again.get(loc):
            continue
        named += 1
        if named > MAX_RECORD_DIFFS:
            continue
        differ("input", loc, f"document of source {name} "
               + ("changed since it was indexed (sha256 differs)" if loc in have and loc in again
                  else "is gone from the inputs" if loc in have else "is in the inputs but not in the index"))
    if named > MAX_RECORD_DIFFS:
        differ("input", name, f"{named - MAX_RECORD_DIFFS} more documents differ")


def _rerun_match(c2: Case, m: dict, key_file: str | None, differ: Differ) -> bool:
    from ascertain.match.measure import Thresholds
    from ascertain.match.run import MatchOptions, run_match

    params = m["match_run"]["manifest"]["parameters"]
    opts = MatchOptions(key_file=key_file, max_seed_df=params["max_seed_df"], max_hash_hits=params["max_hash_hits"],
                        thresholds=Thresholds(**params["thresholds"]), copied_only=params.get("copied_only", False),
                        allow_empty=True)
    try:
        run_match(c2, opts)
    except AscertainError as e:
        differ("rerun", "match", f"the match could not be re-run: {e.what}: {e.problem} ({e.fix})")
        return False
    return True


def _relabel_run(c2: Case, original: dict) -> None:
    """Give the scratch re-run the id and start time of the run it reproduces (the report prints both; neither
    can be re-derived), in place of that run's row, whose evidence the re-run replaced."""
    from sqlalchemy import delete, func, select, text, update

    runs, ev = schema.runs, schema.evidence
    with c2.store.begin() as c:
        new = c.execute(select(func.max(runs.c.id)).where(runs.c.stage == "match")).scalar_one()
        if new == original["id"]:
            return
        c.execute(text("PRAGMA defer_foreign_keys = ON"))
        c.execute(delete(runs).where(runs.c.id == original["id"]))
        c.execute(update(runs).where(runs.c.id == new).values(id=original["id"], started_at=original["started_at"]))
        c.execute(update(ev).where(ev.c.run_id == new).values(run_id=original["id"]))


def _compare_evidence(case: Case, c2: Case, m: dict, report_dir: Path, scratch: Path, differ: Differ) -> None:
    again = scratch / "reports" / "evidence.json"
    got = sha256_file(again)
    if got != m.get("evidence_sha256"):
        differ("rerun", "evidence.json", "the re-run's evidence differs from the evidence the report was written "
               "from" + _record_diffs(report_dir / "evidence.json", again))
    copy = report_dir / "evidence.json"
    if copy.is_file() and sha256_file(copy) != got:
        differ("rerun", "evidence.json", "the report folder's evidence.json differs from the re-run's"
               + _record_diffs(copy, again))
    now, derived = store_digests(case), store_digests(c2)
    compare_image_digests(now, derived, differ)
    for key in ("evidence_rows", "evidence_sha256"):
        if now[key] != derived[key]:
            differ("rerun", f"store {key}", "the store's evidence rows differ from the re-run's "
                   f"({now[key]} in the store, {derived[key]} re-derived)")
            break


def _record_diffs(a: Path, b: Path) -> str:
    """Which records differ (work file, source, document, and the fields), for a reader to look at."""
    if not a.is_file() or a.stat().st_size > RECORD_DIFF_BYTES or b.stat().st_size > RECORD_DIFF_BYTES:
        return ""
    try:
        ra, rb = (json.loads(p.read_bytes())["evidence"] for p in (a, b))
    except (ValueError, KeyError, TypeError):
        return " (it is not readable as evidence)"

    def keyed(rows: list) -> dict:
        return {(r.get("work_file"), r.get("source"), r.get("doc_locator")): r for r in rows if isinstance(r, dict)}

    ka, kb = keyed(ra), keyed(rb)
    lines = []
    for k in sorted(set(ka) | set(kb), key=str):
        x, y = ka.get(k), kb.get(k)
        if x == y:
            continue
        if x is None or y is None:
            lines.append(f"{k[2]} ({k[1]}) vs {k[0]}: {'only in the re-run' if x is None else 'not in the re-run'}")
        else:
            fields = [f for f in ("copied", "cmi status", "coverage", "own_coverage", "longest_run_tokens")
                      if _field(x, f) != _field(y, f)] or ["other figures"]
            lines.append(f"{k[2]} ({k[1]}) vs {k[0]}: " + ", ".join(
                f"{f} {_field(x, f)!r} where the re-run has {_field(y, f)!r}" if f != "other figures" else f
                for f in fields))
    shown = "; ".join(lines[:MAX_RECORD_DIFFS])
    more = f"; {len(lines) - MAX_RECORD_DIFFS} more" if len(lines) > MAX_RECORD_DIFFS else ""
    return f": {shown}{more}" if lines else ""


def _field(r: dict, f: str) -> object:
    metrics = r.get("metrics") or {}
    if f == "copied":
        return r.get("copied")
    if f == "cmi status":
        return (metrics.get("cmi") or {}).get("status")
    return metrics.get(f)


def _compare_report(c2: Case, m: dict, report_dir: Path, scratch: Path, differ: Differ) -> int:
    """Write the report again from the re-run and compare every file the manifest lists."""
    from ascertain.report.build import build_report

    opts = m.get("options")
    if opts is None:
        differ("rerun", "manifest.json", "written by an older version without its report options: the report "
               "cannot be written again to compare its figures (write the report again)")
        return 0
    validation = opts.get("validation")
    if validation and (not Path(validation["path"]).is_file()
                       or sha256_file(Path(validation["path"])) != validation["sha256"]):
        differ("rerun", validation["path"], "the validation figures the report was given are missing or changed: "
               "the report cannot be written again to compare")
        return 0
    again = scratch / "reports" / "verify-rebuilt"
    try:
        build_report(c2, again, m["tier"], m["paper"], Path(validation["path"]) if validation else None,
                     opts["exhibit_pdfs"], opts["inline_exhibits"], signer=m.get("signer"))
    except AscertainError as e:
        differ("rerun", "report", f"the report could not be written again: {e.what}: {e.problem}")
        return 0
    listed = m.get("files", {})
    for name in sorted(listed):
        mine, theirs = report_dir / name, again / name
        if not theirs.is_file():
            differ("rerun", name, "the report written again from the re-run has no such file")
        elif mine.is_file() and sha256_file(mine) != sha256_file(theirs):
            differ("rerun", name, "differs from the report written again from the re-derived evidence"
                   + (" (a PDF can also differ when verify runs on a machine whose fonts or PDF libraries differ "
                      "from the writer's; see the software versions in manifest.json)" if name.endswith(".pdf")
                      else ""))
    for p in sorted(again.rglob("*")):
        rel = p.relative_to(again).as_posix()
        if p.is_file() and rel not in listed and rel not in ("manifest.json", "signature.json"):
            differ("rerun", rel, "the report written again from the re-run has this file; the report does not")
    return len(listed)
