"""What a judge reads first: the questions answered in plain language with their numbers and error rates, the
limitations, the Rule 26(a)(2)(B) elements, the class members and the sample; and the long copies summarized
(their full alignment stays in the exhibit file)."""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from pathlib import Path, PurePosixPath

from ascertain.case import Case

SUMMARY_ROWS = 60  # an exhibit with more side-by-side rows is summarized in the report
PASSAGE_ROWS = 10  # rows of one differing passage shown in a summary (context included)
CELL_CHARS = 240  # a line longer than this (a reflowed paragraph) is cut in a summary, marked with "…"
SUMMARY_DIFFERENCES = 12  # differences listed in a summary; the exhibit file lists them all
TABLE_ROWS = 200  # rows of the per-copy, member and sample tables printed; the CSV/Parquet files hold them all

LIMITATIONS = [
    ("Training use", "A copy in an indexed corpus shows that the corpus holds the work. It does not show that a "
     "model was trained on that corpus, on that document, or how often: only the defendant's pipeline records "
     "(filter and deduplication decisions, the training mixture, tokenized shards) can show that, and the report "
     "traces each copy through them where they were produced."),
    ("Intent and knowledge", "§1202(b) requires that CMI was removed or altered knowingly, with reason to know that "
     "it would induce, enable, facilitate or conceal infringement. The tool measures what the copies carry; it "
     "says nothing of anyone's knowledge or intent."),
    ("Ownership and registration", "Claimants, owners, roles and registrations are as the parties' records give "
     "them (works lists, registration records, reviewers' decisions). The tool links them and applies §411(a) and "
     "§412 to the dates; it does not establish title, and a registration it shows is not proof of validity."),
    ("Public domain", "A work is labelled public domain by the user's flag or by its publication date (more than 95 "
     "years before the year of the match run). A work published abroad, a renewal question or a later edition "
     "with new expression needs the parties' own analysis."),
    ("Scope of the search", "Only the sources indexed in this case were searched. A work absent from them may be "
     "in another corpus; a copy shorter than the detection guarantee, or a paraphrase, is not counted as a copy."),
    ("Model outputs", "A model output reproducing a work shows what the model produced for that prompt; it does not "
     "show how often a user would see it. Probe results are measured on the stated model and settings only."),
]

RULE26_EXPERT_ITEMS = ("qualifications, including publications of the previous 10 years",
                       "cases of the previous 4 years in which the expert testified",
                       "compensation for the study and testimony")


def shown_path(path: str, roots: list[str]) -> str:
    """A path as the report prints it: relative to the folder an input was added from (the input's parent),
    else as stored when relative (inside the case folder), else its last three parts. Never a machine's
    absolute path."""
    p = path.replace("\\", "/")
    if not p.startswith("/") and not (len(p) > 1 and p[1] == ":"):
        return p
    best = ""
    for r in roots:
        parent = str(PurePosixPath(r.replace("\\", "/")).parent)
        if p.startswith(parent.rstrip("/") + "/") and len(parent) > len(best):
            best = parent
    if best:
        return p[len(best.rstrip("/")) + 1:]
    parts = p.split("/")
    return "…/" + "/".join(parts[-3:])


def case_roots(case: Case, data) -> list[str]:
    """Every folder or file an input of the case was added from (works and sources), absolute."""
    roots = [os.path.abspath(case.root)]
    for w in data.works.values():
        roots += [str(i) for i in (w.get("inputs") or [])]
    for s in data.sources.values():
        roots += [str(i["path"] if isinstance(i, dict) else i) for i in (s.get("inputs") or [])]
    return roots


def source_inputs(data, roots: list[str]) -> list[tuple[str, str]]:
    """(what, sha256) of every input a source was indexed from: a file's sha256, a folder's listing digest."""
    out = []
    for s in data.sources.values():
        for i in s.get("inputs") or []:
            if isinstance(i, dict):
                what = "folder listing" if i.get("kind") == "folder" else "file"
                out.append((f"{s['name']} input {what} {shown_path(str(i.get('path', '')), roots)}"
                            + (f" ({i['files']:,} files)" if i.get("files") else ""),
                            i.get("sha256") or i.get("listing_sha256") or ""))
    return out


def _differing_runs(rows: list) -> list[tuple[int, int]]:
    """(first, last) row index of each run of rows that are not the same text."""
    runs, start = [], None
    for i, r in enumerate(rows):
        differs = r.kind not in ("equal", "gap")
        if differs and start is None:
            start = i
        if not differs and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(rows) - 1))
    return runs


def summarize(e: dict) -> dict:
    """A long exhibit as the report prints it: its figures, its first and its longest differing passages and
    its first differences; the exhibit file beside the report holds the full alignment."""
    rows = e["rows"]
    if len(rows) <= SUMMARY_ROWS:
        return e
    runs = _differing_runs(rows)
    passages = []
    if runs:
        first = runs[0]
        longest = max(runs, key=lambda r: (r[1] - r[0], -r[0]))
        for label, (a, b) in (("first differing passage", first), ("longest differing passage", longest)):
            if passages and (a, b) == passages[0]["span"]:
                passages[0]["label"] = "first and longest differing passage"
                continue
            lo, hi = max(0, a - 2), min(len(rows), min(b + 3, a - 2 + PASSAGE_ROWS) if b - a > PASSAGE_ROWS
                                        else b + 3)
            passages.append({"label": label, "span": (a, b), "rows": [_cut(r) for r in rows[max(0, lo):hi]],
                             "differing_rows": b - a + 1})
    else:
        passages.append({"label": "opening rows (the copy has no differing passage)", "span": (0, 0),
                         "rows": [_cut(r) for r in rows[:PASSAGE_ROWS]], "differing_rows": 0})
    diffs = e.get("differences") or []
    return {**e, "summarized": True, "rows": [], "passages": passages, "rows_total": len(rows),
            "differing_runs": len(runs), "differing_rows": sum(b - a + 1 for a, b in runs),
            "differences_shown": diffs[:SUMMARY_DIFFERENCES], "differences_total": len(diffs)}


def _cut(r):
    """A row with each side cut to CELL_CHARS characters (the exhibit file has the whole line)."""
    def cut(t: str | None) -> str | None:
        return t if t is None or len(t) <= CELL_CHARS else t[:CELL_CHARS] + " …"
    if (r.o_text is None or len(r.o_text) <= CELL_CHARS) and (r.c_text is None or len(r.c_text) <= CELL_CHARS):
        return r
    return replace(r, o_text=cut(r.o_text), c_text=cut(r.c_text))


def members(classes: dict | None, case: Case, published: dict[int, str | None],
            public_domain: dict[int, str | None]) -> list[dict]:
    """One row per member work of the classes of the last `classes` run (from its member lists): the classes it
    is in, how it entered, its evidence ids (or metadata only), owners and roles, registration and
    publication, §412 and its reason."""
    if not classes:
        return []
    by_work: dict[str, dict] = {}
    for name, files in sorted((classes.get("files") or {}).items()):
        p = Path(files["csv"])
        if not p.is_absolute():
            p = case.root / p
        if not p.exists():
            continue
        with open(p, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                key = r.get("work_id", "")
                if key in by_work:
                    by_work[key]["classes"].append(name)
                    continue
                owners = [f"{o} (legal owner)" for o in _split(r.get("legal_owners"))]
                owners += [f"{o} (beneficial owner)" for o in _split(r.get("beneficial_owners"))]
                owners += [f"{o} (co-owner)" for o in _split(r.get("co_owners"))]
                ev = " ".join(x for x in (r.get("evidence_ids", ""), r.get("output_evidence_ids", "")) if x).split()
                by_work[key] = {"classes": [name], "work_id": key, "title": r.get("title", ""),
                                "entered_by": r.get("in_corpus_by") or ("output" if r.get("output_evidence_ids")
                                                                        else "criteria"),
                                "evidence": ", ".join(ev) if ev else "metadata only",
                                "owners": "; ".join(owners) or "–", "registration": r.get("registration") or "none",
                                "registered": r.get("effective_date") or "–",
                                "published": published.get(_int(key)) or "–",
                                "s412": r.get("s412", ""), "s412_reason": r.get("s412_reason", ""),
                                "public_domain": public_domain.get(_int(key))}
    return sorted(by_work.values(), key=lambda m: _int(m["work_id"]))


def _split(v: str | None) -> list[str]:
    return [x.strip() for x in (v or "").split(";") if x.strip()]


def _int(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return -1


def sampling(case: Case) -> list[dict]:
    """Every sample drawn in the case: its plan (class, population, size, seed, strata), the works drawn with
    their labels, and the estimates with their intervals (classes/estimates.py)."""
    from sqlalchemy import select

    from ascertain.classes.estimates import estimate
    from ascertain.store import schema as s

    out = []
    with case.store.engine.connect() as c:
        samples = [dict(r) for r in c.execute(select(s.samples).order_by(s.samples.c.id)).mappings()]
        titles = {r.id: r.title for r in c.execute(select(s.works.c.id, s.works.c.title))}
        items = {}
        for r in c.execute(select(s.sample_items).order_by(s.sample_items.c.sample_id, s.sample_items.c.work_id)
                           ).mappings():
            items.setdefault(r["sample_id"], []).append(dict(r))
    for smp in samples:
        est = estimate(case, smp["class_name"], smp["id"])
        protocol = _protocol(case, smp["id"])
        final = protocol.pop("final") if protocol else {}
        draws = [{"work_id": i["work_id"], "title": titles.get(i["work_id"], ""), "stratum": i["stratum"],
                  "copied": _label(final[i["work_id"]][0] if i["work_id"] in final else i["copied"]),
                  "in_corpus": _label(final[i["work_id"]][1] if i["work_id"] in final else i["in_corpus"]),
                  "reviewer": i["reviewer"] or ("adjudicated double labels" if i["work_id"] in final else "")}
                 for i in items.get(smp["id"], [])]
        measures = []
        for key, words in (("confirmed_copied", "confirmed copied"), ("uninjured", "uninjured (neither copied "
                                                                                     "nor in the corpus)")):
            r = est.get(key)
            if r:
                measures.append({"measure": words, "x": r["x"], "n": r["n"], "estimate": r["estimate"],
                                 "cp": r["clopper_pearson"], "wilson": r["wilson"],
                                 "members": r["members_estimate"], "stratified": r.get("stratified")})
        out.append({"id": smp["id"], "class": smp["class_name"], "population": smp["population"],
                    "size": smp["size"], "seed": smp["seed"], "strata": smp["strata"] or "none (simple random)",
                    "draws": draws, "labelled": est.get("labelled", 0), "measures": measures,
                    "note": est.get("note", ""), "protocol": protocol})
    return out


def _protocol(case: Case, sample_id: int) -> dict | None:
    """A sample drawn under a protocol (classes/protocol.py): what was fixed before the draw and hashed, the
    blinded double labels' agreement and hashes, and the final (adjudicated) labels the estimate uses."""
    from ascertain.classes import protocol as protocols
    from ascertain.classes.estimates import sampling_section

    prot = protocols.of_sample(case, sample_id)
    if prot is None:
        return None
    sec = sampling_section(case, sample_id=sample_id) or {}
    lab = sec.get("labelling", {})
    final, _ = protocols.final_labels(case, sample_id)
    standard = (sec.get("estimate") or {}).get("standard") or {}
    return {"id": prot["id"], "sha256": prot["sha256"], "fixed_at": prot["created_at"],
            "standard": prot["protocol"].get("standard", ""), "reviewers": lab.get("reviewers", []),
            "kappa": lab.get("kappa_uninjured") or {}, "disagreements": len(lab.get("disagreements", [])),
            "unresolved": lab.get("unresolved", 0),
            "label_hashes": {r: h["labels_sha256"] for r, h in protocols.label_hashes(case, sample_id).items()},
            "statement": standard.get("statement", ""), "final": final}


def _label(v) -> str:
    return "–" if v is None else ("yes" if v else "no")


def _n(k: int, noun: str, plural: str | None = None) -> str:
    return f"{k} {noun if k == 1 else (plural or noun + 's')}"


def _rate(r: dict) -> str:
    return (f"{r['measure']} {r['value']:.3f} (95 % CI {r['ci'][0]:.3f}–{r['ci'][1]:.3f}, {r['k']:,} of "
            f"{r['n']:,} cases)")


def _image_answers(images: dict | None) -> dict[str, str]:
    """The image works' part of page 1's answers: copies by image evidence (same bytes, same pixels, near-
    duplicate, region copy) per kind of source, and the image CMI of those copies."""
    if not images or not images.get("works"):
        return {}
    works, rows = images["works"], images["rows"]
    in_corpus = sum(1 for w in works if w["copies_corpus"])
    in_outputs = sum(1 for w in works if w["copies_outputs"])
    n_corpus = sum(w["copies_corpus"] for w in works)
    n_outputs = sum(w["copies_outputs"] for w in works)
    removed = sum(1 for r in rows if r["cmi_status"] == "removed")
    altered = sum(1 for r in rows if r["cmi_status"] == "altered")
    kept = sum(1 for r in rows if r["cmi_status"] == "retained")
    never = sum(1 for r in rows if r["cmi_status"] == "never_present")
    meta = len(images.get("metadata") or [])
    return {
        "corpus": (f"Of {_n(len(works), 'image work')}, {in_corpus} {'has' if in_corpus == 1 else 'have'} a copy "
                   f"found by comparing images in the corpora ({_n(n_corpus, 'copy', 'copies')}: same bytes, same "
                   "pixels, near-duplicates and copied regions; section 5, Images)"
                   + (f"; the metadata-only datasets hold {_n(meta, 'further piece')} of evidence (names, URLs, "
                      "hashes: no image was compared)." if meta else ".")),
        "outputs": (f"{_n(in_outputs, 'image work')} {'was' if in_outputs == 1 else 'were'} reproduced in "
                    f"generated images ({_n(n_outputs, 'copy', 'copies')})."),
        "cmi": (f"Of {_n(len(rows), 'image copy', 'image copies')} (distinct contents), the work's image CMI (EXIF, "
                f"IPTC, XMP, C2PA) was removed in {removed}, altered in {altered}, kept in {kept}; {never} "
                "copied a work that carried none."),
    }


def answers(summary: dict, ex: list[dict], member_rows: list[dict], sources: list[dict], validation: dict,
            samples: list[dict], provenance_sources: list[str], probes: list[dict],
            images: dict | None = None) -> list[dict]:
    """Page 1: each question in plain language, its answer with the numbers, in the order a court asks them.
    A case with image works gets the image answers beside the text ones (images: report/image_section.load)."""
    n_works = summary["works"]
    corpus = [s for s in sources if s["kind"] == "corpus"]
    corpus_works = {e["work_id"] for e in ex if e["source_kind"] == "corpus"}
    out_works = {e["work_id"] for e in ex if e["source_kind"] == "outputs"}
    pd_works = {e["work_id"] for e in ex if (e.get("answers") or {}).get("public_domain")}
    per_source = ", ".join(f"{s['name']} {len({e['work_id'] for e in ex if e['source'] == s['name']})}"
                           for s in corpus if s["copies"])
    in_class = [m for m in member_rows if "in-corpus" in m["classes"]]
    pd_members = [m for m in in_class if m["public_domain"]]
    meta_only = [m for m in in_class if m["evidence"] == "metadata only"]
    qa = []
    img = _image_answers(images)
    n_text = n_works - (len(images["works"]) if img else 0)  # image works are answered by comparing images
    a = (f"Of {_n(n_text, 'text work')}, {len(corpus_works)} {'has' if len(corpus_works) == 1 else 'have'} a "
         f"copy found by comparing texts in the {_n(len(corpus), 'corpus source')} ({per_source or 'none'}; "
         f"{summary['corpus_documents']:,} documents searched)." if n_text or not img else "")
    if in_class:
        a += (f" The in-corpus class has {len(in_class)} members: {len(in_class) - len(meta_only)} by content and "
              f"{len(meta_only)} by metadata only (a corpus record's title, author or ISBN names the work; no text "
              "was compared).")
    if pd_works:
        a += f" {_n(len(pd_works), 'copied work')} {'is' if len(pd_works) == 1 else 'are'} in the public domain"
        a += (f" ({', '.join(m['title'] for m in pd_members)}: on the class list, but not a class member)."
              if pd_members else ".")
    if img:
        a = (a + " " + img["corpus"]).strip()
    qa.append({"q": "Are the works in the defendant's corpora?", "a": a})
    out_copies = [e for e in ex if e["source_kind"] == "outputs"]
    a = (f"{_n(len(out_works), 'work')} {'was' if len(out_works) == 1 else 'were'} reproduced in model outputs "
         f"({_n(len(out_copies), 'copy', 'copies')} in {summary['output_documents']:,} outputs searched).")
    if probes:
        a += f" The model was probed directly in {_n(len(probes), 'run')} (section 10)."
    if img and not n_text:
        a = img["outputs"] + (a[a.index(" The model was probed"):] if probes else "")
    elif img:
        a += " " + img["outputs"]
    qa.append({"q": "Did the model reproduce them?", "a": a})
    ans = [e.get("answers") or {} for e in ex]
    counted = [x for x in ans if not x.get("public_domain")]
    st = {k: sum(1 for x in counted if x.get("status") == k) for k in
          ("removed", "altered", "moved_to_metadata", "retained", "never_present", "unknown")}
    a = (f"Of {_n(len(ex), 'copy', 'copies')}, {len(ex) - len(counted)} are of public-domain works (no §1202(b) "
         f"question). Of the other {len(counted)}: in {st['removed']} the copyright or license notice was removed, "
         f"in {st['altered']} altered, in {st['moved_to_metadata']} moved out of the text into the record's "
         f"metadata fields, in {st['retained']} kept; {st['never_present']} copied a part that carried none"
         + (f", {st['unknown']} could not be read (no text indexed)" if st["unknown"] else "") + ".")
    if img and not n_text:
        a = img["cmi"]
    elif img:
        a += " " + img["cmi"]
    qa.append({"q": "Was the copyright management information (CMI) removed?", "a": a})
    whole = sum(1 for x in counted if (x.get("readings") or {}).get("whole_work", ("",))[0] == "yes")
    portion = sum(1 for x in counted if (x.get("readings") or {}).get("portion", ("",))[0] == "yes")
    ident = sum(1 for x in ans if x.get("identical"))
    except_cmi = sum(1 for x in ans if x.get("identical_except_cmi") and not x.get("identical"))
    typo = sum(1 for x in ans if x.get("typographical_only") and not x.get("identical_except_cmi"))
    qa.append({"q": "Does §1202(b) reach these copies? (Courts differ: a copy identical to the whole work, or any "
               "portion with its CMI removed.)",
               "a": f"{ident} copies are identical to the work; {except_cmi} more are identical except for their "
                    f"CMI; {typo} more differ only typographically (spacing, punctuation, case). Under the "
                    f"whole-work reading {whole} copies qualify (the whole work, CMI removed or altered); under the "
                    f"portion reading {portion} do. Section 4 gives the answer copy by copy."})
    if provenance_sources:
        traced = [e for e in ex if e["source"] in provenance_sources]
        verdicts = [(e.get("answers") or {}).get("provenance") or {} for e in traced]
        mixed = sum(1 for v in verdicts if v.get("verdict", "").startswith("in the training mixture"))
        dropped = sum(1 for v in verdicts if v.get("dropped"))
        absent = sum(1 for v in verdicts if not v.get("rows"))
        a = (f"The defendant produced pipeline records for {', '.join(provenance_sources)}. Of the "
             f"{_n(len(traced), 'copy', 'copies')} there, {mixed} reached the training mixture, {dropped} "
             f"{'was' if dropped == 1 else 'were'} dropped by a filter or deduplication, and {absent} "
             f"{'is' if absent == 1 else 'are'} not in the records (section 4, copy by copy).")
        others = sorted({s["name"] for s in sources if s["copies"] and s["name"] not in provenance_sources})
        if others:
            a += (f" For {', '.join(others)} none were produced: presence in an indexed corpus is not proof that a "
                  "model was trained on it.")
    else:
        a = ("No pipeline records were produced. The presence of a work in an indexed corpus is not proof that a "
             "model was trained on it.")
    qa.append({"q": "Was the model trained on the copies?", "a": a})
    for smp in samples:
        for m in smp["measures"][:1]:
            qa.append({"q": f"How many members of the {smp['class']} class were copied?",
                       "a": f"A random sample of {smp['size']} of its {smp['population']} members (seed "
                            f"{smp['seed']}) was reviewed: {m['x']} of {m['n']} {m['measure']}, an estimated "
                            f"{m['estimate']:.0%} (95 % Clopper–Pearson {m['cp'][0]:.0%}–{m['cp'][1]:.0%}), about "
                            f"{m['members']} members."})
    rates = validation["rates"]
    shown = [r for r in rates if r["method"].startswith("copy detection")][:3] + \
        [r for r in rates if r["method"].startswith("CMI")][:2] + \
        [r for r in rates if r["method"].startswith("identical except CMI")][:2]
    qa.append({"q": "How often are the methods wrong?",
               "a": "; ".join(f"{r['method']}: {_rate(r)}" for r in shown) + ". All measured rates: section 7."})
    return qa
