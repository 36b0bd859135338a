"""Tier C, name cloze for prose (Chang et al. 2023, "Speak, Memory"): given the text before a proper name,
does the model name it? Indicative only.

A proper name here: a capitalized word of 3+ letters that does not start a sentence (the previous token is
not . ! ? or a line break) — a heuristic, with no tagger offline; its first occurrence in the work is asked,
so the name cannot be copied from the context. Each cloze is scored two ways: exact (the greedy
continuation starts with the name, as in the original test) and the log-probability of the name after its
context, which ranks works for an AUROC. A causal model sees only the text before the name; the original
masks the name inside a passage and prompts an instruction-tuned model.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass

from ascertain.text.tokenize import tokenize

SENTENCE_END = {".", "!", "?", ":", ";", "\"", "\u201c", "\u2018"}


@dataclass(frozen=True)
class ClozeParams:
    context_tokens: int = 48  # text tokens before the name
    max_names_per_work: int = 10
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def clozes(text: str, language: str, p: ClozeParams, key: str) -> list[tuple[str, str]]:
    """(context, name) pairs: the first occurrence of each proper name with at least `context_tokens` tokens
    before it; a seeded sample of at most `max_names_per_work`."""
    ts = tokenize(text, language, kinds=False)
    t, start, end = ts.text, ts.start.tolist(), ts.end.tolist()
    seen: set[str] = set()
    found = []
    for i, (a, b) in enumerate(zip(start, end, strict=True)):
        w = t[a:b]
        if not (len(w) >= 3 and w.isalpha() and w[0].isupper() and not w.isupper()) or w in seen:
            continue
        seen.add(w)
        prev = t[end[i - 1]:a] if i else "\n"
        if i < p.context_tokens or "\n" in prev or t[start[i - 1]:end[i - 1]] in SENTENCE_END:
            continue
        found.append((t[start[i - p.context_tokens]:end[i - 1]], w))
    if len(found) > p.max_names_per_work:
        rng = random.Random(f"{p.seed}\x1f{key}")
        found = [found[i] for i in sorted(rng.sample(range(len(found)), p.max_names_per_work))]
    return found


def ask(model, context: str, name: str, scored: bool) -> dict:
    """Greedy fill of the name after its context; with log-probabilities also log p(name | context)."""
    target = " " + name
    n = max(2, len(model.encode(target)) + 1) if hasattr(model, "encode") else 8
    out, _ = model.generate(context, n, 0.0, 0)
    m = {"cloze_correct": re.match(rf"{re.escape(name)}\b", out.strip()) is not None, "cloze_output": out[:80],
         "name": name}
    if scored:
        m["cloze_logp"] = round(float(model.score(target, context).logprobs.sum()), 6)
    return m
