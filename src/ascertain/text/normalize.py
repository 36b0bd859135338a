"""Unicode NFKC and the token pattern every path shares."""

from __future__ import annotations

import re
import unicodedata

TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def normalize(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def norm_tokens(text: str) -> list[str]:
    """The matching tokens: NFKC, then each token case-folded."""
    return list(map(str.casefold, TOKEN_RE.findall(normalize(text))))
