"""Self-lookup: is a work on the class list, and why? By title, author, ISBN (any form), registration number,
or a file (hashed, then fingerprinted against the case's work files with the `compare` code)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
from sqlalchemy import Text, cast, func, or_, select

from ascertain.case import Case
from ascertain.classes.eligibility import decide
from ascertain.classes.facts import gather, infringement_setting
from ascertain.errors import AscertainError
from ascertain.match.pairs import Prepared, prepare
from ascertain.readers.base import ReadOptions
from ascertain.store import schema as s
from ascertain.text.bibliographic import (
    fold,
    isbns,
    looks_like_isbn,
    looks_like_registration,
    name_key,
    registration_number,
    title_key,
)

MAX_RESULTS = 50
_KEYS_CHECKED: set[str] = set()


def _by_query(c, query: str) -> tuple[str, list[int]]:
    d, r, lk = s.work_details, s.registrations, s.registration_links
    q = query.strip()
    if looks_like_isbn(q):
        try:
            (i,) = isbns(q.upper().removeprefix("ISBN").strip(": "))
        except ValueError as e:
            raise AscertainError(query, str(e), "check the digits (ISBN-10 or ISBN-13)") from e
        # the JSON text is searched in the database, then checked: no row is decoded that cannot hold the ISBN
        wids = {w for w, lst in c.execute(select(d.c.work_id, d.c.isbns).where(cast(d.c.isbns, Text).like(f'%"{i}"%')))
                if i in (lst or [])}
        regs = [rid for (rid,) in c.execute(select(s.registration_isbns.c.registration_id)
                                            .where(s.registration_isbns.c.isbn == i))]
        wids |= {w for (w,) in c.execute(select(lk.c.work_id).where(lk.c.registration_id.in_(regs),
                                                                    lk.c.status == "accepted"))}
        return f"ISBN {i}", sorted(wids)
    if looks_like_registration(q):
        n = registration_number(q)
        wids = {w for (w,) in c.execute(select(d.c.work_id).where(d.c.registration_number == n))}
        wids |= {w for (w,) in c.execute(select(lk.c.work_id).join_from(lk, r, lk.c.registration_id == r.c.id)
                                         .where(r.c.number == n, lk.c.status == "accepted"))}
        return f"registration {n}", sorted(wids)
    tk, nk, fq = title_key(q), name_key(q), fold(q)
    if not fq:
        raise AscertainError(query, "has no letters or digits", "type a title, author, ISBN or registration number")
    # the folded keys first, in one table (a substring of a folded key: no wildcard to escape, ~3x faster than
    # LIKE over the joined tables at 100,000 works); claimants' names and the raw titles when the keys find
    # nothing (an author's name is in the author key; a publisher's is found by the second search)
    position = func.instr if c.dialect.name == "sqlite" else func.strpos  # 1-based, 0 when absent; PostgreSQL
    conds = [position(col, key) > 0 for col, key in ((d.c.title_key, tk), (d.c.author_key, nk)) if key]
    hits = [w for (w,) in c.execute(select(d.c.work_id).where(or_(*conds)).order_by(d.c.work_id)
                                    .limit(MAX_RESULTS + 1))] if conds else []
    if not hits:
        owners = select(s.claimants.c.id).where(func.lower(s.claimants.c.name).like(f"%{q.lower()}%"))
        hits = [w for (w,) in c.execute(select(s.works.c.id).where(or_(
            s.works.c.claimant_id.in_(owners), func.lower(s.works.c.title).like(f"%{q.lower()}%")))
            .order_by(s.works.c.id).limit(MAX_RESULTS + 1))]
    return f"title, author or claimant {q!r}", hits


class _PreparedWorkFiles:
    """Every work file of a case, prepared once per process, and an inverted index of their fingerprints.

    A lookup then prepares only the uploaded file and compares it with the work files that share at least one
    fingerprint with it: a pair with no shared fingerprint has no seed, so no span, and cannot be `copied`; the
    answer is the same as comparing with every file. Files added or replaced since are prepared on the next
    lookup (rows are keyed by id and sha256)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[int, tuple[str, int, str, Prepared]] = {}  # id -> (sha256, work id, path, prepared)
        self.by_hash: dict[int, list[int]] = {}
        self.state = (self.files, self.by_hash)
        self.head: int | None = None  # the audit log's newest entry when `state` was last checked

    def refresh(self, case: Case) -> tuple[dict[int, tuple[str, int, str, Prepared]], dict[int, list[int]]]:
        """(files, by_hash) as the store has them now. Changes are made on copies and swapped in whole, so a
        lookup running in another thread keeps iterating the snapshot it was given."""
        wf = s.work_files
        with case.store.engine.connect() as c:
            head = c.execute(select(func.max(s.audit_log.c.id))).scalar()
            state = self.state  # read once: files and by_hash of one and the same swap
            if head is not None and head == self.head:
                return state  # the store has not changed since (every write stage ends with an audit entry)
            current = {i: h for i, h in c.execute(select(wf.c.id, wf.c.sha256))}
        files = state[0]
        if len(current) == len(files) and all(i in files and files[i][0] == h for i, h in current.items()):
            self.head = head
            return state  # nothing changed, no lock taken
        with self.lock, case.store.engine.connect() as c:  # one thread prepares; the others wait, then reuse
            missing = [i for i, h in current.items() if i not in self.files or self.files[i][0] != h]
            if missing or len(current) != len(self.files):
                files = {i: v for i, v in self.files.items() if current.get(i) == v[0]}
                for lo in range(0, len(missing), 500):
                    rows = c.execute(select(wf.c.id, wf.c.work_id, wf.c.path, wf.c.sha256, wf.c.language,
                                            wf.c.text).where(wf.c.id.in_(missing[lo:lo + 500])))
                    for f in rows:
                        files[f.id] = (f.sha256, f.work_id, f.path,
                                       prepare(f.text, f.language, f.path, f.sha256, case.params))
                by_hash: dict[int, list[int]] = {}
                for i in sorted(files):
                    for h in np.unique(files[i][3].hashes).tolist():
                        by_hash.setdefault(h, []).append(i)
                self.files, self.by_hash = files, by_hash
                self.state = (files, by_hash)
            self.head = head
            return self.state


_PREPARED: dict[str, _PreparedWorkFiles] = {}


def _prepared_work_files(case: Case) -> tuple[dict[int, tuple[str, int, str, Prepared]], dict[int, list[int]]]:
    return _PREPARED.setdefault(str(case.root.resolve()), _PreparedWorkFiles()).refresh(case)


def prepare_work_files(case: Case) -> None:
    """Prepare the case's work files now (a worker does it before it times a lookup)."""
    _prepared_work_files(case)


def _by_file(case: Case, path: str, read: ReadOptions | None = None) -> tuple[str, list[int], dict[int, dict]]:
    from ascertain.match.compare import Comparer
    from ascertain.match.pairs import compare_prepared
    from ascertain.text.levels import DEFAULT_LEVEL

    p = Path(path)
    if not p.is_file():
        raise AscertainError(path, "is not a file", "pass the file to look up")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    cmp = Comparer(params=case.params)
    other = cmp.load(path, read).at(DEFAULT_LEVEL)
    files, by_hash = _prepared_work_files(case)
    found: dict[int, dict] = {}
    for i in sorted(i for i, v in files.items() if v[0] == digest):
        _, wid, wpath, _ = files[i]
        found[wid] = {"how": "identical bytes (sha256)", "work_file": wpath, "coverage": 1.0}  # last one, as before
    for i in sorted({i for h in np.unique(other.hashes).tolist() for i in by_hash.get(h, ())}):
        _, wid, wpath, prepared = files[i]
        if wid in found:
            continue
        r = compare_prepared(prepared, other, case.params, cmp.th, align=False)
        if r["copied"]:
            found[wid] = {"how": "fingerprints (compare)", "work_file": wpath,
                          "coverage": round(r["coverage"], 4), "longest_run_tokens": r["longest_run_tokens"]}
    return f"file {path} (sha256 {digest[:12]}…)", sorted(found), found


def lookup(case: Case, query: str | None, file: str | None = None, read: ReadOptions | None = None) -> dict:
    """The answer for a query or a file; `read` bounds how the file is read (the web lookup's limits)."""
    if not query and not file:
        raise AscertainError("lookup", "needs a QUERY or --file", "type a title, author, ISBN, registration number")
    if str(case.root.resolve()) not in _KEYS_CHECKED:  # keys folded by an older title_key: fold them again
        from ascertain.classes.registrations import refresh_title_keys

        refresh_title_keys(case)
        _KEYS_CHECKED.add(str(case.root.resolve()))
    file_hits: dict[int, dict] = {}
    if file:  # compared before a store connection is taken: many lookups at once must not drain the pool
        what, wids, file_hits = _by_file(case, file, read)
    with case.store.engine.connect() as c:
        if not file:
            what, wids = _by_query(c, query or "")
        state = c.execute(select(func.max(s.audit_log.c.id))).scalar()
        run_id = c.execute(select(func.max(s.class_decisions.c.run_id))).scalar()
    shown = wids[:MAX_RESULTS]
    answers = _answers(case, state, run_id, shown)
    results = [{**answers[wid], **({"file_match": file_hits[wid]} if wid in file_hits else {})} for wid in shown]
    return {"query": what, "class_run": run_id, "matches": len(wids), "shown": len(results),
            "more": len(wids) > MAX_RESULTS, "results": results,
            **({} if run_id is not None else {"note": "no classes run yet: `ascertain classes CASE --file ...`"})}


# Each work's answer, kept per process for one state of the store: every write stage ends with an audit entry,
# so the newest audit entry's id names the state; when it moves, the answers are made again.
_ANSWERS: dict[str, tuple[tuple, dict[int, dict]]] = {}
_ANSWERS_LOCK = threading.Lock()


def _answers(case: Case, state: int | None, run_id: int | None, wids: list[int]) -> dict[int, dict]:
    key = str(case.root.resolve())
    with _ANSWERS_LOCK:
        held = _ANSWERS.get(key)
        if held is None or held[0] != (state, run_id):
            held = _ANSWERS[key] = ((state, run_id), {})
    cache = held[1]
    missing = [w for w in wids if w not in cache]
    if missing:
        made = _work_answers(case, run_id, missing)
        with _ANSWERS_LOCK:
            cache.update(made)
    return {w: cache[w] for w in wids}


def _work_answers(case: Case, run_id: int | None, wids: list[int]) -> dict[int, dict]:
    d = s.class_decisions
    decisions: dict[int, list[dict]] = {}
    if run_id is not None:
        with case.store.engine.connect() as c:
            for r in c.execute(select(d).where(d.c.work_id.in_(wids)).order_by(d.c.id)).mappings():
                decisions.setdefault(r["work_id"], []).append(dict(r))
    setting = infringement_setting(case)
    facts = gather(case, wids)
    out = {}
    for wid in wids:
        f = facts[wid]
        by_class: dict[str, list[dict]] = {}
        for x in decisions.get(wid, []):
            by_class.setdefault(x["class_name"], []).append(
                {"criterion": x["criterion"], "wanted": x["wanted"], "value": x["value"], "passed": x["passed"],
                 "evidence_ids": x["evidence_ids"]})
        classes = sorted(k for k, v in by_class.items() if all(x["passed"] for x in v))
        out[wid] = {
            "work_id": wid, "title": f.title, "authors": f.authors, "owners": f.owners, "on_the_list": bool(classes),
            "classes": classes, "why": by_class,
            "in_corpus_by_content": f.content_evidence, "in_corpus_by_identifier": f.identifier_hits,
            "output_evidence": f.output_evidence,
            "registrations": [{k: r.get(k) for k in ("number", "effective_date", "publication_date", "method", "score",
                                                     "group_registration", "listed_as")} for r in f.registrations],
            "s412": decide(f, setting).as_dict()}
    return out
