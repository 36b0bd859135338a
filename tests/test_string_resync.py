"""A renamed excerpt cut inside a docstring and inside a call is still found at the identifiers level.

Issue 23 §4 (rename + reformat + 70 % excerpt): most misses were fragments whose first line stood inside a
docstring, or whose last line left a bracket open; the parser then paired the fragment's delimiters the
wrong way round and its renamed code was read as a string (text/string_resync.py).
"""

from __future__ import annotations

import inspect
import json
import random

from ascertain.fingerprint.winnow import Params
from ascertain.match.auto_level import Leveled, compare_auto
from ascertain.match.measure import Thresholds
from ascertain.text import string_resync
from ascertain.text.levels import parser_for
from ascertain.validation import transforms as tf


def _fragment_inside_docstring() -> tuple[str, str]:
    """(a real stdlib module, a renamed and reformatted excerpt of it that starts inside a docstring and
    ends inside an open call, pasted into another real module)."""
    work = inspect.getsource(json.decoder)
    lines = work.splitlines(keepends=True)
    rng = random.Random(3)
    renamed = tf.reformat_lines(tf.rename(work, rng), rng)
    # from the line after py_scanstring's docstring opens, to the second `raise JSONDecodeError(` (open)
    start = next(i for i, line in enumerate(lines) if '"""Scan the string' in line) + 1
    end = [i for i, line in enumerate(lines) if line.rstrip().endswith("JSONDecodeError(")][1]
    host = inspect.getsource(random)
    return work, tf.embed("".join(renamed[start:end + 1]), host, rng)


def test_excerpt_cut_inside_a_docstring_and_a_call_is_found_renamed():
    work, copy = _fragment_inside_docstring()
    parser = parser_for("python")
    raw = string_resync.error_bytes(parser.parse(copy.encode()))
    fixed, tree = string_resync.resync(copy.encode(), parser, "python")
    assert len(fixed) == len(copy.encode())  # blanks keep every offset
    assert string_resync.error_bytes(tree) < raw / 4
    p, th = Params(), Thresholds()
    result, level = compare_auto(Leveled(work, "python", "w", "w", p), Leveled(copy, "python", "c", "c", p), p, th,
                                 align=False)
    assert result["decision"] == "copied" and level == "identifiers"
    assert result["own_coverage"] >= 0.25  # the excerpt is about 40 % of the module


def test_a_file_that_parses_is_left_as_it_is():
    src = inspect.getsource(json.decoder).encode()
    fixed, tree = string_resync.resync(src, parser_for("python"), "python")
    assert fixed == src and not tree.root_node.has_error
