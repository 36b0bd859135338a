"""ascertain probe: a small causal LM trained here on texts we choose, so every answer is known."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

pytest.importorskip("torch")
pytest.importorskip("transformers")

from ascertain.case import Case  # noqa: E402
from ascertain.errors import AscertainError  # noqa: E402
from ascertain.probe import dataset_inference as di  # noqa: E402
from ascertain.probe.calibration import Setup, synthetic_corpus  # noqa: E402
from ascertain.probe.models import load_model  # noqa: E402
from ascertain.probe.reproduction import ReproParams  # noqa: E402
from ascertain.probe.run import ProbeOptions, run_probe  # noqa: E402
from ascertain.probe.serve import serve_model  # noqa: E402
from ascertain.probe.tiny_model import train_tiny_lm  # noqa: E402
from ascertain.store import schema as s  # noqa: E402
from ascertain.works import add_work  # noqa: E402

REPRO = ReproParams(prefix_tokens=(8, 16), continuation_tokens=20, cuts=1, samples=1, max_new_tokens=32,
                    min_run=12)
INFER = di.InferenceParams(passage_tokens=14, max_passages_per_work=3)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """Traps repeated 40 times are trained on (claimant "Trained"); non-members are not."""
    root = tmp_path_factory.mktemp("probe")
    corpus = synthetic_corpus(Setup(documents=32, words=36, traps=6, repeats=(40,), vocabulary=60, null_pool=0))
    trained = corpus["traps"][40]
    train_tiny_lm(corpus["train"], root / "model", steps=250, width=64, layers=2, block=128, batch=16,
                  vocab_size=512, lr=5e-3)
    files = {}
    for name, texts in (("trained", trained), ("unseen", corpus["non_members"][:3]),
                        ("control", corpus["non_members"][3:15])):
        (root / name).mkdir()
        files[name] = []
        for i, t in enumerate(texts):
            p = root / name / f"{name}{i}.txt"
            p.write_text(t)
            files[name].append(p)
    shifted = root / "shifted"
    shifted.mkdir()
    words = Path(np.__file__).parent.joinpath("__init__.py").read_text().split()
    for i in range(12):
        (shifted / f"s{i}.txt").write_text(" ".join(words[i * 36:(i + 1) * 36]))
    return {"root": root, "model": load_model(str(root / "model")), "files": files, "shifted": shifted}


def make_case(world: dict, name: str) -> Case:
    case = Case.init(world["root"] / name, k=4, w=5)
    for who in ("trained", "unseen"):
        for p in world["files"][who]:
            add_work(case, who.title(), str(p), title=p.stem)
    return case


def test_capabilities_and_identity(world):
    info = world["model"].info
    assert info.capability == "full" and info.kind == "hf" and len(info.fingerprint) == 64
    assert info.allows("min_k_pp") and info.allows("dataset_inference")
    f = di.features(world["model"], world["files"]["trained"][0].read_text(), INFER, reference=world["model"])
    assert abs(f["neg_ref_ratio"]) < 1e-9 and f["neg_loss"] < 0 and f["min_k"] <= f["neg_loss"] + 1e-9


def test_reproduction_finds_trained_works_and_stores_every_attempt(world):
    case = make_case(world, "case_a")
    r = run_probe(case, world["model"], ProbeOptions(REPRO, INFER, ("A",), [str(world["root"] / "control")]))
    by_title = _by_title(case, r["results"]["A"])
    # measured on this model: 2 of the 3 trained texts are reproduced (the third has a repeated 4-word
    # phrase the tiny model cannot get past); no unseen text and no control text ever is
    assert sum(a["reproductions"] >= 1 for t, a in by_title.items() if t.startswith("trained")) >= 2
    assert all(a["reproductions"] == 0 for t, a in by_title.items() if t.startswith("unseen"))
    first = next(iter(r["results"]["A"].values()))
    assert first["control_attempts"] == 12 * 2 * 2 and first["control_reproductions"] == 0
    with case.store.engine.connect() as c:
        n = c.execute(select(func.count()).select_from(s.probes).where(s.probes.c.tier == "A")).scalar_one()
        greedy = c.execute(select(s.probes.c.metrics).where(s.probes.c.mode == "greedy")).scalars().first()
        kinds = set(c.execute(select(s.probe_results.c.kind)).scalars())
    assert n == (6 + 3 + 12) * 2 * 2  # failures included: every prompt and output
    assert "log10_pz" in greedy and kinds == {"probe"}
    from ascertain.report.show import case_summary

    shown = case_summary(case)["probe"]
    assert {r["tier"] for r in shown} == {"A"} and len(shown) == 9
    assert all(" reproductions in " in r["summary"] and r["kind"] == "probe" for r in shown)
    # the same command again: nothing repeated
    again = run_probe(case, world["model"], ProbeOptions(REPRO, INFER, ("A",), [str(world["root"] / "control")]))
    assert again["resumed"] and again["attempts_added"] == 0


def _by_title(case: Case, res: dict) -> dict:
    with case.store.engine.connect() as c:
        titles = dict(c.execute(select(s.works.c.id, s.works.c.title)).all())
    return {titles[int(w)]: a for w, a in res.items()}


class Flaky:
    """The real model, failing after `ok` generations (an endpoint that went away mid-probe)."""

    def __init__(self, model, ok: int) -> None:
        self.model, self.ok, self.info = model, ok, model.info

    def generate(self, *a):
        if self.ok <= 0:
            raise AscertainError("endpoint", "did not answer", "run again")
        self.ok -= 1
        return self.model.generate(*a)

    def score(self, *a):
        return self.model.score(*a)


def test_interrupted_probe_resumes_without_repeating_or_losing(world):
    case = make_case(world, "case_resume")
    opts = ProbeOptions(REPRO, INFER, ("A",), [])
    with pytest.raises(AscertainError):
        run_probe(case, Flaky(world["model"], 5), opts)
    r = run_probe(case, world["model"], opts)
    assert r["resumed"] and r["attempts_stored_before"] == 6  # 5 done + 1 recorded failure
    with case.store.engine.connect() as c:
        rows = c.execute(select(s.probes.c.key, s.probes.c.status)).all()
    ok = [k for k, st in rows if st == "ok"]
    assert len(ok) == len(set(ok)) == 9 * 2 * 2 and sum(st == "error" for _, st in rows) == 1


def test_dataset_inference_and_refusal_on_shifted_control(world):
    case = make_case(world, "case_b")
    r = run_probe(case, world["model"], ProbeOptions(REPRO, INFER, ("B", "C"), [str(world["root"] / "control")]))
    b = {v["claimant"]: v for v in r["results"]["B"].values()}
    assert b["Trained"]["refused"] is None and b["Trained"]["p_value"] < 0.05
    assert b["Trained"]["permutations"] == 10_000 and "q_by" in b["Trained"]
    assert b["Unseen"]["p_value"] is None or b["Unseen"]["p_value"] > 0.01
    assert r["results"]["C"]["label"].startswith("indicative")
    # Tier C quizzes, every question stored: the trained texts' verbatim option wins more often than the controls'
    q = r["results"]["C"]["quizzes"]
    mine = {t: w["multiple_choice"] for t, w in _by_title(case, q["works"]).items()}
    ctrl = q["controls"]["multiple_choice"]
    trained = [v["correct"] / v["asked"] for t, v in mine.items() if t.startswith("trained")]
    assert ctrl["asked"] >= 12 and min(trained) > ctrl["rate"], (mine, ctrl)
    from ascertain.report.show import probe_evidence

    assert any("multiple choice" in e["summary"] for e in probe_evidence(case) if e["tier"] == "C")
    shifted = make_case(world, "case_shift")
    r2 = run_probe(shifted, world["model"], ProbeOptions(REPRO, INFER, ("B",), [str(world["shifted"])]))
    for v in r2["results"]["B"].values():
        assert v["p_value"] is None and v["refused"].startswith("refused: a classifier that never queries")


def test_permutation_test_false_positive_rate_holds_under_the_null():
    rng = np.random.default_rng(3)
    p = np.array([di.permutation_pvalue(rng.normal(size=40), 20, 2000, rng) for _ in range(2000)])
    for a in (0.05, 0.01):  # exact: the rate scatters around α
        assert (p <= a).mean() <= a + 2 * np.sqrt(a * (1 - a) / 2000)
    assert p.min() >= 1 / 2001
    shifted = [di.permutation_pvalue(np.r_[rng.normal(size=20) + 1, rng.normal(size=20)], 20, 2000, rng)
               for _ in range(200)]
    assert (np.array(shifted) <= 0.05).mean() > 0.8
    # cross-fitted, works as units: passages of one work stay in one half, both directions must reject
    x, units = rng.normal(size=(60, 3)), np.repeat(np.arange(20), 3)
    both = [di.crossfit(x[:30], x[30:], units[:30], units[30:], rng, 2000) for _ in range(300)]
    assert all(r["p_value"] == max(d["p_value"] for d in r["directions"]) for r in both)
    assert np.mean([r["p_value"] <= 0.05 for r in both]) <= 0.05
    a, b = di.unit_halves(units[:30], rng)
    assert not set(units[a]) & set(units[b]) and len(a) + len(b) == 30
    strong = di.crossfit(x[:30] + 2.0, x[30:], units[:30], units[30:], rng, 2000)
    assert strong["p_value"] < 0.05


def test_api_endpoint_through_a_real_server_with_retries(world):
    from ascertain.probe.api import ApiModel

    fails = {"left": 2}

    def rate_limit(handler) -> bool:  # the first two requests get 429
        if fails["left"] > 0:
            fails["left"] -= 1
            handler._send(429, {"error": {"message": "slow down"}})
            return True
        return False

    server, url = serve_model(world["model"], "tiny", hook=rate_limit)
    try:
        api = ApiModel(url, None, backoff=0.01)
        assert api.retried == 2 and api.info.capability == "prompt_logprobs" and api.info.model_id == "tiny"
        prompt = world["files"]["trained"][0].read_text()[:80]
        assert api.generate(prompt, 12, 0.0, 1)[0] == world["model"].generate(prompt, 12, 0.0, 1)[0]
        assert np.allclose(api.score(prompt).logprobs, world["model"].score(prompt).logprobs)
        # the whole probe through the API: the tests its capability allows (no whole distribution: no Min-K%++)
        few = world["root"] / "control_few"  # fewer texts than the other tests: every prompt is an HTTP call
        few.mkdir(exist_ok=True)
        for f in world["files"]["control"][:4]:
            (few / f.name).write_text(f.read_text())
        r = run_probe(make_case(world, "case_api"), api, ProbeOptions(replace(REPRO, samples=0), INFER, ("A", "B"),
                                                                      [str(few)]))
        assert r["tiers_run"] == ["A", "B"] and r["model"]["kind"] == "api"
        b = {v["claimant"]: v for v in r["results"]["B"].values()}["Trained"]
        assert "min_k" in b["features"] and "min_k_pp" not in b["features"]
        assert sum(a["reproductions"] for a in r["results"]["A"].values()) >= 2
    finally:
        server.shutdown()
    down, url2 = serve_model(world["model"], hook=lambda h: h._send(503, {}) or True)
    try:
        with pytest.raises(AscertainError, match="did not answer after 3 attempts"):
            ApiModel(url2, None, retries=2, backoff=0.01)
    finally:
        down.shutdown()


def test_bad_models_and_short_works(world, tmp_path):
    for spec, msg in ((str(tmp_path / "nope"), "does not exist"), (str(world["files"]["trained"][0]), "not a .gguf"),
                      (str(tmp_path), "without config.json"), ("pkg:no_such_package_xyz", "not an installed")):
        with pytest.raises(AscertainError, match=msg):
            load_model(spec)
    (tmp_path / "bad.gguf").write_bytes(b"not a gguf file")
    with pytest.raises(AscertainError, match="cannot load the model"):
        load_model(str(tmp_path / "bad.gguf"))
    case = Case.init(tmp_path / "short")
    (tmp_path / "tiny.txt").write_text("too short")
    add_work(case, "A", str(tmp_path / "tiny.txt"), title="tiny")
    r = run_probe(case, world["model"], ProbeOptions(REPRO, INFER, ("A",), []))
    with case.store.engine.connect() as c:
        row = c.execute(select(s.probes).where(s.probes.c.status == "skipped")).mappings().one()
    assert "fewer than the longest prefix" in row["error"] and r["attempts_added"] == 1
    from ascertain.report.show import skipped_inputs

    assert [x["stage"] for x in skipped_inputs(case)] == ["probe"]
    run_probe(case, world["model"], ProbeOptions(REPRO, INFER, ("A",), []))  # recorded once, not per rerun
    assert len(skipped_inputs(case)) == 1
    assert json.dumps(r)


class Underflowing:
    """The real model, whose true continuations get a probability of about 1e-309 (log p = −711): exp() still
    gives a (denormal) float, and log 0.5 / log1p(−p) overflows."""

    def __init__(self, model) -> None:
        self.model, self.info = model, model.info

    def generate(self, *a):
        return self.model.generate(*a)

    def score(self, text, prompt=""):
        s = self.model.score(text, prompt)
        return replace(s, logprobs=s.logprobs * 0 - 711.0 / max(1, len(s.logprobs)))


def test_np_figure_of_an_underflowing_continuation_is_stored_not_an_error(world):
    """Issue 23 §7: (n, p) in log space; the attempt is stored with its figure and a capped print."""
    from ascertain.probe.reproduction import MAX_EXACT_N, n_for_half, n_label

    assert n_for_half(-2000.0)[0] is None and 868 < n_for_half(-2000.0)[1] < 869
    assert n_label(*n_for_half(-2000.0)) == "~1e+868" and n_for_half(-1.0) == (2, 0.301)
    assert n_for_half(-30.0)[0] <= MAX_EXACT_N and n_for_half(-600.0)[0] is None  # no 261-digit integers
    assert n_label(*n_for_half(-600.0)) == "~1e+260"
    case = make_case(world, "case_underflow")
    r = run_probe(case, Underflowing(world["model"]), ProbeOptions(REPRO, INFER, ("A",), []))
    with case.store.engine.connect() as c:
        rows = c.execute(select(s.probes.c.status, s.probes.c.mode, s.probes.c.metrics)
                         .where(s.probes.c.tier == "A")).all()
    assert rows and all(st == "ok" for st, _, _ in rows)
    greedy = [m for _, mode, m in rows if mode == "greedy"]
    assert greedy and all(m["n_for_p_half"] is None and m["log10_n_for_p_half"] > 308 for m in greedy)
    assert all(-309 < m["log10_pz"] < -308 for m in greedy)
    a = next(iter(r["results"]["A"].values()))
    assert a["errors"] == 0 and a["min_n_for_p_half"] is None and a["min_log10_n_for_p_half"] > 308


def test_controls_are_keyed_by_content_not_by_the_path_typed(world, tmp_path):
    """Issue 23 §7: the same control texts in another folder, under other names, give the same cut points,
    passages and chance rate."""
    moved = tmp_path / "elsewhere" / "renamed"
    moved.mkdir(parents=True)
    for i, p in enumerate(sorted((world["root"] / "control").iterdir())):
        (moved / f"other-name-{i}.txt").write_text(p.read_text())
    (moved / "dup.txt").write_text(sorted((world["root"] / "control").iterdir())[0].read_text())

    def control_rows(folder: Path, name: str) -> tuple[list, dict]:
        case = make_case(world, name)
        r = run_probe(case, world["model"], ProbeOptions(REPRO, INFER, ("A", "B"), [str(folder)]))
        with case.store.engine.connect() as c:
            rows = c.execute(select(s.probes.c.tier, s.probes.c.key, s.probes.c.prompt, s.probes.c.decoding)
                             .where(s.probes.c.control.is_(True))).all()
        return sorted((t, k, p, json.dumps(d, sort_keys=True)) for t, k, p, d in rows), r["results"]

    first, r1 = control_rows(world["root"] / "control", "case_ctrl1")
    second, r2 = control_rows(moved, "case_ctrl2")
    assert first and first == second  # the duplicate text counted once
    a1, a2 = next(iter(r1["A"].values())), next(iter(r2["A"].values()))
    for k in ("control_attempts", "control_reproductions"):
        assert a1[k] == a2[k]
    assert {k: v["p_value"] for k, v in r1["B"].items()} == {k: v["p_value"] for k, v in r2["B"].items()}
