"""`ascertain demo`: the bundled case, every stage, and a check against the planted truth."""

from __future__ import annotations

import hashlib
import json
import os
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


def run_demo(case_dir: Path, console: Console | None, report: bool = True, store_url: str | None = None,
             with_probe: bool = True) -> dict:
    """The demo case in `case_dir`; `with_probe=False` leaves out the model probe (half the time, for tests of the
    other stages)."""
    data = demo_data()
    if case_dir.exists():
        cfg = case_dir / CONFIG
        if not (cfg.exists() and json.loads(cfg.read_text()).get("demo")):
            raise AscertainError(str(case_dir), "exists and is not a demo case",
                                 "pass --case with a new folder")
        shutil.rmtree(case_dir)
    case = Case.init(case_dir, store_url)
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
             "Pride and Prejudice (chapters 1-6)", identifiers={"publication_date": "1813", "public_domain": "yes"})
    books = add_source(case, "books", "corpus", [str(data / "books" / "corpus")], ReadOptions(), level="book")
    say(f"books: {books['documents']} documents indexed at the book level (PDF, HTML, JSONL, text)")
    # a training-set record as The Stack carries them: the header cut off, the license and holder in fields
    stack = add_source(case, "stack", "corpus", [str(data / "stack" / "the-stack-sample.jsonl")], ReadOptions())
    say(f"stack: {stack['documents']} record with its license and holder in metadata fields")
    from ascertain.demo_images import add_image_inputs, check_images, match_images

    add_image_inputs(case, data, say)
    summary = run_match(case, MatchOptions())
    match_images(case)
    planted = [*json.loads((data / "planted.json").read_text()),
               *json.loads((data / "books" / "planted.json").read_text()),
               *json.loads((data / "stack" / "planted.json").read_text())]
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
    images = check_images(case, data, console)
    from ascertain.classes.demo import run_class_demo

    classes = run_class_demo(case, data, console)
    probe = run_probe_demo(case, console) if with_probe else {"ok": True, "skipped": "not asked for"}
    written = build_report(case) if report else {"out": None}
    if report:
        say(f"report: {written['exhibits']} exhibits and {written.get('image_exhibits', 0)} image exhibits; "
            f"open {Path(written['out']) / 'report.html'} or report.pdf; "
            f"check it with `ascertain verify {written['out']}`", highlight=False)
    return {"ok": not missed and not false_pos and not cmi_wrong and classes["ok"] and probe["ok"] and images["ok"],
            "classes": classes, "probe": probe, "images": images,
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


# The demo's probe: a small model trained on the fly on two files of python-rsa; reproduction must find
# those two files and no other work file, and never a control file.
PROBE_TRAINED = ("randnum.py", "parallel.py")


def run_probe_demo(case: Case, console: Console | None) -> dict:
    say = console.print if console else (lambda *a, **k: None)
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        say("probe: skipped (needs the probe extra: pip install 'ascertain[probe]')")
        return {"ok": True, "skipped": "torch/transformers not installed"}
    import time

    from sqlalchemy import select

    from ascertain.probe.models import load_model
    from ascertain.probe.reproduction import ReproParams
    from ascertain.probe.run import ProbeOptions, run_probe
    from ascertain.probe.tiny_model import train_tiny_lm
    from ascertain.store import schema

    t0 = time.perf_counter()
    data = demo_data()
    texts = [(data / "works" / "python-rsa" / f).read_text(encoding="utf-8") for f in PROBE_TRAINED]
    # seeded training gives the same weights for the same texts, settings and torch: trained once a machine
    key = hashlib.sha256(json.dumps([texts, DEMO_TRAINING, torch.__version__, transformers.__version__])
                         .encode()).hexdigest()[:16]
    folder = Path(os.environ.get("ASCERTAIN_CACHE", Path.home() / ".cache" / "ascertain")) / f"demo-probe-{key}"
    trained_now = not (folder / "config.json").exists()
    if trained_now:
        steps = DEMO_TRAINING["steps"]
        say(f"probe: training a tiny model on {len(texts)} works ({steps} steps, about a minute; once a machine)",
            markup=False, highlight=False)
        live = bool(console and console.is_terminal)  # a line every 25 steps on a terminal; piped: the summary

        def on_step(step: int, loss: float) -> None:
            if live:
                say(f"  step {step + 1}/{steps}: loss {loss:.3f}, {time.perf_counter() - t0:.0f} s", markup=False,
                    highlight=False)

        train_tiny_lm(texts, folder.with_suffix(".tmp"), seed=0, on_step=on_step, **DEMO_TRAINING)
        say(f"probe: model trained in {time.perf_counter() - t0:.0f} s", markup=False, highlight=False)
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_suffix(".tmp").rename(folder)
    train_s = time.perf_counter() - t0
    model = load_model(str(folder))
    opts = ProbeOptions(ReproParams(prefix_tokens=(32,), continuation_tokens=40, cuts=2, samples=0,
                                    max_new_tokens=48, min_run=20), tiers=("A",),
                        control=[str(data / "corpus" / "unrelated")])
    r = run_probe(case, model, opts)
    with case.store.engine.connect() as c:
        rows = c.execute(select(schema.probes.c.subject, schema.probes.c.control, schema.probes.c.metrics)
                         .where(schema.probes.c.probe_run_id == r["probe_run"], schema.probes.c.status == "ok")).all()
    hits: dict[str, int] = {}
    for subject, control, m in rows:
        hits.setdefault(("control: " if control else "") + Path(subject).name, 0)
        hits[("control: " if control else "") + Path(subject).name] += bool(m["reproduced"])
    found = sorted(k for k, v in hits.items() if v)
    ok = found == sorted(PROBE_TRAINED)
    say(f"probe: a {model.info.details['parameters']:,}-parameter model trained on {', '.join(PROBE_TRAINED)} "
        f"(python-rsa); reproduction found {', '.join(found) or 'nothing'} in {len(rows)} attempts "
        f"({sum(1 for k in hits if k.startswith('control'))} control files, "
        f"{sum(v for k, v in hits.items() if k.startswith('control'))} reproductions there); "
        f"{'as trained' if ok else 'NOT as trained'} ({time.perf_counter() - t0:.1f} s; "
        + (f"trained now in {train_s:.1f} s)" if trained_now else f"model trained earlier, from {folder})"),
        markup=False, highlight=False)
    return {"ok": ok, "found": found, "trained_on": list(PROBE_TRAINED), "attempts": len(rows),
            "probe_run": r["probe_run"], "model": str(folder), "trained_now": trained_now}


DEMO_TRAINING = {"steps": 300, "width": 64, "layers": 2, "block": 128, "batch": 16, "vocab_size": 1024, "lr": 3e-3}
