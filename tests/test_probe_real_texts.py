"""Tier B on real texts of distinct works (issue 23 §7): the Python language reference's topics, each a work with
words of its own. A small model is trained here on a seeded half of them; the blind baseline must be split by
work, or it learns which work a passage comes from and refuses every claimant on fair controls."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from ascertain.case import Case  # noqa: E402
from ascertain.probe import dataset_inference as di  # noqa: E402
from ascertain.probe.models import load_model  # noqa: E402
from ascertain.probe.real_texts import INFER, real_works  # noqa: E402
from ascertain.probe.reproduction import ReproParams  # noqa: E402
from ascertain.probe.run import ProbeOptions, run_probe  # noqa: E402
from ascertain.probe.tiny_model import train_tiny_lm  # noqa: E402
from ascertain.works import add_work  # noqa: E402

WORKS = 10  # members, non-members and controls each


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("probe_real")
    works = real_works(1)[:3 * WORKS]
    assert len(works) == 3 * WORKS, "the Python install has too few language-reference topics"
    groups = {"member": works[:WORKS], "nonmember": works[WORKS:2 * WORKS], "control": works[2 * WORKS:]}
    train_tiny_lm([t for _, t in groups["member"]], root / "model", steps=600, width=64, layers=2, block=128,
                  batch=16, vocab_size=512, lr=5e-3)
    files = {}
    for g, items in groups.items():
        (root / g).mkdir()
        files[g] = []
        for name, text in items:
            p = root / g / f"{name}.txt"
            p.write_text(text, encoding="utf-8")
            files[g].append(p)
    return {"root": root, "model": load_model(str(root / "model")), "files": files}


def test_tier_b_on_real_works_finds_members_and_does_not_refuse_fair_controls(world):
    case = Case.init(world["root"] / "case", k=4, w=5)
    for who in ("member", "nonmember"):
        for p in world["files"][who]:
            add_work(case, who, str(p), title=p.stem)
    r = run_probe(case, world["model"], ProbeOptions(ReproParams(), INFER, ("B",), [str(world["root"] / "control")]))
    b = {v["claimant"]: v for v in r["results"]["B"].values()}
    for who in ("member", "nonmember"):  # controls drawn from the same pool: the refusal must not fire
        assert b[who]["refused"] is None, b[who]["refused"]
        assert b[who]["blind_baseline"]["ci95"][0] <= 0.5 and b[who]["blind_baseline"]["suspect_works"] == WORKS
    assert b["member"]["p_value"] < 0.05, b["member"]
    assert b["nonmember"]["p_value"] > 0.1, b["nonmember"]


def test_blind_baseline_split_by_passage_learns_the_work_not_membership(world):
    """The same passages: split by passage, the classifier scores held-out passages of works it has seen."""
    texts = {g: [(p.stem, x) for p in fs for x in di.passages(p.read_text(), "prose", INFER, p.stem)]
             for g, fs in world["files"].items()}
    s, c = texts["nonmember"], texts["control"]
    grouped = di.blind_baseline([x for _, x in s], [x for _, x in c], 0, suspect_units=[u for u, _ in s],
                                control_units=[u for u, _ in c])
    by_passage = di.blind_baseline([x for _, x in s], [x for _, x in c], 0)
    assert grouped["ci95"][0] <= 0.5 and not grouped["shifted"]
    assert by_passage["suspect_works"] == len(s)  # no units given: each passage its own
    assert by_passage["shifted"] and by_passage["auroc"] > grouped["auroc"] + 0.15, (by_passage, grouped)
