"""Class files (TOML, read by tomllib: data only, no code) and their evaluation: one decision per work,
class and criterion, stored; member lists written to CSV and Parquet.

    unit = "work"                   # unit of account: "work" or "registration"
    infringement_began = "auto"     # or a date for the whole case (else per source: --acquired, outputs)

    [[class]]
    name = "registered-in-corpus"
    description = "Registered books found in the training corpus"
    [class.criteria]
    in_corpus = true
    registered = true

    [[class.subclass]]
    name = "statutory-damages"
    [class.subclass.criteria]
    s412 = "eligible"
"""

from __future__ import annotations

import hashlib
import re
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert

from ascertain.case import Case
from ascertain.classes.disputes import by_class_and_work
from ascertain.classes.disputes import label as dispute_label
from ascertain.classes.eligibility import Eligibility, decide
from ascertain.classes.facts import WorkFacts, gather
from ascertain.classes.public_domain import public_domain_works
from ascertain.errors import AscertainError
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.text.bibliographic import parse_date

# field -> (kind, what it means); kinds: bool, number (">= x" or x), choice (a value or a list of values)
FIELDS: dict[str, tuple[str, str]] = {
    "in_corpus": ("bool", "in a training corpus by content or by identifier"),
    "in_corpus_by_content": ("bool", "a copy of the work's text was found in a corpus (evidence)"),
    "in_corpus_by_identifier": ("bool", "a corpus record's own metadata names the work (ISBN, title + author)"),
    "copied": ("bool", "a copy was found in any source (corpus or model outputs)"),
    "coverage": ("number", "largest share of the work's fingerprints found in one copy"),
    "longest_run": ("number", "longest verbatim run in tokens in any copy"),
    "regurgitated": ("bool", "a copy was found in model outputs"),
    "cmi_status": ("choice", "CMI status of any copy: retained, altered, removed, never_present"),
    "registered": ("bool", "an accepted link to a registration"),
    "s412": ("choice", "§412 eligibility: eligible, not eligible, unknown"),
    "language": ("choice", "the work's language"),
    "work_type": ("choice", "the work's type (book, article, code, ...)"),
    "claimant_role": ("choice", "a role one of the owners holds: legal owner, beneficial owner, co-owner"),
    "in_corpus_tier": ("choice", "the strongest route into a corpus: text (a copy of the text found), identifier "
                                 "(a corpus record's ISBN), metadata (a corpus record's title/author), none"),
    "registration_tier": ("choice", "how the registration link was made: identifier (number, ISBN), metadata "
                                    "(title + author score), reviewer (a person's decision), none"),
}
# Evidence tiers, strongest first: a member's tier in a class is the weakest of the routes its criteria rest on.
TIERS = ("text", "identifier", "reviewer", "metadata")
TOP_KEYS = {"unit", "infringement_began", "class"}
CLASS_KEYS = {"name", "description", "criteria", "subclass", "require_tier"}
UNITS = ("work", "registration")
_CMP = re.compile(r"^\s*(>=|<=|>|<|==)?\s*(-?[0-9.]+)\s*$")


@dataclass
class Criterion:
    field: str
    wanted: object
    line: int

    def text(self) -> str:
        return f"{self.field} = {self.wanted!r}"


@dataclass
class ClassDef:
    name: str
    description: str
    criteria: list[Criterion]
    subclasses: list[ClassDef] = field(default_factory=list)
    require_tier: str | None = None


@dataclass
class ClassFile:
    path: str
    sha256: str
    unit: str
    infringement_began: str | None
    classes: list[ClassDef]


def _line_of(text: str, key: str, after: int = 0) -> int:
    lines = text.splitlines()
    for n in range(after, len(lines)):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[n]) or re.search(rf"[{{,]\s*{re.escape(key)}\s*=", lines[n]):
            return n + 1
    return after + 1


def load_class_file(path: str) -> ClassFile:
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise AscertainError(path, f"cannot open the class file ({e.strerror})",
                             "write one with `ascertain classes CASE --init` (a commented example listing every "
                             "criterion), or pass --file; the format: `ascertain classes --help`") from e
    text = raw.decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise AscertainError(path, f"is not valid TOML ({e})", "correct that line") from e

    def bad(key: str, problem: str, fix: str, after: int = 0):
        raise AscertainError(f"{path}:{_line_of(text, key, after)}", problem, fix)

    for k in data:
        if k not in TOP_KEYS:
            bad(k, f"unknown setting {k!r}", f"use {', '.join(sorted(TOP_KEYS))}")
    unit = data.get("unit", "work")
    if unit not in UNITS:
        bad("unit", f"unit of account {unit!r} is unknown", "write unit = \"work\" or unit = \"registration\"")
    began = data.get("infringement_began", "auto")
    if began != "auto":
        try:
            began = parse_date(began)
        except ValueError as e:
            bad("infringement_began", str(e), "write a date, or \"auto\"")
    if not isinstance(data.get("class"), list) or not data["class"]:
        raise AscertainError(path, "defines no class", "add a [[class]] table with a name and [class.criteria]")
    names: set[str] = set()

    def parse_class(d: dict, prefix: str) -> ClassDef:
        name = d.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
            raise AscertainError(path, f"a class has no usable name ({name!r})",
                                 "give each [[class]] name = \"letters-digits-._\"")
        full = f"{prefix}{name}"
        if full in names:
            bad("name", f"class {full!r} is defined twice", "give each class its own name")
        names.add(full)
        at = _line_of(text, "name", 0)
        for n, line in enumerate(text.splitlines()):
            if re.match(rf"\s*name\s*=\s*[\"']{re.escape(name)}[\"']", line):
                at = n
                break
        for k in d:
            if k not in CLASS_KEYS:
                bad(k, f"unknown key {k!r} in class {full!r}", f"use {', '.join(sorted(CLASS_KEYS))}", at)
        crits = []
        for k, v in (d.get("criteria") or {}).items():
            line = _line_of(text, k, at)
            if k not in FIELDS:
                raise AscertainError(f"{path}:{line}", f"unknown field {k!r} in class {full!r}",
                                     f"use one of: {', '.join(FIELDS)}")
            kind = FIELDS[k][0]
            ok = (isinstance(v, bool) if kind == "bool" else
                  (isinstance(v, int | float) and not isinstance(v, bool)) or (isinstance(v, str) and _CMP.match(v))
                  if kind == "number" else isinstance(v, str) or (isinstance(v, list) and all(
                      isinstance(x, str) for x in v)))
            if not ok:
                want = {"bool": "true or false", "number": "a number or a comparison such as \">= 0.5\"",
                        "choice": "a string or a list of strings"}[kind]
                raise AscertainError(f"{path}:{line}", f"{k} = {v!r} in class {full!r} is not {want}",
                                     f"write {k} = {want}")
            crits.append(Criterion(k, v, line))
        if not crits:
            raise AscertainError(path, f"class {full!r} has no criteria", "add a [class.criteria] table")
        req = d.get("require_tier")
        if req is not None and req not in TIERS:
            bad("require_tier", f"require_tier = {req!r} in class {full!r} is not a tier",
                f"write one of {', '.join(TIERS)} (strongest first; a member needs that tier or a stronger one)", at)
        return ClassDef(full, str(d.get("description", "")), crits,
                        [parse_class(sd, f"{full}/") for sd in d.get("subclass", [])], req)

    classes = [parse_class(d, "") for d in data["class"]]
    return ClassFile(path, hashlib.sha256(raw).hexdigest(), unit, None if began == "auto" else began, classes)


def value_of(f: WorkFacts, elig: Eligibility, name: str) -> tuple[object, list[int]]:
    """The work's value for a field and the evidence ids behind it."""
    if name == "in_corpus":
        return bool(f.content_evidence or f.identifier_hits), f.content_evidence
    if name == "in_corpus_by_content":
        return bool(f.content_evidence), f.content_evidence
    if name == "in_corpus_by_identifier":
        return bool(f.identifier_hits), []
    if name == "copied":
        return bool(f.content_evidence or f.output_evidence), f.content_evidence + f.output_evidence
    if name == "coverage":
        return round(f.coverage, 4), f.content_evidence + f.output_evidence
    if name == "longest_run":
        return f.longest_run, f.content_evidence + f.output_evidence
    if name == "regurgitated":
        return bool(f.output_evidence), f.output_evidence
    if name == "cmi_status":
        return f.cmi_status, f.content_evidence + f.output_evidence
    if name == "registered":
        return bool(f.registrations), []
    if name == "s412":
        return elig.status, []
    if name == "language":
        return f.language or "", []
    if name == "work_type":
        return f.work_type or "", []
    if name == "claimant_role":
        return sorted({o["role"] for o in f.owners}), []
    if name == "in_corpus_tier":
        return corpus_route(f)[0], f.content_evidence
    if name == "registration_tier":
        return registration_route(f)[0], []
    raise AssertionError(name)


CORPUS_FIELDS = {"in_corpus", "in_corpus_by_content", "in_corpus_by_identifier", "copied", "coverage",
                 "longest_run", "regurgitated", "cmi_status", "in_corpus_tier"}
REGISTRATION_FIELDS = {"registered", "s412", "registration_tier"}


def corpus_route(f: WorkFacts) -> tuple[str, dict]:
    """The strongest route by which the work is in a corpus (or was reproduced), and what it rests on."""
    if f.content_evidence or f.output_evidence:
        return "text", {"evidence_ids": f.content_evidence + f.output_evidence, "coverage": round(f.coverage, 4),
                        "longest_run_tokens": f.longest_run}
    hits = [h for h in f.identifier_hits if "isbn" in h.get("fields", [])]
    if hits:
        return "identifier", {"hits": hits}
    if f.identifier_hits:  # a corpus record's own title (and author) equal the work's, folded: score 1.0
        fields = sorted({x for h in f.identifier_hits for x in h.get("fields", ["title"])})
        return "metadata", {"hits": f.identifier_hits, "fields": fields, "score": 1.0}
    return "none", {}


def registration_route(f: WorkFacts) -> tuple[str, dict]:
    if not f.registrations:
        return "none", {}
    r = f.registrations[0]
    base = {"registration": r["number"], "link_id": r.get("link_id")}
    if r.get("decided_by") == "reviewer":
        return "reviewer", {**base, "method": r["method"], "score": r["score"]}
    if r["method"] in ("registration_number", "isbn"):
        return "identifier", {**base, "by": r["method"]}
    agreeing = {k: v for k, v in (r.get("agreeing") or {}).items() if k in ("title_key", "author_key", "year")}
    return "metadata", {**base, "fields": agreeing, "score": r["score"]}


def membership_tier(f: WorkFacts, cls: ClassDef, dispute: dict | None) -> tuple[str, dict]:
    """The member's tier in the class: the weakest route its criteria rest on (criteria wanting a fact to be
    absent rest on none); a dispute the master rejected makes it a reviewer's decision."""
    fields = {c.field for c in cls.criteria if c.wanted is not False}
    detail: dict = {}
    tiers = []
    if fields & CORPUS_FIELDS:
        t, d = corpus_route(f)
        detail["in_corpus"] = {"tier": t, **d}
        if t != "none":
            tiers.append(t)
    if fields & REGISTRATION_FIELDS and f.registrations:
        t, d = registration_route(f)
        detail["registration"] = {"tier": t, **d}
        tiers.append(t)
    tier = max(tiers, key=TIERS.index) if tiers else "metadata"
    if not tiers:
        detail["fields"] = sorted(fields)  # listed facts only (language, type, role): the works list's metadata
    if dispute and dispute["status"] == "rejected":
        detail["dispute"] = {"id": dispute["id"], "resolution": dispute["resolution"], "by": dispute["resolved_by"]}
        tier = "reviewer"
    return tier, detail


def test(c: Criterion, value: object) -> bool:
    kind = FIELDS[c.field][0]
    if kind == "bool":
        return bool(value) == c.wanted
    if kind == "number":
        m = _CMP.match(str(c.wanted))
        op, x = (m.group(1) or ">=", float(m.group(2))) if m else (">=", float(c.wanted))  # type: ignore[arg-type]
        v = float(value)  # type: ignore[arg-type]
        return {">=": v >= x, "<=": v <= x, ">": v > x, "<": v < x, "==": v == x}[op]
    wanted = {c.wanted} if isinstance(c.wanted, str) else set(c.wanted)  # type: ignore[arg-type]
    have = set(value) if isinstance(value, list) else {value}
    return bool(wanted & have)


def _flat(classes: list[ClassDef]) -> list[tuple[ClassDef, ClassDef | None]]:
    out = []
    for c in classes:
        out.append((c, None))
        out.extend((s, c) for s in c.subclasses)
    return out


def evaluate(case: Case, class_file: str, out_dir: Path | None = None) -> dict:
    cf = load_class_file(class_file)
    t0 = time.perf_counter()
    facts = gather(case)
    elig = {wid: decide(f, cf.infringement_began) for wid, f in facts.items()}
    ownership = apply_transfers(case, facts, elig)
    disputed = by_class_and_work(case)
    # a public-domain work has no owner to be a member: out of every class, with the reason as its decision
    began = cf.infringement_began if cf.infringement_began not in (None, "auto") else None
    as_of = int(str(began)[:4]) if began else int(now()[:4])  # the year the public-domain rule is applied in
    pd = public_domain_works(case, {wid: f.publication_date for wid, f in facts.items()}, as_of)
    decisions: list[dict] = []
    members: dict[str, list[int]] = {}
    tiers: dict[tuple[str, int], tuple[str, dict]] = {}
    for cls, parent in _flat(cf.classes):
        inside = set(members[parent.name]) if parent else None
        members[cls.name] = []
        for wid, f in facts.items():
            if inside is not None and wid not in inside:
                continue
            ok_all = True
            for crit in cls.criteria:
                value, ev = value_of(f, elig[wid], crit.field)
                passed = test(crit, value)
                ok_all &= passed
                shown = str(value)
                if crit.field == "in_corpus" and value:  # which route decided: content, identifier or both
                    shown += " (by " + " + ".join(r for r, on in (("content", f.content_evidence),
                                                                   ("identifier", f.identifier_hits)) if on) + ")"
                decisions.append({"class_name": cls.name, "work_id": wid, "criterion": crit.field,
                                  "wanted": str(crit.wanted), "value": shown, "passed": passed,
                                  "evidence_ids": ev})
            if not ok_all:
                continue
            if wid in pd:
                decisions.append({"class_name": cls.name, "work_id": wid, "criterion": "public_domain",
                                  "wanted": "no", "value": pd[wid], "passed": False, "evidence_ids": []})
                continue
            dispute = disputed.get((cls.name, wid))
            tier = membership_tier(f, cls, dispute)
            if cls.require_tier:
                passed = TIERS.index(tier[0]) <= TIERS.index(cls.require_tier)
                decisions.append({"class_name": cls.name, "work_id": wid, "criterion": "require_tier",
                                  "wanted": cls.require_tier, "value": tier[0], "passed": passed,
                                  "evidence_ids": tier[1].get("in_corpus", {}).get("evidence_ids", [])})
                if not passed:
                    continue
            if dispute and dispute["status"] == "upheld":  # the master removed the work from this class
                decisions.append({"class_name": cls.name, "work_id": wid, "criterion": "dispute",
                                  "wanted": "not upheld", "value": f"upheld #{dispute['id']}: "
                                  f"{dispute['resolution']}", "passed": False, "evidence_ids": []})
                continue
            tiers[(cls.name, wid)] = tier
            members[cls.name].append(wid)
    out_dir = out_dir or case.root / "reports" / "classes"
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = case.root / "classes" / f"classes-{cf.sha256[:12]}.toml"  # the class file, versioned in the case
    kept.parent.mkdir(exist_ok=True)
    kept.write_bytes(Path(class_file).read_bytes())
    counts = {}
    files = {}
    for name, wids in members.items():
        rows = member_rows(facts, elig, wids, cf.unit, {w: tiers[(name, w)] for w in wids},
                           {w: disputed.get((name, w)) for w in wids}, ownership)
        counts[name] = {"works": len(wids), "units": len(rows), "unit": cf.unit,
                        "owners": len({(o["name"], o["role"]) for w in wids for o in facts[w].owners})}
        files[name] = {k: _case_path(case, v) for k, v in write_members(rows, out_dir / name.replace("/", "__"))
                       .items()}
    s412 = {}
    for e in elig.values():
        s412[e.status] = s412.get(e.status, 0) + 1
    by_tier: dict[str, dict[str, int]] = {}
    for (name, _), (t, _) in sorted(tiers.items()):
        by_tier.setdefault(name, {}).setdefault(t, 0)
        by_tier[name][t] += 1
    dispute_counts: dict[str, dict[str, int]] = {}
    for (name, _), x in sorted(disputed.items()):
        dispute_counts.setdefault(name, {}).setdefault(x["status"], 0)
        dispute_counts[name][x["status"]] += 1
    seconds = round(time.perf_counter() - t0, 3)
    manifest = {"class_file": class_file, "class_file_sha256": cf.sha256, "kept_as": str(kept.relative_to(case.root)),
                "unit": cf.unit, "infringement_began": cf.infringement_began or "auto", "works": len(facts),
                "counts": counts, "tiers": by_tier, "disputes": dispute_counts, "s412": dict(sorted(s412.items())),
                "ownership_conflicts": {str(w): o["conflicts"] for w, o in sorted(ownership.items()) if o["conflicts"]},
                "files": files, "seconds": seconds}
    with case.store.begin() as c:
        run_id = c.execute(insert(schema.runs).values(stage="classes", manifest=manifest, started_at=now(),
                                                      seconds=seconds)).inserted_primary_key[0]
        c.execute(delete(schema.class_decisions))  # the latest run's decisions; older runs keep their manifest
        for i in range(0, len(decisions), 20_000):
            c.execute(insert(schema.class_decisions), [{**d, "run_id": run_id} for d in decisions[i:i + 20_000]])
        c.execute(delete(schema.class_memberships))
        ms = [{"run_id": run_id, "class_name": n, "work_id": w, "tier": t, "detail": d}
              for (n, w), (t, d) in tiers.items()]
        for i in range(0, len(ms), 20_000):
            c.execute(insert(schema.class_memberships), ms[i:i + 20_000])
    case.store.audit("classes", {k: v for k, v in manifest.items() if k != "files"})
    return {"run_id": run_id, **manifest}


def owners_by_role(f: WorkFacts) -> dict[str, str]:
    out: dict[str, list[str]] = {"legal owner": [], "beneficial owner": [], "co-owner": []}
    for o in f.owners:
        share = f" ({o['share']:.0%})" if o["share"] is not None else ""
        out.setdefault(o["role"], []).append(o["name"] + share)
    return {k: "; ".join(v) for k, v in out.items()}


def apply_transfers(case: Case, facts: dict[int, WorkFacts], elig: dict[int, Eligibility]) -> dict[int, dict]:
    """Owners on the date infringement began (transfers and licences applied, facts changed in place), with
    what changed and the conflicts that go to review."""
    from ascertain.classes.ownership import claimant_conflicts, owners_at, transfers

    moves = transfers(case)
    two_claimants = claimant_conflicts(facts)
    out = {}
    for wid, f in facts.items():
        owners, notes, conflicts = owners_at(f.owners, moves.get(wid, []), elig[wid].infringement_began)
        f.owners = owners
        out[wid] = {"notes": notes, "conflicts": conflicts + ([two_claimants[wid]] if wid in two_claimants else [])}
    return out


def member_rows(facts: dict[int, WorkFacts], elig: dict[int, Eligibility], wids: list[int], unit: str,
                tiers: dict[int, tuple[str, dict]] | None = None, disputes: dict[int, dict | None] | None = None,
                ownership: dict[int, dict] | None = None) -> list[dict]:
    import json

    rows = []
    for wid in wids:
        f, e = facts[wid], elig[wid]
        tier, detail = (tiers or {}).get(wid, ("", {}))
        routes = [r for r, on in (("content", f.content_evidence), ("identifier", f.identifier_hits)) if on]
        base = {"unit_of_account": unit, "work_id": wid, "title": f.title, "authors": "; ".join(f.authors),
                **{k.replace(" ", "_").replace("-", "_") + "s": v for k, v in owners_by_role(f).items()},
                "in_corpus_by": " + ".join(routes), "evidence_ids": " ".join(map(str, f.content_evidence)),
                "output_evidence_ids": " ".join(map(str, f.output_evidence)),
                "identifier_hits": "; ".join(f"{h['source']}:{h['document']} ({h['by']})" for h in f.identifier_hits),
                "s412": e.status, "s412_reason": e.reason, "infringement_began": e.infringement_began or "",
                "s412_dates": "; ".join(x for x in (
                    f"infringement began {e.infringement_began} ({e.infringement_source})" if e.infringement_began
                    else "", f"published {e.publication_date} ({e.publication_source})" if e.publication_date
                    else "", f"registered {e.effective_date} ({e.registration_source})" if e.effective_date
                    else "") if x),
                "tier": tier, "tier_detail": json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else "",
                "dispute": dispute_label((disputes or {}).get(wid)),
                "ownership": "; ".join([*(f"CONFLICT (to review): {x}" for x in (ownership or {}).get(wid, {}).get(
                    "conflicts", [])), *(ownership or {}).get(wid, {}).get("notes", [])])}
        regs = f.registrations if unit == "registration" and f.registrations else [None]
        for r in regs:
            if r is None:
                r = f.registrations[0] if f.registrations else {}
            rows.append({**base, "registration": r.get("number", ""), "effective_date": r.get("effective_date", ""),
                         "group_registration": bool(r.get("group_registration")),
                         "link": f"{r['method']} {r['score']:.3f}" if r else ""})
    if unit == "registration":  # a group registration is one unit however many works it covers
        seen, out = set(), []
        for row in rows:
            key = row["registration"] or f"work {row['work_id']}"
            if key in seen:
                continue
            seen.add(key)
            out.append(row)
        return out
    return rows


COLUMNS = ("unit_of_account", "work_id", "title", "authors", "legal_owners", "beneficial_owners", "co_owners",
           "registration", "effective_date", "group_registration", "link", "s412", "s412_reason",
           "infringement_began", "s412_dates", "in_corpus_by", "evidence_ids", "output_evidence_ids", "identifier_hits",
           "tier", "tier_detail", "dispute", "ownership", "exclusive_licensees")


def _case_path(case: Case, path: str) -> str:
    """A path inside the case as relative to it (a moved or copied case still finds its files), else as is."""
    p, root = Path(path).resolve(), case.root.resolve()
    return p.relative_to(root).as_posix() if p.is_relative_to(root) else str(path)


def write_members(rows: list[dict], stem: Path) -> dict:
    import pyarrow as pa

    from ascertain.classes.sheets import write_csv
    from ascertain.index.shards import write_parquet_atomic

    write_csv(f"{stem}.csv", COLUMNS, rows)
    table = pa.table({k: pa.array([r.get(k, "") for r in rows],
                                  pa.bool_() if k == "group_registration" else
                                  pa.int64() if k == "work_id" else pa.string()) for k in COLUMNS})
    write_parquet_atomic(table, Path(f"{stem}.parquet"))
    return {"csv": f"{stem}.csv", "parquet": f"{stem}.parquet"}
