"""Tier A: reproduction. Does the model, given the start of a passage, emit the rest verbatim?

For each work, cut points are drawn at seeded positions; each cut gets prefix prompts of several lengths
(in text tokens: words and punctuation marks), a greedy continuation and seeded samples at temperature 1.
Each continuation is matched against the true continuation with the matching engine (longest verbatim
run, coverage). With log-probabilities, the (n,p) figure: p_z, the probability of sampling the exact true
continuation, and the number of samples n that would emit it with probability 1/2 (Hayes et al.;
Cooper et al. 2025). Every attempt is a record, reproduction or not, so the report says "k in N".
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import fisher_exact

from ascertain.fingerprint.winnow import Params
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import compare_prepared, prepare
from ascertain.text.boilerplate import cmi_mask
from ascertain.text.tokenize import tokenize
from ascertain.validation.intervals import clopper_pearson


@dataclass(frozen=True)
class ReproParams:
    prefix_tokens: tuple[int, ...] = (32, 64)
    continuation_tokens: int = 50  # the true continuation a reproduction is measured against
    cuts: int = 2  # seeded cut points per work
    samples: int = 2  # sampled continuations per prompt, besides the greedy one
    max_new_tokens: int = 96  # model tokens generated per continuation
    min_run: int = 20  # a reproduction: a verbatim run of at least this many tokens of the true continuation
    temperature: float = 1.0
    seed: int = 0

    def as_dict(self) -> dict:
        return {**asdict(self), "prefix_tokens": list(self.prefix_tokens)}


@dataclass(frozen=True)
class Attempt:
    key: str  # unique in a probe run: resuming skips keys already done
    work: str  # work id (or control locator)
    cut: int
    prefix_tokens: int
    mode: str  # greedy | sample
    sample: int
    seed: int
    prompt: str
    truth: str


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:4], "big")


def plan(work: str, text: str, language: str, p: ReproParams, path: str = "") -> tuple[list[Attempt], str | None]:
    """The attempts for one work, or none and the reason (too short for the prefix lengths, or nothing but
    licence boilerplate to continue). A true continuation never overlaps a notice or licence text: two
    unrelated files share an Apache header, so emitting one is no evidence of training on this work."""
    ts = tokenize(text, language, kinds=False)
    n, longest = len(ts), max(p.prefix_tokens)
    if n < longest + p.continuation_tokens:
        return [], (f"{n} tokens, fewer than the longest prefix ({longest}) plus the continuation "
                    f"({p.continuation_tokens})")
    boiler = np.r_[0, np.cumsum(cmi_mask(ts, language, path))]
    span = np.arange(longest, n - p.continuation_tokens + 1)
    eligible = span[boiler[span + p.continuation_tokens] == boiler[span]].tolist()
    if not eligible:
        return [], (f"every {p.continuation_tokens}-token continuation overlaps a notice or licence text, which "
                    "other works share")
    rng = random.Random(_seed(p.seed, work))
    cuts = sorted(rng.sample(eligible, min(p.cuts, len(eligible))))
    t, start, end = ts.text, ts.start.tolist(), ts.end.tolist()
    out = []
    for c in cuts:
        # the prompt ends at its last token, the whitespace goes with the continuation: a prompt ending in a
        # space splits the model's tokens where training text never did
        truth = t[end[c - 1]:end[c + p.continuation_tokens - 1]]
        for length in p.prefix_tokens:
            prompt = t[start[c - length]:end[c - 1]]
            modes = [("greedy", 0)] + [("sample", i) for i in range(p.samples)]
            for mode, i in modes:
                key = f"{work}:{c}:{length}:{mode}:{i}"
                out.append(Attempt(key, work, c, length, mode, i, _seed(p.seed, key), prompt, truth))
    return out, None


def match_continuation(truth: str, output: str, language: str, params: Params, p: ReproParams) -> dict:
    """The output against the true continuation: longest verbatim run, coverage, exact leading tokens."""
    a = prepare(truth, language, "truth", hashlib.sha256(truth.encode()).hexdigest(), params)
    b = prepare(output, language, "output", hashlib.sha256(output.encode()).hexdigest(), params)
    r = compare_prepared(a, b, params, Thresholds(min_span_tokens=min(p.min_run, params.k + params.w - 1)),
                         align=False)
    ta, tb = a.base.raw, b.base.raw
    lead = next((i for i, (x, y) in enumerate(zip(ta, tb, strict=False)) if x != y), min(len(ta), len(tb)))
    run = int(r["longest_run_tokens"])
    return {"longest_run_tokens": run, "coverage": round(float(r["coverage"]), 4), "leading_tokens": lead,
            "reproduced": run >= p.min_run or lead >= p.min_run}


MAX_EXACT_N = 10**15  # above this, n is given by its order of magnitude only (log10_n_for_p_half)


def n_for_half(log_pz: float) -> tuple[int | None, float | None]:
    """(n, log10 n): the samples for a 1/2 chance of drawing a continuation of probability p_z = e^log_pz at
    least once, n = ⌈log 0.5 / log(1 − p_z)⌉, computed in log space so that a p_z that underflows (≈ 1e-308)
    still has its figure; n itself only when at most MAX_EXACT_N (a 261-digit integer is not a figure)."""
    if log_pz >= math.log(0.5):
        return 1, 0.0
    if log_pz == -math.inf or math.isnan(log_pz):
        return None, None
    # −log(1 − p_z) = −log1p(−e^log_pz); for tiny p_z it is e^log_pz to double precision, and its log is log_pz
    pz = math.exp(log_pz)
    log_neg = math.log(-math.log1p(-pz)) if pz > 1e-12 else log_pz
    log10_n = (math.log(math.log(2)) - log_neg) / math.log(10)
    if log10_n > math.log10(MAX_EXACT_N):
        return None, round(log10_n, 3)
    n = max(1, math.ceil(math.log(0.5) / math.log1p(-pz)))
    return n, round(math.log10(n), 3)


def np_extraction(model, prompt: str, truth: str) -> dict:
    """p_z of sampling the true continuation at temperature 1 and the samples n for a 1/2 chance."""
    s = model.score(truth, prompt)
    log_pz = float(s.logprobs.sum())
    n_half, log10_n = n_for_half(log_pz)
    return {"log10_pz": round(log_pz / math.log(10), 3) if math.isfinite(log_pz) else None,
            "n_for_p_half": n_half, "log10_n_for_p_half": log10_n, "target_model_tokens": int(len(s.logprobs))}


def n_label(n: int | None, log10_n: float | None) -> str:
    """n for printing: the integer up to MAX_EXACT_N, else its order of magnitude (`~1e+312`)."""
    if n is not None:
        return str(n)
    return "-" if log10_n is None else f"~1e+{math.floor(log10_n)}"


def _log10_n(m: dict) -> float | None:
    if m.get("log10_n_for_p_half") is not None:
        return m["log10_n_for_p_half"]
    return round(math.log10(m["n_for_p_half"]), 3) if m.get("n_for_p_half") else None  # rows stored before


def summarize(rows: list[dict], control_rows: list[dict]) -> dict:
    """One work's figures: k reproductions in N attempts, against the chance rate on control works."""
    ok = [r for r in rows if r["status"] == "ok"]
    k = sum(r["metrics"]["reproduced"] for r in ok)
    cok = [r for r in control_rows if r["status"] == "ok"]
    ck = sum(r["metrics"]["reproduced"] for r in cok)
    pval = float(fisher_exact([[k, len(ok) - k], [ck, len(cok) - ck]], alternative="greater")[1]) \
        if ok and cok else None
    best = max(ok, key=lambda r: r["metrics"]["longest_run_tokens"], default=None)
    nps = [(_log10_n(r["metrics"]), r["metrics"].get("n_for_p_half")) for r in ok]
    nps = [x for x in nps if x[0] is not None]
    best_n = min(nps, default=(None, None))
    return {"attempts": len(ok), "errors": len(rows) - len(ok), "reproductions": k,
            "rate": round(k / len(ok), 4) if ok else None, "rate_ci95": clopper_pearson(k, len(ok), digits=5),
            "greedy_reproductions": sum(r["metrics"]["reproduced"] for r in ok if r["mode"] == "greedy"),
            "longest_run_tokens": best["metrics"]["longest_run_tokens"] if best else 0,
            "best_prompt_key": best["key"] if best else None,
            "min_n_for_p_half": best_n[1], "min_log10_n_for_p_half": best_n[0],
            "control_attempts": len(cok), "control_reproductions": ck,
            "chance_rate_ci95": clopper_pearson(ck, len(cok), digits=5), "p_vs_control": pval,
            "statement": f"{k} reproductions in {len(ok)} attempts; {ck} in {len(cok)} on control works"}
