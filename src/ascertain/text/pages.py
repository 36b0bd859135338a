"""Page breaks inside a text: a form feed at the start of a page's first line (PDF pages, EPUB sections).

Readers of paged formats join pages this way, as `pdftotext` does, so the text itself carries its page map:
the page of any character is one more than the number of form feeds before it. A form feed is whitespace to
the tokenizer and not a line break to the line counter, so offsets and line numbers are unchanged by it.
"""

from __future__ import annotations

import numpy as np

PAGE_BREAK = "\f"


def page_starts(text: str) -> np.ndarray:
    """Character offset of every page break (empty when the text is not paged)."""
    if PAGE_BREAK not in text:
        return np.empty(0, np.int64)
    buf = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    return np.flatnonzero(buf == ord(PAGE_BREAK)).astype(np.int64)


def page_of(breaks: np.ndarray, offset: int) -> int:
    """1-based page of a character offset."""
    return int(np.searchsorted(breaks, offset, side="right")) + 1
