"""`ascertain demo`: the bundled case, every stage, and a check against the planted truth."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from rich.console import Console

from ascertain.case import CONFIG, Case
from ascertain.errors import AscertainError
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.report.build import build_report
from ascertain.report.show import work_evidence
from ascertain.report.tables import new_table
from ascertain.sources import add_source
from ascertain.works import add_work, import_manifest


def demo_data() -> Path:
    return Path(str(resources.files("ascertain") / "demo_data"))


def run_demo(case_dir: Path, console: Console | None, report: bool = True) -> dict:
    data = demo_data()
    if case_dir.exists():
        cfg = case_dir / CONFIG
        if not (cfg.exists() and json.loads(cfg.read_text()).get("demo")):
            raise AscertainError(str(case_dir), "exists and is not a demo case",
                                 "pass --case with a new folder")
        shutil.rmtree(case_dir)
    case = Case.init(case_dir)
    case.config["demo"] = True
    (case_dir / CONFIG).write_text(json.dumps(case.config, indent=2) + "\n")
    say = console.print if console else (lambda *a, **k: None)
    works = import_manifest(case, str(data / "works.csv"))
    say(f"works: {len(works.added)} added from works.csv")
    corpus = add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    say(f"corpus: {corpus['documents']} documents indexed, {corpus['skipped']} skipped "
        f"({', '.join(corpus['skip_reasons'])})")
    outputs = add_source(case, "outputs", "outputs", [str(data / "outputs.jsonl")],
                         ReadOptions(text_field="completion"))
    say(f"outputs: {outputs['documents']} model outputs indexed")
    # a book: Pride and Prejudice (chapters 1-6) against its PDF, HTML and a Books3-like record, at the book level
    add_work(case, "Jane Austen (public domain)", str(data / "books" / "works" / "pride-and-prejudice-ch1-6.txt"),
             "Pride and Prejudice (chapters 1-6)")
    books = add_source(case, "books", "corpus", [str(data / "books" / "corpus")], ReadOptions(), level="book")
    say(f"books: {books['documents']} documents indexed at the book level (PDF, HTML, JSONL, text)")
    summary = run_match(case, MatchOptions())
    planted = [*json.loads((data / "planted.json").read_text()),
               *json.loads((data / "books" / "planted.json").read_text())]
    found, missed, false_pos = [], [], []
    copies = [(w, e) for wid in _work_ids(case) for w in [work_evidence(case, str(wid))]
              for e in w["evidence"] if e["copied"]]
    for p in planted:
        hit = next((e for _, e in copies if Path(e["work_file"]).name == p["work_file"]
                    and e["source"] == p["source"] and e["document"].endswith(p["document"])), None)
        (found if hit else missed).append((p, hit))
    for w, e in copies:
        if not any(Path(e["work_file"]).name == p["work_file"] and e["source"] == p["source"]
                   and e["document"].endswith(p["document"]) for p in planted):
            false_pos.append((w, e))
    cmi_wrong = [(p, e) for p, e in found if e["cmi"]["status"] != p["cmi"]]
    if console:
        t = new_table("planted copy", "work file", "found in", "cov.", "own", "run", "identical", "CMI",
                      title="planted copies", numbers=("cov.", "own", "run"), words=("identical", "CMI"))
        for p, e in found + missed:
            status = e["cmi"]["status"] if e else ""
            t.add_row(p["kind"], p["work_file"], f"{p['source']}: {p['document']}",
                      *([f"{e['coverage']:.3f}", f"{e['own_coverage']:.3f}", str(e["longest_run_tokens"]),
                         str(e["identical"]), status if status == p["cmi"] else f"[red]{status}[/]"]
                        if e else ["[red]MISSED[/]", "", "", "", ""]))
        console.print(t)
        for w, e in false_pos:
            console.print(f"[red]unexpected copy[/]: {w['title']} {e['work_file']} in {e['document']}")
        console.print(f"{len(found)}/{len(planted)} planted copies found, {len(false_pos)} unrelated "
                      f"files reported, CMI status as planted for {len(found) - len(cmi_wrong)}/{len(found)}; "
                      f"evidence: {summary['report']}")
    from ascertain.classes.demo import run_class_demo

    classes = run_class_demo(case, data, console)
    written = build_report(case) if report else {"out": None}
    if report:
        say(f"report: {written['exhibits']} exhibits; open {Path(written['out']) / 'report.html'} or report.pdf; "
            f"check it with `ascertain verify {written['out']}`", highlight=False)
    return {"ok": not missed and not false_pos and not cmi_wrong and classes["ok"], "classes": classes,
            "report_dir": written["out"],
            "found": len(found), "planted": len(planted),
            "cmi_wrong": [(p["document"], e["cmi"]["status"]) for p, e in cmi_wrong],
            "missed": [p for p, _ in missed], "false_positives": [e["document"] for _, e in false_pos],
            "case": str(case_dir), "report": summary["report"]}


def _work_ids(case: Case) -> list[int]:
    from sqlalchemy import select

    from ascertain.store import schema

    with case.store.engine.connect() as c:
        return [r[0] for r in c.execute(select(schema.works.c.id).order_by(schema.works.c.id))]
