"""`ascertain report`: report.html, report.pdf, exhibits/, exhibits.csv/.parquet, evidence.json and
manifest.json in one folder. Same case state, same bytes (no clock is read; dates are the match run's)."""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ascertain import __version__, provenance
from ascertain.case import Case
from ascertain.csv_out import csv_text
from ascertain.errors import AscertainError
from ascertain.index.shards import atomic_write_bytes
from ascertain.media import is_image_source
from ascertain.probe import LIMITATIONS
from ascertain.report import (
    case_data,
    copy_answers,
    evidence_state,
    exhibits,
    folder_swap,
    image_section,
    judge,
    manifest,
    plots,
    signing,
)
from ascertain.report.parameters import measured_tokens, parameter_rows, winnowing_words
from ascertain.report.show import probe_evidence
from ascertain.store.audit_chain import check as check_chain
from ascertain.validation.intervals import wilson

TIERS = ("full", "redacted")
PAPERS = {"a4": "A4", "letter": "letter"}
# Exhibits are printed inside report.html/pdf up to this many (a PDF page costs ~0.3 s of CPU); past it the
# report carries the index and each exhibit stands in exhibits/ (HTML, and PDF with --exhibit-pdfs).
INLINE_EXHIBITS = 25
EXHIBIT_BATCH = 200  # exhibits whose copies' texts are read from the index at once
MANIFEST_NAME = "manifest.json"

DEFINITIONS = [
    ("coverage", "Share of the work file's tokens that lie inside a span found in the copy."),
    ("own coverage", "The same share counting only the work's own expression: tokens of copyright and license "
                     "notices, and short spans common to many corpus documents, are left out."),
    ("longest verbatim run", "The longest stretch of tokens copied letter for letter (case and punctuation "
                             "included), in tokens."),
    ("fragments", "How many separate spans make up the copy."),
    ("identical", "Every token of the work is in the copy in the same order (token level); byte for byte means "
                  "the two files are the same bytes."),
    ("edit similarity", "1 − (token edits needed to turn the original region into the copy region) / (longer "
                        "region's tokens)."),
    ("rarity", "The least number of corpus documents that hold the fingerprints of one of the copy's spans "
               "(1: found in this document only)."),
    ("CMI status", "retained: every copyright, author and license item of the original's header and copied region "
                   "is in the copy; altered: an item of the same kind stands in its place with another holder, "
                   "year, author or license; removed: the copy has nothing in its place; never present: the "
                   "original carries none; not applicable: not a copy; unknown: the copy's text is not indexed."),
]



def _env() -> Environment:
    root = resources.files("ascertain") / "report" / "templates"
    return Environment(loader=FileSystemLoader(str(root)), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _css(paper: str) -> str:
    css = (resources.files("ascertain") / "report" / "templates" / "style.css").read_text(encoding="utf-8")
    return css.replace("PAPER_SIZE", PAPERS[paper])


def _fonts_css(text: str) -> str:
    """DejaVu Sans and Sans Mono (shipped with matplotlib), subset to the characters the report uses and
    embedded, so the file renders the same anywhere with no network."""
    import logging

    from fontTools import subset
    from matplotlib import get_data_path

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset": a timestamp table, dropped

    chars = sorted(set(text) | set(" 0123456789"))
    css = []
    for family, file in (("Report Sans", "DejaVuSans.ttf"), ("Report Mono", "DejaVuSansMono.ttf"),
                         ("Report Sans", "DejaVuSans-Bold.ttf")):
        opts = subset.Options()
        opts.name_IDs, opts.notdef_outline, opts.recalc_timestamp = ["*"], True, False
        font = subset.load_font(str(Path(get_data_path()) / "fonts" / "ttf" / file), opts)
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=[ord(c) for c in chars])
        sub.subset(font)
        buf = io.BytesIO()
        font.save(buf)
        weight = "bold" if "Bold" in file else "normal"
        css.append(f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
                   f"src: url(data:font/ttf;base64,{base64.b64encode(buf.getvalue()).decode()}) format('truetype'); }}")
    return "\n".join(css) + "\n"


def _short(path: str, parts: int = 2) -> str:
    p = path.replace("\\", "/").split("/")
    return path if len(p) <= parts else "…/" + "/".join(p[-parts:])


def exhibit_record(e: dict, number: str, data: case_data.CaseData, doc: dict | None, show_copy: bool = True,
                   show_work: bool = True) -> dict:
    """The exhibit of one evidence record, as the template renders it. `show_copy` / `show_work` False: that
    side's text is withheld (redacted tier, or a web role the protective order keeps from it)."""
    f, src = data.files[e["work_file_id"]], data.sources[e["source_id"]]
    work = data.works[f["work_id"]]
    m = e["metrics"]
    cmi = m.get("cmi") or {}
    text = doc.get("text") if show_copy and doc is not None else None
    notes = []
    if not show_copy:
        notes.append("The copy's text is withheld (protective order): its line ranges, hashes and figures are shown.")
    elif text is None:
        notes.append("The index holds no text of this document (keyed or text-less): the copy side shows line "
                     "ranges only.")
    if not show_work:
        notes.append("The work's text is withheld (protective order).")
    # CMI moved to the record's metadata is gone from the text too: its lines are shown as stripped
    marks = [*exhibits.cmi_marks(cmi), *(("moved to metadata", (int(mv["original"]["lines"][0]),
                                                                int(mv["original"]["lines"][1])))
                                         for mv in cmi.get("moved_to_metadata") or [] if mv["original"].get("lines"))]
    removed_lines = [lines for status, lines in marks if status in ("removed", "altered", "moved to metadata")]
    rows = exhibits.build_rows(f["text"] if show_work else None, text, m.get("spans", []), removed_lines)
    exhibits.mark_rows(rows, m.get("differences") or [], marks)
    items = []
    for status in ("removed", "altered", "moved_to_metadata", "retained"):
        for i in cmi.get(status) or []:
            o = i.get("original", i)
            c = i.get("copy") if status == "altered" else (i if status == "retained" else None)
            if status == "moved_to_metadata":  # in the record's fields, not in its text
                c = {"value": "record field " + ", ".join(i["fields"])}
            lines = o.get("lines") or ["", ""]
            items.append({"status": status, "kind": o.get("kind", ""), "lines": f"{lines[0]}–{lines[1]}",
                          "value": o.get("value", "") if show_work else "(withheld)",
                          "copy_value": "(withheld)" if c and not show_copy else (c or {}).get("value", "–")})
    return {"number": number, "claimant": work["claimant"], "title": work["title"], "work_file": f["path"],
            "record_fields": [f if show_copy else {**f, "value": "(withheld)"} for f in cmi.get("record_fields") or []],
            "work_file_short": _short(f["path"]), "work_sha256": f["sha256"], "source": src["name"],
            "source_kind": src["kind"], "keyed": bool(src["keyed"]), "locator": e["doc_locator"],
            "locator_short": _short(e["doc_locator"]), "doc_sha256": (doc or {}).get("sha256"), "m": m,
            "rarity": e["rarity_docs"], "cmi_status": cmi.get("status", "unknown"), "cmi_items": items,
            "rows": rows, "rows_not_shown": 0, "text_note": " ".join(notes), "hide_copy": not show_copy,
            "hide_work": not show_work,
            "differences": m.get("differences") or [], "rename_map": sorted((m.get("rename_map") or {}).items()),
            "spans": m.get("spans", []), "evidence_id": e["id"], "work_id": f["work_id"]}


def _validation(path: Path | None) -> dict:
    if path is None:
        data = _shipped(json.loads((resources.files("ascertain") / "report" / "validation_figures.json").read_text()))
    else:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise AscertainError(str(path), f"cannot read the validation figures ({e})",
                                 "pass the validation.json written by `ascertain validate`") from e
        data = _from_validate_run(data, str(path))
    for r in data["rates"]:
        r["value"] = r["k"] / r["n"] if r["n"] else 0.0
        r["ci"] = wilson(r["k"], r["n"])
    return data


def _shipped(raw: dict) -> dict:
    """The figures shipped with this version: each row with the date it was measured and, when the sources
    of its validator changed since (or the figures predate the version stamps), why it is stale."""
    if raw.get("format") not in (2, 3):
        for r in raw["rates"]:
            r["stale"] = "not tied to a code version"
        return {**raw, "not_run": []}
    from ascertain.validation.registry import staleness

    stale = staleness(raw)
    rates = [{**r, "validator": name, "date": e["date"][:10], "stale": stale[name]}
             for name, e in raw["validators"].items() for r in e["rates"]]
    code = raw["code"]
    source = (f"Figures shipped with ascertain {code['package']}"
              + (f" (commit {code['commit'][:12]})" if code.get("commit") else "")
              + ", regenerated by ascertain validate --all (docs/validation.md gives each validator's command); "
              "each row gives the date it was measured, and a row marked stale was measured with other code than "
              "this version's")
    not_run = [f"{name}: {e['not_run']}" for name, e in raw["validators"].items() if e.get("not_run")]
    from ascertain.validation.registry import REGISTRY  # filled by staleness

    not_run += [f"{name}: never measured (ascertain validate --all --only {name})"
                for name in sorted(set(REGISTRY) - set(raw["validators"]))]
    stale_notes = [f"{name}: {why}" for name, why in stale.items() if why and not raw["validators"][name]["not_run"]]
    return {"source": source, "rates": rates, "not_run": not_run, "stale_notes": stale_notes}


def _from_validate_run(r: dict, path: str) -> dict:
    """The figures of a case's own `ascertain validate` run (its validation.json)."""
    try:
        auto = r["levels"]["auto"]
        rates = []
        for key, label in (("recall_single_50plus", "single"), ("recall_combined_50plus", "combined")):
            v = auto[key]
            rates.append({"method": f"copy detection (auto level), {label} transformations, copies of 50+ tokens",
                          "measure": "recall", "k": round(v["rate"] * v["n"]), "n": v["n"]})
        rates.append({"method": "copy detection, unrelated real file pairs", "measure": "false-positive rate",
                      "k": auto["fp"], "n": auto["negatives"]})
    except (KeyError, TypeError) as e:
        raise AscertainError(path, f"is not a validation.json of `ascertain validate` (missing {e})",
                             "pass the file that `ascertain validate --work DIR` wrote in DIR") from e
    return {"source": f"this case's own validation run ({path})", "rates": rates}


def build_report(case: Case, out: Path | None = None, tier: str = "full", paper: str = "a4",
                 validation: Path | None = None, exhibit_pdfs: bool = False,
                 inline_exhibits: int = INLINE_EXHIBITS, sign_key: Path | None = None,
                 signer: dict | None = None) -> dict:
    """The report folder, written beside the previous one and swapped in whole (report/folder_swap.py).
    `sign_key`: the expert's private key; its manifest is signed (signature.json) and the key's fingerprint
    printed. `signer` ({name, fingerprint}): print that signer without signing (verify's rebuild)."""
    if tier not in TIERS:
        raise AscertainError("--tier", f"unknown tier {tier!r}", f"choose one of {', '.join(TIERS)}")
    if paper not in PAPERS:
        raise AscertainError("--paper", f"unknown paper size {paper!r}", f"choose one of {', '.join(PAPERS)}")
    out = Path(out) if out else case.root / "reports" / ("report" if tier == "full" else "report-redacted")
    key = signing.load_signing_key(sign_key, case.root) if sign_key else None
    signer = key.info() if key else signer
    data = case_data.load(case)
    _check_current(data)
    # evidence as the match wrote it: verify re-runs the match and compares with this copy byte for byte
    evidence_json = case.root / "reports" / "evidence.json"
    evidence_state.check_agrees(case, data.match_run, evidence_json)
    copies = list(data.evidence)  # the copies only (case_data.load)

    def sort_key(e: dict) -> tuple:
        f = data.files[e["work_file_id"]]
        return (data.works[f["work_id"]]["title"], f["path"], data.sources[e["source_id"]]["name"], e["doc_locator"])

    copies.sort(key=sort_key)
    keys = [exhibits.exhibit_key(data.files[e["work_file_id"]]["sha256"], data.files[e["work_file_id"]]["path"],
                                 data.sources[e["source_id"]]["name"], e["doc_locator"]) for e in copies]
    with case.store.begin() as c:
        numbers = exhibits.assign_numbers(c, keys)
    # exhibits built and written a batch at a time, in document order so a batch reads few row groups of the
    # index (see _exhibits): memory stays bounded; the report lists them in number order
    by_doc = sorted(zip(copies, keys, strict=True), key=lambda ek: (ek[0]["source_id"], ek[0]["doc_id"],
                                                                     numbers[ek[1]]))

    work = folder_swap.begin(out, MANIFEST_NAME)
    try:
        result = _write_folder(case, data, copies, by_doc, numbers, work, tier, paper, validation, exhibit_pdfs,
                               inline_exhibits, evidence_json, key, signer)
        folder_swap.finish(work, out)
    except BaseException:
        folder_swap.abandon(work)
        raise
    result = {"out": str(out), **result}
    case.store.audit("report", result)
    return result


def _write_folder(case: Case, data: case_data.CaseData, copies: list[dict], by_doc: list, numbers: dict,
                  out: Path, tier: str, paper: str, validation: Path | None, exhibit_pdfs: bool,
                  inline_exhibits: int, evidence_json: Path, key: signing.SigningKey | None,
                  signer: dict | None) -> dict:
    (out / "exhibits").mkdir(parents=True)
    written: dict[str, str] = {}

    def write(name: str, payload: bytes) -> None:
        atomic_write_bytes(out / name, payload)
        written[name] = manifest.sha256_file(out / name)

    if tier == "full":
        write("evidence.json", evidence_json.read_bytes())
    inputs = manifest.input_digests(data.files, data.sources)
    index = manifest.index_digests(data.sources)
    store = manifest.store_digests(case)
    chain = check_chain(case.store.engine)
    run = data.match_run
    source_rows = [{"name": s["name"], "kind": s["kind"], "documents": s["documents"], "skipped": s["skipped"],
                    "keyed": s["keyed"],
                    "copies": sum(_documents(e) for e in copies if e["source_id"] == sid)}
                   for sid, s in data.sources.items()]
    summary = _summary(data, copies)
    roots = judge.case_roots(case, data)
    published = _publication_dates(case)
    for wid, w in data.works.items():  # a works list's own column, when the class facts hold no date
        published.setdefault(wid, (w.get("identifiers") or {}).get("publication_date"))
        published[wid] = published[wid] or (w.get("identifiers") or {}).get("publication_date")
    answers_ctx = copy_answers.CopyContext(data.files, data.works, copies, data.sources,
                                           int(str(run["started_at"])[:4]), published)
    pipeline: dict[int, list[dict]] = {}
    pipeline_files = []
    for sid, src in data.sources.items():
        rows, files = provenance.load(case, src["name"])
        if rows:
            pipeline[sid] = rows
            pipeline_files += [{**f, "source": src["name"]} for f in files]
    env = _env()
    css = _css(paper)
    params = run["manifest"]["parameters"]
    parameters = parameter_rows(params)  # as the run applied them (report/parameters.py)
    methods = {"winnowing": winnowing_words(params), "measured_tokens": measured_tokens(params)}
    classes = data.classes_run["manifest"] if data.classes_run else None
    manifest_lines = [("evidence rows in the store", store["evidence_sha256"]),
                      *((f"index {name}/manifest.json", files.get("manifest.json", ""))
                        for name, files in index.items()),
                      *((f"work file {judge.shown_path(w['path'], roots)}", w["sha256"])
                        for w in inputs["work_files"]),
                      *judge.source_inputs(data, roots),
                      *((f"pipeline records of {f['source']}: {f['file']}", f["sha256"]) for f in pipeline_files)]
    if classes:
        manifest_lines.append((f"class file {classes.get('kept_as') or 'classes.toml'}", classes["class_file_sha256"]))
    inline = len(by_doc) <= inline_exhibits
    page_template = env.get_template("exhibit_page.html.j2")
    ex = []  # what the report's index, the tables and the manifest need of each exhibit (its rows only inline)
    for e in _exhibits(by_doc, numbers, data, show_copy=tier == "full", answers=answers_ctx, pipeline=pipeline):
        e["work_file_shown"] = judge.shown_path(e["work_file"], roots)
        e["locator_shown"] = judge.shown_path(e["locator"], roots)
        page = page_template.render(e=e, css=css, version=__version__, case_name=case.root.name, tier=tier)
        write(f"exhibits/{e['number']}.html", page.encode())
        if exhibit_pdfs:
            write(f"exhibits/{e['number']}.pdf", _pdf(page))
        # inline, a long copy is summarized (its first and longest differing passages); its file has it all
        e = judge.summarize(e) if inline else {**e, "rows": []}
        ex.append(e)
    ex.sort(key=lambda x: x["number"])
    report_ex = ex
    images, image_ex = _image_exhibits(case, data, tier, paper, roots, write)
    for row, sid in zip(source_rows, data.sources, strict=True):  # an image source's copies are image copies
        if is_image_source(data.sources[sid].get("params")) and images:
            row["copies"] = sum(int(r["copies"]) for r in images["rows"] if r["source_id"] == sid)
    svgs = plots.report_plots([{"metrics": e["m"], "source": e["source"]} for e in ex],
                              {s["name"]: s["kind"] for s in data.sources.values()},
                              {k: v["works"] for k, v in classes["counts"].items()} if classes else None)
    shares = copy_answers.class_shares([(e["source"], e["m"].get("cmi") or {}) for e in ex
                                        if not e["answers"]["public_domain"]])
    if shares["copies"]:
        svgs["cmi_shares"] = plots.cmi_shares(shares["by_source"], shares["by_kind"])
    for name, svg in svgs.items():
        write(f"plot-{name}.svg", svg.encode())
    validation_figures = _validation(validation)
    probes = _probe_runs(case)
    pd_by_work = {wid: answers_ctx.public_domain.get(wid) for wid in data.works}
    member_rows = judge.members(classes, case, published, pd_by_work)
    samples = judge.sampling(case)
    qa = judge.answers(summary, ex, member_rows, source_rows, validation_figures, samples,
                       sorted({f["source"] for f in pipeline_files}), probes, images)
    ctx = {"case_name": case.root.name, "version": __version__, "run": run, "tier": tier, "summary": summary,
           "sources": source_rows, "parameters": parameters, "methods": methods, "definitions": DEFINITIONS,
           "validation": validation_figures, "plots": svgs, "exhibits": report_ex, "inline": inline,
           "manifest_lines": manifest_lines, "classes": classes, "registrations": data.registrations, "css": css,
           "probes": probes, "probe_limitations": LIMITATIONS, "qa": qa, "limitations": judge.LIMITATIONS,
           "expert": case.config.get("expert") or {}, "expert_items": judge.RULE26_EXPERT_ITEMS,
           "images": images, "image_exhibits": image_ex,
           "members": member_rows, "samples": samples, "shares": shares, "demo": bool(case.config.get("demo")),
           "pipeline": bool(pipeline), "statuses": copy_answers.STATUS_WORDS, "table_rows": judge.TABLE_ROWS,
           "signer": {**signer, "fingerprint_grouped": signing.grouped(signer["fingerprint"])} if signer else None}
    draft = env.get_template("report.html.j2").render(**ctx, fonts_css="")
    html = env.get_template("report.html.j2").render(**ctx, fonts_css=_fonts_css(draft))
    write("report.html", html.encode())
    write("report.pdf", _pdf(html))
    _write_tables(ex, write)
    doc = {"tool": "ascertain", "version": __version__, "stage": "report", "tier": tier, "paper": paper,
           "case": {"root": str(case.root.resolve()), "config": case.config},
           "match_run": {"id": run["id"], "started_at": run["started_at"], "manifest": run["manifest"]},
           **manifest.image_match_run(case),
           "software": manifest.software(), "inputs": {**inputs, **manifest.class_inputs(classes)},
           "evidence_sha256": manifest.sha256_file(evidence_json), "index": index, "store": store,
           "audit": {"entries_at_report": chain["entries"], "head_at_report": chain["head"], "chain_ok": chain["ok"]},
           "exhibits": {e["number"]: {"evidence_id": e["evidence_id"], "work_file": e["work_file"],
                                      "source": e["source"], "document": e["locator"]} for e in ex},
           **({"image_exhibits": {e["number"]: {"image_evidence_id": e["evidence_id"], "work_file": e["work_file"],
                                                "source": e["source"], "document": e["locator"], "tier": e["tier"]}
                                  for e in image_ex}} if image_ex else {}),
           "files": dict(sorted(written.items())),
           # what verify needs to write the same report again from the re-derived evidence
           "options": {"exhibit_pdfs": exhibit_pdfs, "inline_exhibits": inline_exhibits,
                       "validation": manifest.validation_input(validation)},
           "signer": signer and {k: signer[k] for k in ("name", "fingerprint", "algorithm") if k in signer}}
    # the audit head moves with every action: it is recorded here but kept out of report.html/pdf, so the
    # same evidence gives the same report bytes
    atomic_write_bytes(out / MANIFEST_NAME, json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False,
                                                       default=str).encode() + b"\n")
    if key is not None:
        atomic_write_bytes(out / signing.SIGNATURE_NAME, signing.sign_manifest(out, key, MANIFEST_NAME))
    return {"tier": tier, "exhibits": len(ex), "image_exhibits": len(image_ex),
            "files": len(written) + 1 + (key is not None),
            "manifest_sha256": manifest.sha256_file(out / MANIFEST_NAME), "audit_head": chain["head"],
            **({"signed_by": signer["name"], "fingerprint": signer["fingerprint"]} if key is not None else {})}


def _image_exhibits(case: Case, data: case_data.CaseData, tier: str, paper: str, roots, write
                    ) -> tuple[dict | None, list[dict]]:
    """The Images part and one exhibit file per image copy (report/image_section.py), numbered after the text
    exhibits in the case's one exhibit sequence; none when the case has no image evidence."""
    from ascertain.report.image_exhibits import render_page

    images = image_section.load(case, data.sources, show_copy=tier == "full")
    if not images or not images["rows"]:
        return images, []
    keys = image_section.exhibit_keys(images, data.sources)
    with case.store.begin() as c:
        numbers = exhibits.assign_numbers(c, keys)
    out = image_section.build_exhibits(case, images, data.sources, [numbers[k] for k in keys], tier == "full")
    for e in out:
        e["work_file_shown"] = judge.shown_path(e["work_file"], roots)
        e["locator_shown"] = judge.shown_path(e["locator"], roots)
        write(f"exhibits/{e['number']}.html", render_page(e, case.root.name, tier, paper).encode())
    columns = ["exhibit", "image_evidence_id", "work_id", "claimant", "title", "work_file", "work_sha256", "source",
               "source_kind", "document", "document_sha256", "copies", "tier", "work_area_share", "transformation",
               "pdq_distance", "verified_matches", "cmi_status"]
    rows = [{"exhibit": e["number"], "image_evidence_id": e["evidence_id"], "work_id": e["work_id"],
             "claimant": e["claimant"], "title": e["title"], "work_file": e["work_file"],
             "work_sha256": e["work_sha256"], "source": e["source"], "source_kind": e["source_kind"],
             "document": e["locator"], "document_sha256": e["doc_sha256"], "copies": e["copies"], "tier": e["tier"],
             "work_area_share": round(float(e["share"]), 4), "transformation": e["transform"],
             "pdq_distance": e["pdq_distance"], "verified_matches": e["inliers"], "cmi_status": e["cmi_status"]}
            for e in sorted(out, key=lambda x: x["number"])]
    write("image_exhibits.csv", csv_text(columns, rows, lineterminator="\n").encode())
    return images, sorted(out, key=lambda x: x["number"])


def _probe_runs(case: Case) -> list[dict]:
    """The latest probe figures of each probe run, grouped by run: tier, subject and a one-line finding."""
    runs: dict[int, dict] = {}
    for r in probe_evidence(case):
        run = runs.setdefault(r["probe_run"], {"id": r["probe_run"], "model": r["model"],
                                               "fingerprint": r["fingerprint"], "rows": []})
        run["rows"].append({"tier": r["tier"], "subject": r["subject"] or "", "summary": r["summary"]})
    for run in runs.values():
        run["rows"].sort(key=lambda x: (x["tier"], x["subject"]))
    return [runs[k] for k in sorted(runs)]


def _exhibits(copies: list[tuple[dict, str]], numbers: dict[str, str], data: case_data.CaseData,
              show_copy: bool, answers: copy_answers.CopyContext | None = None,
              pipeline: dict[int, list[dict]] | None = None) -> Iterator[dict]:
    """Exhibit records in the order given; the copies' texts are fetched EXHIBIT_BATCH at a time. With
    `answers`, each carries its §1202(b) answers (report/copy_answers.py), traced through the source's
    pipeline records when the defendant produced them (`pipeline`: source id -> rows)."""
    for at in range(0, len(copies), EXHIBIT_BATCH):
        batch = copies[at:at + EXHIBIT_BATCH]
        docs = {sid: case_data.fetch_documents(src, [e["doc_id"] for e, _ in batch if e["source_id"] == sid])
                for sid, src in data.sources.items()}
        for e, k in batch:
            doc = docs[e["source_id"]].get(e["doc_id"])
            rec = exhibit_record(e, numbers[k], data, doc, show_copy=show_copy)
            if answers is not None:
                rows = (pipeline or {}).get(e["source_id"])
                traced = provenance.trace(rows, e["doc_locator"], (doc or {}).get("sha256")) if rows else None
                rec["answers"] = copy_answers.answer(e, doc, answers, traced)
                if not show_copy:  # the record's field values are the defendant's text too: names only
                    rec["answers"]["where"]["record_fields"] = [f.split(":")[0] for f in
                                                                rec["answers"]["where"]["record_fields"]]
            yield rec


def _publication_dates(case: Case) -> dict[int, str | None]:
    """work id -> publication date as the works list or the class facts give it (work_details)."""
    from sqlalchemy import select

    from ascertain.store import schema

    with case.store.engine.connect() as c:
        return {r.work_id: r.publication_date for r in c.execute(
            select(schema.work_details.c.work_id, schema.work_details.c.publication_date))}


def _check_current(data: case_data.CaseData) -> None:
    """A report must describe the evidence of the case as it is: refuse when works or sources changed since
    the last match over all sources (its evidence.json would not be what a re-run gives). Text works and
    sources against the text match run; image works and image sources against the image match run
    (report/show_images.py); metadata-only datasets are matched by their own stage and carry no index."""
    from ascertain.report.show_images import current_image_changes

    m = data.match_run["manifest"]
    have = sorted((f["path"], f["sha256"]) for f in data.files.values() if f.get("language") != "image")
    complete = [s for s in data.sources.values() if s["status"] == "complete" and s["kind"] in ("corpus", "outputs")]
    srcs = sorted(s["name"] for s in complete if not is_image_source(s.get("params")))
    changed = current_image_changes(data.case)
    if sorted((w["file"], w["sha256"]) for w in m.get("works", [])) != have:
        changed.append("works were added or removed")
    if sorted(m.get("sources", {})) != srcs:
        changed.append(f"the sources are now {', '.join(srcs)} (the last full match had "
                       f"{', '.join(sorted(m.get('sources', {}))) or 'none'})")
    if changed:
        raise AscertainError(str(data.case.root), "changed since the last match: " + "; ".join(changed),
                             f"run `ascertain match {data.case.root}` again, then the report")


def _documents(e: dict) -> int:
    """Corpus documents a copy record stands for (identical copies are measured once: index/duplicates.py)."""
    return e["metrics"].get("identical_copies", {}).get("documents", 1)


def _summary(data: case_data.CaseData, copies: list[dict]) -> dict:
    kind = {sid: s["kind"] for sid, s in data.sources.items()}
    cmi = Counter((e["metrics"].get("cmi") or {}).get("status", "unknown") for e in copies)
    return {"works": len(data.works), "work_files": len(data.files),
            "corpus_sources": sum(1 for s in data.sources.values() if s["kind"] == "corpus"),
            "output_sources": sum(1 for s in data.sources.values() if s["kind"] == "outputs"),
            "corpus_documents": sum(s["documents"] for s in data.sources.values() if s["kind"] == "corpus"),
            "output_documents": sum(s["documents"] for s in data.sources.values() if s["kind"] == "outputs"),
            "evidence": data.evidence_count, "copies": len(copies),
            "works_in_corpus": len({e["work_id"] for e in copies if kind[e["source_id"]] == "corpus"}),
            "works_regurgitated": len({e["work_id"] for e in copies if kind[e["source_id"]] == "outputs"}),
            "identical": sum(1 for e in copies if e["metrics"].get("identical")),
            "modified": sum(1 for e in copies if not e["metrics"].get("identical")), "cmi": dict(cmi)}


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    # no creation/modification dates in the PDF: the same HTML gives the same bytes
    return HTML(string=html).write_pdf(uncompressed_pdf=False, metadata=False)


COLUMNS = ["exhibit", "evidence_id", "work_id", "claimant", "title", "work_file", "work_sha256", "source",
           "source_kind", "document", "document_sha256", "coverage", "own_coverage", "longest_run_tokens",
           "fragments", "identical", "byte_identical", "edit_similarity", "rarity_docs", "level", "differences",
           "cmi_status", "cmi_removed", "cmi_altered", "near_duplicate_jaccard", "registered_work", "work_coverage",
           "identical_except_cmi", "typographical_only", "cmi_moved_to_metadata", "cmi_record_fields", "public_domain",
           "whole_work_reading", "portion_reading", "training_provenance"]


def _answer_columns(a: dict) -> dict:
    """The §1202(b) answers of one copy as table columns (report/copy_answers.py)."""
    if not a:
        return dict.fromkeys(COLUMNS[COLUMNS.index("registered_work"):])
    r = a["readings"]
    return {"registered_work": f"{a['unit']['work']} ({a['unit']['kind']})",
            "work_coverage": round(a["unit"]["work_coverage"], 6),
            "identical_except_cmi": a["identical_except_cmi"], "typographical_only": a["typographical_only"],
            "cmi_moved_to_metadata": "; ".join(a["where"]["record_metadata"]),
            "cmi_record_fields": "; ".join(a["where"]["record_fields"]),
            "public_domain": a["public_domain"] or "",
            "whole_work_reading": f"{r['whole_work'][0]}: {r['whole_work'][1]}",
            "portion_reading": f"{r['portion'][0]}: {r['portion'][1]}",
            "training_provenance": (a.get("provenance") or {}).get("verdict", "no pipeline records produced")}


def _write_tables(ex: list[dict], write) -> None:
    rows = []
    for e in ex:
        m = e["m"]
        rows.append({
            "exhibit": e["number"], "evidence_id": e["evidence_id"], "work_id": e["work_id"], "claimant": e["claimant"],
            "title": e["title"], "work_file": e["work_file"], "work_sha256": e["work_sha256"], "source": e["source"],
            "source_kind": e["source_kind"], "document": e["locator"], "document_sha256": e["doc_sha256"] or "",
            "coverage": m["coverage"], "own_coverage": m["own_coverage"], "longest_run_tokens": m["longest_run_tokens"],
            "fragments": m["fragments"], "identical": bool(m.get("identical")),
            "byte_identical": bool(m.get("byte_identical")),
            "edit_similarity": m.get("edit_similarity"), "rarity_docs": e["rarity"], "level": m.get("level", ""),
            "differences": "; ".join(f"{k} {v}" for k, v in sorted((m.get("difference_counts") or {}).items())),
            "cmi_status": e["cmi_status"], "cmi_removed": sum(1 for i in e["cmi_items"] if i["status"] == "removed"),
            "cmi_altered": sum(1 for i in e["cmi_items"] if i["status"] == "altered"),
            "near_duplicate_jaccard": (m.get("near_duplicate") or {}).get("jaccard_estimate"),
            **_answer_columns(e.get("answers") or {})})
    write("exhibits.csv", csv_text(COLUMNS, rows, lineterminator="\n").encode())
    table = pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    write("exhibits.parquet", sink.getvalue().to_pybytes())
