"""The cost of the short-work size bar on partial and combined copies of `ascertain validate`'s real works.

    PYTHONPATH=src python3 tools/size_bar_effect.py --works 150

Builds the cases of `ascertain validate` (seed 7), which hold the issue's combined modification
(`rename+reformat+partial 70%`: 70 % of the own tokens), plus this tool's variant of it (rename + reformat,
then 70 % of the lines, embedded in an unrelated file: `... 70% of lines`), and prints level-auto recall per
transformation with the size bar (match/short_works.py) and without it (`Thresholds(size_bars=False)`), all
copies and copies of at least 50 own tokens.
"""

from __future__ import annotations

import argparse
import collections
import random
from pathlib import Path

from ascertain.match.measure import Thresholds
from ascertain.validation import transforms as tf
from ascertain.validation.cases import Case, build_cases
from ascertain.validation.evaluate import ascertain_scores


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--works", type=int, default=150)
    # validate's 20 negatives per work: the seeded draws of the copies depend on it, so only this value
    # reproduces the cases of the copies table (docs/validation.md)
    ap.add_argument("--negatives", type=int, default=20)
    ap.add_argument("--work", type=Path, default=Path("size-bar-effect"))
    a = ap.parse_args()
    cases = build_cases(a.work, works=a.works, negatives_per_work=a.negatives, seed=7)
    rng = random.Random(70)
    by_work: dict[str, list[Case]] = collections.defaultdict(list)
    for c in cases:
        by_work[c.work].append(c)
    extra = []
    for w, cs in sorted(by_work.items()):
        try:
            text = tf.reformat(tf.rename(Path(w).read_text(encoding="utf-8"), rng), rng)
        except (SyntaxError, ValueError, UnicodeDecodeError):  # Python's tokenizer refuses the file: skipped
            continue
        lines = text.splitlines(keepends=True)
        k = max(1, round(0.7 * len(lines)))
        start = rng.randrange(0, len(lines) - k + 1)
        host = next((Path(c.copy).read_text(encoding="utf-8") for c in cs if not c.label), "")
        p = a.work / f"{Path(w).stem}-c70.py"
        p.write_text(tf.embed("".join(lines[start:start + k]), host, rng), encoding="utf-8")
        extra.append(Case(p.stem, w, str(p), True, "rename+reformat+partial 70% of lines", 0))
    chosen = [c for c in cases if c.label and (c.transform.startswith("partial") or "+" in c.transform)] + extra
    for bars in (True, False):
        found, _ = ascertain_scores(chosen, "auto", th=Thresholds(size_bars=bars))
        res: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
        for c in chosen:
            res[c.transform][0] += found[c.id] is not None
            res[c.transform][1] += 1
            if c.copy_tokens >= 50:  # the validator's copies carry their length; this tool's variant does not
                res[c.transform][2] += found[c.id] is not None
                res[c.transform][3] += 1
        print("size bar" if bars else "no size bar",
              {k: f"{x}/{n}" + (f" ({x50}/{n50} of 50+ tokens)" if n50 else "")
               for k, (x, n, x50, n50) in sorted(res.items())})


if __name__ == "__main__":
    main()
