"""Tier C quizzes in `probe run`: DE-COP-style multiple choice on each Tier B passage, and name cloze on
each prose work. Every question is stored as an attempt; each work's rate of right answers is set beside
the control works' rate, which is the chance rate on this model. Indicative only: `probe validate` gives
their AUROC on a model with a known split, and they are never proof of membership.
"""

from __future__ import annotations

from ascertain.errors import AscertainError
from ascertain.probe import dataset_inference as di
from ascertain.probe import multiple_choice as mc
from ascertain.probe import name_cloze as nc
from ascertain.validation.intervals import clopper_pearson

LABEL = "indicative only: a quiz the model answers better than on control works is not proof of training"


def questions(subjects: list, p: di.InferenceParams) -> list[tuple[str, object, str, tuple[str, str]]]:
    """(key, subject, kind, (text, name)) of every question: the multiple choice on each passage (the same
    seeded passages as Tier B) and the name cloze on each prose work's first occurrences of its names."""
    zp = nc.ClozeParams(seed=p.seed)
    todo = []
    for x in subjects:
        for i, t in enumerate(di.passages(x.text, x.language, p, x.key)):
            todo.append((f"C:mc:{x.key}:{i}", x, "choice", (t, "")))
        if x.language == "prose":
            for j, (context, name) in enumerate(nc.clozes(x.text, x.language, zp, x.key)):
                todo.append((f"C:cloze:{x.key}:{j}", x, "cloze", (context, name)))
    return todo


def ask_all(model, subjects: list, p: di.InferenceParams, rec, tick) -> None:
    cp = mc.ChoiceParams(seed=p.seed)
    todo = questions(subjects, p)
    for n, (key, subj, kind, (text, name)) in enumerate(todo, 1):
        if key in rec.done:
            continue
        try:
            if kind == "choice":
                m = mc.choose(model, text, subj.language, cp, key)
                if m is None:  # too few words to perturb: nothing to ask, recorded once
                    rec.add("C", key, subj, kind, text, "", cp.as_dict(), "skipped", {}, error="no paraphrase")
                    continue
                output = ""
            else:
                m = nc.ask(model, text, name, scored=True)
                output = m.pop("cloze_output")
        except AscertainError as e:
            rec.add("C", key, subj, kind, text, "", {"name": name}, "error", {}, error=str(e))
            raise
        rec.add("C", key, subj, kind, text, output, {"seed": p.seed, "temperature": 0.0}, "ok", m)
        tick("quizzes", n, len(todo))


def _rate(rows: list[dict], field: str) -> dict | None:
    hits = [bool(r["metrics"][field]) for r in rows if field in r["metrics"]]
    if not hits:
        return None
    k, n = sum(hits), len(hits)
    return {"correct": k, "asked": n, "rate": round(k / n, 4), "rate_ci95": clopper_pearson(k, n, digits=5)}


def summarize(works: list, controls: list, rec) -> dict:
    """Per work and for the control works pooled: multiple-choice and name-cloze right answers."""
    def rows(subj, mode: str) -> list[dict]:
        return [r for r in rec.ok("C", subj) if r["mode"] == mode]

    by_work: dict[str, dict] = {}
    for x in works:
        w = by_work.setdefault(str(x.work_id), {"choice": [], "cloze": []})
        w["choice"] += rows(x, "choice")
        w["cloze"] += rows(x, "cloze")
    ctrl_choice = [r for x in controls for r in rows(x, "choice")]
    ctrl_cloze = [r for x in controls for r in rows(x, "cloze")]
    return {"label": LABEL, "options": mc.ChoiceParams().options,
            "controls": {"multiple_choice": _rate(ctrl_choice, "mc_correct"),
                         "name_cloze": _rate(ctrl_cloze, "cloze_correct")},
            "works": {wid: {"multiple_choice": _rate(v["choice"], "mc_correct"),
                            "name_cloze": _rate(v["cloze"], "cloze_correct")} for wid, v in by_work.items()}}
