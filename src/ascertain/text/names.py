"""One rule for names and other short metadata a person reads (titles, claimants, authors, locators in
lists): characters that change what is shown without being seen are refused, naming the character.

Refused: NUL and the other control characters except tab, line feed and carriage return (a NUL also breaks
PostgreSQL text columns half-way through an import), and the Unicode bidirectional controls (U+202A-U+202E,
U+2066-U+2069, U+200E, U+200F, U+061C), which can make a title display as another ("Trojan Source").
Printing is the printer's concern: names are printed literally (no markup, no emoji codes).
"""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def unsafe_character(text: str) -> str | None:
    """What makes text unsafe to show as a name ("NUL", "U+202E RIGHT-TO-LEFT OVERRIDE"), or None."""
    m = _UNSAFE.search(text)
    if m is None:
        return None
    ch = m.group()
    if ch == "\x00":
        return "a NUL byte"
    name = unicodedata.name(ch, "control character")
    kind = "bidirectional control" if ch in "\u061c\u200e\u200f" or "\u202a" <= ch <= "\u202e" \
        or "\u2066" <= ch <= "\u2069" else "control character"
    return f"a {kind} U+{ord(ch):04X} {name}"
