"""Labelled cases for `ascertain validate`: real files, known transformations, unrelated negatives.

Works are real Python files of this machine's installed packages (one seed picks them). Every positive
case is a copy of a work made by one transformation or a combination, often embedded in an unrelated
real file; every negative case pairs a work with a real file from another package. Cases are written
to a folder as files, so every tool reads the same bytes.
"""

from __future__ import annotations

import ast
import functools
import json
import random
import tokenize as py_tokenize
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from ascertain.cmi.sample import candidate_files
from ascertain.text.boilerplate import cmi_mask
from ascertain.text.tokenize import tokenize
from ascertain.validation import transforms as tf

SINGLE = ["verbatim", "rename", "reformat", "strip_comments", "strip_cmi", "reorder", "insert_lines"]
COMBINED = ["rename+reformat+strip_comments", "reorder+rename", "insert_lines+reformat+strip_cmi",
            "rename+strip_comments+insert_lines"]
PARTIAL_SHARES = [0.1, 0.25, 0.5, 0.75]
# issue 23 §4's combined modification: identifiers renamed and layout changed in the whole file, then about
# 70 % of its own tokens (whole lines) taken into an unrelated file; drawn with its own seeded generator so
# that the other cases stay as they were
EXCERPT_COMBINED = ("rename+reformat+partial 70%", 0.7)
# not one of the targets' transformations: a near-duplicate whose runs are all broken (a word in twenty
# replaced), the case the whole-document MinHash signal is for
NEAR_DUPLICATE = ["scattered_edits"]
# what a real file can make Python's tokenizer, tree-sitter or a transformation raise: that case is skipped
CASE_ERRORS = (SyntaxError, py_tokenize.TokenError, UnicodeDecodeError, RecursionError, ValueError)
T = TypeVar("T")


@dataclass
class Case:
    id: str
    work: str  # path of the original
    copy: str  # path of the copy (or the unrelated file)
    label: bool  # True: the copy reproduces the work
    transform: str
    copy_tokens: int  # tokens of the work reproduced in the copy (0 for negatives)
    language: str = "python"


def _real_python_files(rng: random.Random, want: int, min_tokens: int = 60, max_bytes: int = 40_000
                       ) -> list[tuple[str, Path]]:
    """Up to `want` parseable Python files of at least min_tokens tokens, in a seeded random order."""
    out = []
    files = [(pkg, p) for pkg, p in candidate_files() if p.suffix == ".py"]
    rng.shuffle(files)
    for package, path in files:
        if len(out) >= want:
            break
        if not 400 <= path.stat().st_size <= max_bytes:
            continue
        try:
            src = path.read_text(encoding="utf-8")
            ast.parse(src)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
        if sum(own_tokens_per_line(src, str(path))) >= min_tokens:
            out.append((package, path))
    return out


def own_tokens_per_line(src: str, path: str = "", language: str = "python") -> list[int]:
    """Tokens of each line that are the work's own expression: outside copyright and license notices.

    A copy of a license header alone is not a copy of the work (two unrelated Apache-2.0 files share it),
    so labels and copy lengths count only these tokens.
    """
    ts = tokenize(src, language)
    own = ~cmi_mask(ts, language, path)
    counts = np.bincount(ts.line[own] - 1, minlength=src.count("\n") + 1)
    return counts[: len(src.splitlines())].tolist()


def _write(dest: Path, name: str, text: str) -> str:
    p = dest / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def _case_id(work_id: str, variant: str) -> str:
    return f"{work_id}-{variant.replace(' ', '').replace('%', 'pct').replace('+', '_')}"


def _save(dest: Path, cases: list[Case]) -> list[Case]:
    (dest / "cases.jsonl").write_text("".join(json.dumps(asdict(c)) + "\n" for c in cases))
    return cases


def build_cases(dest: Path, works: int = 150, negatives_per_work: int = 20, seed: int = 7,
                skipped: list[dict] | None = None) -> list[Case]:
    """The labelled cases; a case that cannot be built (a file Python's tokenizer or a transformation rejects)
    is left out and listed in `skipped` ({file, transformation, reason}), never a crash."""
    skipped = [] if skipped is None else skipped
    rng = random.Random(seed)
    pool = _real_python_files(rng, works * 12 + negatives_per_work * 4)
    if len(pool) < works * 3:
        raise ValueError(f"only {len(pool)} usable Python files installed; ask for fewer works")
    rng.shuffle(pool)
    chosen, seen_pkg = [], {}
    for package, path in pool:  # spread the works over packages
        if seen_pkg.get(package, 0) < max(2, works // 30):
            seen_pkg[package] = seen_pkg.get(package, 0) + 1
            chosen.append((package, path))
        if len(chosen) == works:
            break
    others = [p for p in pool if p not in chosen]
    dest.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def write(name: str, text: str) -> str:
        return _write(dest, name, text)

    for w, (package, path) in enumerate(chosen):
        unrelated = [o for o in others if o[0] != package]
        make = functools.partial(work_cases, w, path, unrelated, rng, write, negatives_per_work, skipped)
        cases += _attempt(skipped, path, "(all: the work)", make) or []
    return _save(dest, cases)


def work_cases(w: int, path: Path, unrelated: list[tuple[str, Path]], rng: random.Random,
               write: Callable[[str, str], str], negatives_per_work: int, skipped: list[dict]) -> list[Case]:
    """Every case of one work: its copies (one per transformation that applies) and its negatives."""
    src = path.read_text(encoding="utf-8")
    counts = own_tokens_per_line(src)
    n_tokens = sum(counts)
    work = write(f"w{w:04d}.py", src)
    host = rng.choice(unrelated)[1].read_text(encoding="utf-8")
    donor = rng.choice(unrelated)[1].read_text(encoding="utf-8")
    variants: dict[str, tuple[str, int]] = {}

    def variant(name: str, make) -> None:
        made = _attempt(skipped, path, name, make)
        if made is not None:
            variants[name] = made

    def transformed(name: str) -> tuple[str, int]:
        text = src
        for step in name.split("+"):
            text = _apply(step, text, rng, donor)
        return text, n_tokens

    for name in SINGLE + COMBINED + NEAR_DUPLICATE:
        variant(name, lambda name=name: transformed(name))
    for share in PARTIAL_SHARES:
        a, b, n = tf.partial(counts, rng, share)
        variant(f"partial {int(share * 100)}%",
                lambda a=a, b=b, n=n: (tf.embed(tf.lines_of(src, a, b), host, rng), n))
        if share == 0.5:  # renamed in the whole file (one consistent map), then the same lines taken
            variant("partial 50%+rename",
                    lambda a=a, b=b, n=n: (tf.embed(tf.lines_of(tf.rename(src, rng), a, b), host, rng), n))
    name, share = EXCERPT_COMBINED
    own = random.Random(f"{name}:{w}")
    a, b, n = tf.partial(counts, own, share)
    variant(name, lambda a=a, b=b, n=n: (tf.embed("".join(tf.reformat_lines(tf.rename(src, own), own)[a:b]),
                                                   host, own), n))
    cases = []
    for name, (text, n) in variants.items():
        cid = _case_id(f"w{w:04d}", name)
        cases.append(Case(cid, work, write(f"{cid}.py", text), True, name, n))
    for k, (_, other) in enumerate(rng.sample(unrelated, min(negatives_per_work, len(unrelated)))):
        cid = f"w{w:04d}-neg{k:02d}"  # copied in: installed packages change under a long run
        text = _attempt(skipped, other, "unrelated", lambda other=other: other.read_text(encoding="utf-8"))
        if text is not None:
            cases.append(Case(cid, work, write(f"{cid}.py", text), False, "unrelated", 0))
    return cases


def _attempt(skipped: list[dict], file: Path | str, transformation: str, make: Callable[[], T]) -> T | None:
    """make(), or None with a note in `skipped` when the input or the transformation cannot be processed."""
    try:
        return make()
    except CASE_ERRORS as e:
        skipped.append({"file": str(file), "transformation": transformation, "reason": f"{type(e).__name__}: {e}"})
        return None


def _apply(step: str, text: str, rng: random.Random, donor: str) -> str:
    if step == "verbatim":
        return text
    if step == "scattered_edits":
        return tf.scattered_edits(text, rng)
    if step == "insert_lines":
        return tf.insert_lines(text, rng, donor)
    return getattr(tf, step)(text, rng)


PROSE_SINGLE = ["verbatim", "rewrap", "quotes_punct", "case", "strip_cmi", "insert_sentences", "delete_sentences"]
PROSE_COMBINED = ["rewrap+quotes_punct+insert_sentences", "case+delete_sentences+rewrap"]


def _real_prose(rng: random.Random, min_words: int = 200, max_chars: int = 30_000) -> list[tuple[str, str]]:
    """(package, text): the long descriptions in installed packages' METADATA (their READMEs), real prose."""
    import sysconfig

    out = []
    for meta in sorted(Path(sysconfig.get_paths()["purelib"]).glob("*.dist-info/METADATA")):
        text = meta.read_text(encoding="utf-8", errors="replace")
        body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
        if len(body.split()) >= min_words:
            out.append((meta.parent.name.split("-")[0].lower(), body[:max_chars]))
    rng.shuffle(out)
    return out


def build_prose_cases(dest: Path, works: int = 50, negatives_per_work: int = 20, seed: int = 7) -> list[Case]:
    from ascertain.validation import prose_transforms as pt

    rng = random.Random(seed)
    pool = _real_prose(rng)
    if len(pool) < works + 5:
        raise ValueError(f"only {len(pool)} package descriptions of real prose installed; ask for fewer works")
    chosen, others = pool[:works], pool
    dest.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def write(name: str, text: str) -> str:
        return _write(dest, name, text)

    for w, (package, src) in enumerate(chosen):
        work = write(f"p{w:04d}.txt", src)
        counts = own_tokens_per_line(src, language="prose")
        n_tokens = sum(counts)
        unrelated = [o for o in others if o[0] != package]
        host, donor = rng.choice(unrelated)[1], rng.choice(unrelated)[1]
        variants: dict[str, tuple[str, int]] = {}
        for name in PROSE_SINGLE + PROSE_COMBINED:
            text = src
            for step in name.split("+"):
                text = (text if step == "verbatim" else pt.insert_sentences(text, rng, donor)
                        if step == "insert_sentences" else getattr(pt, step)(text, rng))
            variants[name] = (text, n_tokens)
        for share in PARTIAL_SHARES:
            a, b, n = tf.partial(counts, rng, share)
            part = tf.lines_of(src, a, b)
            variants[f"partial {int(share * 100)}%"] = (pt.embed(part, host, rng), n)
            if share == 0.5:
                variants["partial 50%+quotes_punct"] = (pt.embed(pt.quotes_punct(part, rng), host, rng), n)
        for name, (text, n) in variants.items():
            cid = _case_id(f"p{w:04d}", name)
            cases.append(Case(cid, work, write(f"{cid}.txt", text), True, name, n, "prose"))
        for k, (_, other) in enumerate(rng.sample(unrelated, min(negatives_per_work, len(unrelated)))):
            cid = f"p{w:04d}-neg{k:02d}"
            cases.append(Case(cid, work, write(f"{cid}.txt", other), False, "unrelated", 0, "prose"))
    return _save(dest, cases)
