"""Which tokens are CMI, license boilerplate or web addresses rather than the work's own expression.

A copyright notice or license header is copyright management information: it is reported by the CMI
stage, but sharing it is not evidence that the work's expression was copied (two unrelated Apache-2.0
files share the whole header). Tokens marked here do not count toward a copy's `copied` decision.
"""

from __future__ import annotations

import re

import numpy as np

from ascertain.text.book_boilerplate import book_boilerplate
from ascertain.text.languages import is_license_file
from ascertain.text.tokenize import TokenStream, comment_and_string_segments

CMI_WORDS = re.compile(
    r"copyright|\(c\)|©|licen[sc]e|spdx-license-identifier|all rights reserved|permission is hereby granted"
    r"|warrant(?:y|ies)|redistribution and use|@author|written by",
    re.IGNORECASE,
)
# a web address names a resource; two documents linking the same page (a badge, a project URL) share it
# without sharing expression
URL = re.compile(r"\b(?:https?|ftp)://[^\s)\]>\"'`]+|\bwww\.[^\s)\]>\"'`]+", re.IGNORECASE)
_LINE_GAP = re.compile(r"[ \t\r]*\n?[ \t]*")  # next line at most
_PARAGRAPH = re.compile(r"\S(?:[\s\S]*?)(?=\n\s*\n|\Z)")


def cmi_mask(tokens: TokenStream, language: str, path: str = "") -> np.ndarray:
    """Boolean mask over tokens: True where the token belongs to a notice or license text."""
    mask = np.zeros(len(tokens), dtype=bool)
    if not len(tokens):
        return mask
    if is_license_file(path):
        mask[:] = True
        return mask
    text = tokens.text
    if language == "prose":
        blocks = [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text)]
        for a, b, _kind in book_boilerplate(text):  # distributors' and publishers' texts in books
            mask[np.searchsorted(tokens.start, a):np.searchsorted(tokens.start, b)] = True
    else:
        blocks = _merge_adjacent(text, comment_and_string_segments(text, language))
    for a, b in blocks:
        if CMI_WORDS.search(text, a, b):
            mask[np.searchsorted(tokens.start, a):np.searchsorted(tokens.start, b)] = True
    for m in URL.finditer(text):
        mask[np.searchsorted(tokens.start, m.start()):np.searchsorted(tokens.start, m.end())] = True
    return mask


def _merge_adjacent(text: str, segments: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Comments on consecutive lines form one block (a header of `#` lines is one notice)."""
    blocks: list[tuple[int, int]] = []
    for a, b, _kind in segments:
        if blocks and _LINE_GAP.fullmatch(text, blocks[-1][1], a):
            blocks[-1] = (blocks[-1][0], b)
        else:
            blocks.append((a, b))
    return blocks
