"""The C segment scanner (fingerprint/_kernel.c `segments`) finds the same comments and string literals, in
the same order, as each family's regular expression (text/languages.py), which stays the reference and the
lexer of the other families: on real files and on random text made of the characters the lexers react to."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from ascertain.fingerprint.vectorized import _kernel
from ascertain.text.normalize import normalize
from ascertain.text.tokenize import _KERNEL_FAMILIES, _regex_segments, _segment_array, tokenize

pytestmark = pytest.mark.skipif(_kernel is None, reason="the C kernel is not built")

ALPHABET = list("#\"'\\\n/*`rRbBuUfFx _é\t")


def _same(text: str, family: str) -> None:
    c = np.frombuffer(_kernel.segments(text, _KERNEL_FAMILIES[family]), np.int64).reshape(-1, 3)
    ref = _regex_segments(text, family)
    assert c.tolist() == ref.tolist(), (family, text[:200])


@pytest.mark.parametrize("family", sorted(_KERNEL_FAMILIES))
def test_random_text(family):
    rng = random.Random(7)
    for _ in range(4000):
        _same("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60))), family)


def _files(root: Path, pattern: str, n: int) -> list[Path]:
    return sorted(root.rglob(pattern))[:n] if root.exists() else []


def test_real_files(data):
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    cases = [(p, "python") for p in _files(stdlib, "*.py", 150) + _files(data, "*.py", 50)]
    cases += [(p, "c") for p in _files(Path(sysconfig.get_paths()["include"]), "*.h", 80)]
    cases += [(p, "javascript") for p in _files(data, "*.js", 50)]
    assert len(cases) > 200
    for path, family in cases:
        _same(normalize(path.read_text(encoding="utf-8", errors="replace")), family)


def test_tokens_kinds_unchanged(data):
    """tokenize's kinds through the scanner equal the kinds the regex gives (the bincount marking too)."""
    for p in sorted(data.rglob("*.py"))[:30]:
        text = p.read_text(encoding="utf-8")
        ts = tokenize(text, "python")
        arr = _regex_segments(normalize(text), "python")
        kind = np.zeros(len(ts), np.uint8)
        for a, b, k in arr.tolist():
            kind[(ts.start >= a) & (ts.start < b)] = k
        assert ts.kind.tolist() == kind.tolist(), p
        assert _segment_array(normalize(text), "prose").shape == (0, 3)
