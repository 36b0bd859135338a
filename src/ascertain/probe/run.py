"""`ascertain probe CASE --model SPEC`: the tiers the model's capabilities allow, every attempt stored.

A probe run is keyed by the model's fingerprint, the parameters and the inputs' hashes; running the same
command again resumes it: attempts already stored as `ok` are not repeated, errors are tried again (the
failed attempt stays on record). Each attempt is committed as soon as it is made, so an interruption
loses at most the attempt in flight.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert, select, update

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.probe import LIMITATIONS, indicative, quizzes, reproduction
from ascertain.probe import dataset_inference as di
from ascertain.probe.reproduction import ReproParams
from ascertain.readers import Document, ReadOptions, Skip, read_inputs
from ascertain.store import schema as s
from ascertain.store.db import now


@dataclass
class ProbeOptions:
    repro: ReproParams = field(default_factory=ReproParams)
    inference: di.InferenceParams = field(default_factory=di.InferenceParams)
    tiers: tuple[str, ...] = ("A", "B", "C")
    control: list[str] = field(default_factory=list)  # control works: files, folders, JSONL...


@dataclass
class Subject:
    key: str  # work file id "w{id}" or control content "c:{sha256[:16]}": seeds cut points and passages
    work_id: int | None
    claimant_id: int | None
    claimant: str | None
    path: str
    language: str
    text: str
    sha256: str

    @property
    def control(self) -> bool:
        return self.work_id is None


def load_subjects(case: Case, control: list[str]) -> tuple[list[Subject], list[Subject]]:
    with case.store.engine.connect() as c:
        rows = c.execute(select(s.work_files.c.id, s.work_files.c.work_id, s.work_files.c.path,
                                s.work_files.c.language, s.work_files.c.text, s.work_files.c.sha256,
                                s.works.c.claimant_id, s.claimants.c.name)
                         .join(s.works, s.works.c.id == s.work_files.c.work_id)
                         .join(s.claimants, s.claimants.c.id == s.works.c.claimant_id)
                         .where(s.work_files.c.language != "image")  # image works hold no text to prompt with
                         .order_by(s.work_files.c.id)).all()
    works = [Subject(f"w{r.id}", r.work_id, r.claimant_id, r.name, r.path, r.language, r.text, r.sha256)
             for r in rows]
    controls, skips = [], []
    seen: dict[str, str] = {}
    for item in read_inputs(control, ReadOptions()):
        if isinstance(item, Skip):
            skips.append(item)
        elif isinstance(item, Document):
            # keyed by content, as claimant works are by id: the same controls in another folder (or under
            # another name) get the same cut points, passages and chance rate; a repeated text counts once
            key = f"c:{item.sha256[:16]}"
            if key in seen:
                skips.append(Skip(item.locator, item.locator, f"same text as control {seen[key]}",
                                  "nothing to do: a control text is used once"))
                continue
            seen[key] = item.locator
            controls.append(Subject(key, None, None, None, item.locator, item.language, item.text, item.sha256))
    case.store.record_skips("probe", "control", skips)
    return works, controls


def run_key(model_info: dict, opts: ProbeOptions, subjects: list[Subject]) -> str:
    blob = json.dumps({"model": model_info["fingerprint"], "model_id": model_info["model_id"],
                       "repro": opts.repro.as_dict(), "inference": opts.inference.as_dict(),
                       "tiers": list(opts.tiers), "inputs": [[x.key, x.sha256, x.path] for x in subjects]},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class Recorder:
    """Appends attempts to `probes`, one transaction each; knows which keys are already done."""

    def __init__(self, case: Case, run_id: int) -> None:
        self.engine, self.run_id, self.store = case.store.engine, run_id, case.store
        with self.engine.connect() as c:
            self.rows = [dict(r) for r in c.execute(select(s.probes).where(s.probes.c.probe_run_id == run_id)
                                                    .order_by(s.probes.c.id)).mappings()]
        self.done = {r["key"] for r in self.rows if r["status"] in ("ok", "skipped")}
        self.new = 0

    def add(self, tier: str, key: str, subj: Subject, mode: str, prompt: str, output: str, decoding: dict,
            status: str, metrics: dict, error: str | None = None) -> None:
        row = {"probe_run_id": self.run_id, "tier": tier, "key": key, "work_id": subj.work_id, "subject": subj.path,
               "control": subj.control, "mode": mode, "prompt": prompt, "output": output, "decoding": decoding,
               "status": status, "error": error, "metrics": metrics, "at": now()}
        with self.engine.begin() as c:
            c.execute(insert(s.probes).values(**row))
        self.rows.append(row)
        if status in ("ok", "skipped"):
            self.done.add(key)
        self.new += 1

    def ok(self, tier: str, subj: Subject) -> list[dict]:
        return [r for r in self.rows if r["tier"] == tier and r["subject"] == subj.path
                and r["control"] == subj.control and r["status"] == "ok"]


def open_run(case: Case, key: str, model_info: dict, params: dict) -> tuple[int, bool]:
    with case.store.begin() as c:
        row = c.execute(select(s.probe_runs.c.id).where(s.probe_runs.c.key == key)).first()
        if row:
            c.execute(update(s.probe_runs).where(s.probe_runs.c.id == row.id).values(status="running"))
            return row.id, True
        rid = c.execute(insert(s.probe_runs).values(key=key, model=model_info, params=params, status="running",
                                                    started_at=now())).inserted_primary_key[0]
        return rid, False


def run_probe(case: Case, model, opts: ProbeOptions, reference=None,
              on_progress: Callable[[str, int, int], None] | None = None) -> dict:
    t0 = time.perf_counter()
    tick = on_progress or (lambda *a: None)
    works, controls = load_subjects(case, opts.control)
    if not works:
        raise AscertainError(str(case.root), "has no works to probe for", "add works with `ascertain works add`")
    info = model.info.as_dict()
    tiers = [t for t in opts.tiers if t == "A" or model.info.allows("dataset_inference")]
    not_run = {t: f"the model exposes `{info['capability']}` only; Tier {t} needs log-probabilities of given text"
               for t in opts.tiers if t not in tiers}
    params = {"repro": opts.repro.as_dict(), "inference": opts.inference.as_dict(), "tiers": tiers,
              "control": opts.control, "reference": reference.info.as_dict() if reference else None}
    rid, resumed = open_run(case, run_key(info, opts, works + controls), info, params)
    rec = Recorder(case, rid)
    before = len(rec.rows)
    try:
        if "A" in tiers:
            _tier_a(model, works + controls, opts.repro, case.params, rec, tick)
        if "B" in tiers or "C" in tiers:
            _features(model, works + controls, opts.inference, reference, rec, tick)
        if "C" in tiers:
            quizzes.ask_all(model, works + controls, opts.inference, rec, tick)
    except AscertainError as e:  # the model gave up (endpoint down, rate limit): the run says so; a rerun resumes
        with case.store.begin() as c:
            c.execute(update(s.probe_runs).where(s.probe_runs.c.id == rid).values(status="interrupted"))
        case.store.audit("probe interrupted", {"run": rid, "model": info["model_id"], "new_attempts": rec.new,
                                               "error": str(e)}, ok=False)
        raise
    results = summarize(case, rid, rec, works, controls, tiers, opts)
    with case.store.begin() as c:
        c.execute(update(s.probe_runs).where(s.probe_runs.c.id == rid).values(status="complete", finished_at=now()))
    case.store.audit("probe", {"run": rid, "model": info["model_id"], "new_attempts": rec.new})
    return {"probe_run": rid, "resumed": resumed, "model": info, "tiers_run": tiers, "tiers_not_run": not_run,
            "attempts_stored_before": before, "attempts_added": rec.new, "results": results,
            "limitations": LIMITATIONS, "seconds": round(time.perf_counter() - t0, 2)}


def _tier_a(model, subjects: list[Subject], p: ReproParams, params, rec: Recorder, tick) -> None:
    plans = [(x, *reproduction.plan(x.key, x.text, x.language, p, x.path)) for x in subjects]
    total, done = sum(len(a) for _, a, _ in plans), 0
    np_ok = model.info.allows("np_extraction")
    for subj, attempts, why in plans:
        if why and f"A:skip:{subj.key}" not in rec.done:
            rec.add("A", f"A:skip:{subj.key}", subj, "skipped", "", "", {}, "skipped", {}, error=why)
            rec.store.record_skips("probe", "reproduction", [Skip(
                subj.path, subj.path, f"no reproduction prompts: {why}",
                "pass shorter --prefix-tokens / --continuation-tokens (licence text is never a continuation); "
                "the file's other tiers still run")])
            tick("reproduction", done, total)
        for a in attempts:
            done += 1
            if a.key in rec.done:
                continue
            temp = 0.0 if a.mode == "greedy" else p.temperature
            decoding = {"temperature": temp, "top_k": 0, "top_p": 1.0, "max_new_tokens": p.max_new_tokens,
                        "seed": a.seed, "cut_token": a.cut, "prefix_tokens": a.prefix_tokens}
            try:
                out, n_new = model.generate(a.prompt, p.max_new_tokens, temp, a.seed)
                metrics = {**reproduction.match_continuation(a.truth, out, subj.language, params, p),
                           "new_model_tokens": n_new}
                if np_ok and a.mode == "greedy":
                    metrics.update(reproduction.np_extraction(model, a.prompt, a.truth))
            except AscertainError as e:  # the endpoint gave up after its retries: keep the failure, stop
                rec.add("A", a.key, subj, a.mode, a.prompt, "", decoding, "error", {}, error=str(e))
                raise
            except Exception as e:  # noqa: BLE001 (one failed attempt is recorded, the probe goes on)
                rec.add("A", a.key, subj, a.mode, a.prompt, "", decoding, "error", {},
                        error=f"{type(e).__name__}: {e}")
                continue
            rec.add("A", a.key, subj, a.mode, a.prompt, out, decoding, "ok", {**metrics, "truth": a.truth})
            tick("reproduction", done, total)


def _features(model, subjects: list[Subject], p: di.InferenceParams, reference, rec: Recorder, tick) -> None:
    todo = [(x, i, t) for x in subjects for i, t in enumerate(di.passages(x.text, x.language, p, x.key))]
    for n, (subj, i, text) in enumerate(todo, 1):
        key = f"B:{subj.key}:{i}"
        if key in rec.done:
            continue
        try:
            f = di.features(model, text, p, reference)
        except AscertainError as e:
            rec.add("B", key, subj, "score", text, "", {"passage": i}, "error", {}, error=str(e))
            raise
        rec.add("B", key, subj, "score", text, "", {"passage": i}, "ok", f)
        tick("passage features", n, len(todo))


def summarize(case: Case, rid: int, rec: Recorder, works: list[Subject], controls: list[Subject], tiers: list[str],
              opts: ProbeOptions) -> dict:
    out: dict = {}
    rows_out: list[dict] = []
    if "A" in tiers:
        control_rows = [r for x in controls for r in rec.ok("A", x) + _errors(rec, "A", x)]
        by_work: dict[int, list[dict]] = {}
        for x in works:
            by_work.setdefault(x.work_id, []).extend(rec.ok("A", x) + _errors(rec, "A", x))
        out["A"] = {}
        for wid, rows in by_work.items():
            r = reproduction.summarize(rows, control_rows)
            out["A"][wid] = r
            rows_out.append({"tier": "A", "work_id": wid, "result": r})
    if "B" in tiers:
        # the unit of the test is the work (a control file is one work): passages of one work are not independent
        ctrl = [(x.key, r) for x in controls for r in rec.ok("B", x)]
        claimants = sorted({(x.claimant_id, x.claimant) for x in works})
        res = {}
        for cid, name in claimants:
            mine = [(f"w{x.work_id}", r) for x in works if x.claimant_id == cid for r in rec.ok("B", x)]
            res[cid] = _tier_b(name, mine, ctrl, opts.inference)
        tested = [cid for cid, r in res.items() if r.get("p_value") is not None]
        q = di.q_values([res[c]["p_value"] for c in tested])
        for j, cid in enumerate(tested):
            res[cid]["q_bh"], res[cid]["q_by"] = q["bh"][j], q["by"][j]
        out["B"] = res
        rows_out += [{"tier": "B", "claimant_id": cid, "result": r} for cid, r in res.items()]
    if "C" in tiers:
        by_work_f = {}
        for x in works:
            by_work_f.setdefault(str(x.work_id), []).extend(r["metrics"] for r in rec.ok("B", x))
        cres = indicative.work_scores(by_work_f, {x.key: [r["metrics"] for r in rec.ok("B", x)] for x in controls})
        quiz = quizzes.summarize(works, controls, rec)
        out["C"] = {**cres, "quizzes": quiz}
        shared = {k: v for k, v in cres.items() if k != "works"}
        for wid in by_work_f:
            score = (cres.get("works") or {}).get(wid, {})
            rows_out.append({"tier": "C", "work_id": int(wid), "result": {
                **score, **shared, "quizzes": {**quiz["works"].get(wid, {}), "controls": quiz["controls"],
                                               "label": quiz["label"]}}})
    with case.store.begin() as c:
        for r in rows_out:
            c.execute(insert(s.probe_results).values(probe_run_id=rid, kind="probe", at=now(), **r))
    return out


def _errors(rec: Recorder, tier: str, subj: Subject) -> list[dict]:
    done = rec.done
    return [r for r in rec.rows if r["tier"] == tier and r["subject"] == subj.path and r["control"] == subj.control
            and r["status"] == "error" and r["key"] not in done]


def _tier_b(name: str, suspect: list[tuple[str, dict]], control: list[tuple[str, dict]],
            p: di.InferenceParams) -> dict:
    """suspect, control: (unit, stored passage row) pairs; the unit is the work the passage comes from."""
    s_units, c_units = sorted({u for u, _ in suspect}), sorted({u for u, _ in control})
    base = {"claimant": name, "suspect_passages": len(suspect), "control_passages": len(control),
            "suspect_works": len(s_units), "control_works": len(c_units)}
    if len(s_units) < 2 or len(c_units) < 2 or len(suspect) < 4 or len(control) < 4:
        return {**base, "p_value": None, "refused": "fewer than 2 works or 4 passages on one side: the test splits "
                "works in two halves and needs one on each; add works or control texts"}
    blind = di.blind_baseline([r["prompt"] for _, r in suspect], [r["prompt"] for _, r in control], p.seed,
                              suspect_units=[u for u, _ in suspect], control_units=[u for u, _ in control])
    # the features every passage of both sides has (an API model without the whole distribution: no Min-K%++)
    xs, names = di.feature_matrix([r["metrics"] for _, r in suspect + control])
    xs, xc = xs[:len(suspect)], xs[len(suspect):]
    why = di.refusal(blind)
    if why:
        return {**base, "features": names, "blind_baseline": blind, "p_value": None, "refused": why}
    test = di.permutation_test(xs, xc, p, np.array([u for u, _ in suspect]), np.array([u for u, _ in control]))
    return {**base, "features": names, "blind_baseline": blind, **test, "alpha": p.alpha, "refused": None}
