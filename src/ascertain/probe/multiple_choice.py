"""Tier C, DE-COP-style multiple choice (Duarte et al. 2024): among the verbatim passage and paraphrases of
it, does the model find the verbatim one the most likely? Indicative only.

DE-COP asks an instruction-tuned model which option is verbatim; here the choice is read from the model's
own log-probabilities (mean log p per token of each option), which works for base models too and needs no
parsing of an answer. The paraphrases are made without any model: seeded word-order perturbations of the
passage (a share of adjacent word pairs swapped, punctuation and spacing kept), so each option has exactly
the passage's words. No synonym substitution: there is no thesaurus offline, and a hub paraphraser would
be a second model whose own training data is unknown. A model that never saw the passage still tends to
prefer the verbatim text when the perturbation breaks grammar; that baseline is why the score is only read
against control passages (the error rate stated with it) and calibrated by `probe validate`.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import numpy as np

from ascertain.text.tokenize import tokenize


@dataclass(frozen=True)
class ChoiceParams:
    options: int = 4  # the verbatim passage and options − 1 paraphrases
    swap_share: float = 0.25  # share of adjacent word pairs swapped in each paraphrase
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def paraphrases(text: str, language: str, p: ChoiceParams, key: str) -> list[str]:
    """`options − 1` distinct word-order perturbations of `text` (fewer when the passage has too few words)."""
    ts = tokenize(text, language, kinds=False)
    t, start, end = ts.text, ts.start.tolist(), ts.end.tolist()
    words = [i for i, (a, b) in enumerate(zip(start, end, strict=True)) if t[a:b][:1].isalnum()]
    pairs = [(words[j], words[j + 1]) for j in range(len(words) - 1)]
    rng = random.Random(f"{p.seed}\x1f{key}")
    out: list[str] = []
    for _ in range(20 * p.options):  # a perturbation can repeat another one; a few draws more than needed
        if len(out) == p.options - 1 or not pairs:
            break
        chosen = sorted(rng.sample(pairs, max(1, round(len(pairs) * p.swap_share))))
        tokens = [t[a:b] for a, b in zip(start, end, strict=True)]
        used: set[int] = set()
        for i, j in chosen:
            if i in used or j in used:  # pairs sharing a word: only the first is swapped
                continue
            tokens[i], tokens[j] = tokens[j], tokens[i]
            used |= {i, j}
        gaps = [t[end[k]:start[k + 1]] for k in range(len(start) - 1)] + [t[end[-1]:]]
        cand = t[:start[0]] + "".join(tok + gap for tok, gap in zip(tokens, gaps, strict=True))
        if cand != t and cand not in out:
            out.append(cand)
    return out


def choose(model, text: str, language: str, p: ChoiceParams, key: str) -> dict | None:
    """The option the model finds most likely and the verbatim passage's margin over the best paraphrase
    (mean log p per model token); None when no paraphrase can be made."""
    options = paraphrases(text, language, p, key)
    if not options:
        return None
    lp = [float(np.mean(model.score(o).logprobs)) for o in [text, *options]]
    return {"mc_correct": bool(lp[0] > max(lp[1:])), "mc_margin": round(lp[0] - max(lp[1:]), 6),
            "mc_options": len(lp), "mc_chance": round(1 / len(lp), 4)}
