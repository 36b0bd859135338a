"""Known transformations of real prose: rewrapped lines, changed quotes, punctuation and case, sentences
inserted or deleted, notices stripped — the labelled prose copies `ascertain validate` measures against."""

from __future__ import annotations

import random
import re
import textwrap

from ascertain.paraphrase.passages import sentences

_CMI_LINE = re.compile(r"copyright|licen[sc]e|\(c\)|©|all rights reserved|spdx", re.IGNORECASE)


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def rewrap(text: str, rng: random.Random) -> str:
    """Every paragraph of running text re-flowed to another width (lists and indented blocks kept)."""
    width = rng.choice([50, 60, 100, 120])
    out = []
    for p in paragraphs(text):
        if any(line.startswith((" ", "\t", "-", "*", "#", "|", ">")) for line in p.splitlines()):
            out.append(p)
        else:
            out.append(textwrap.fill(" ".join(p.split()), width))
    return "\n\n".join(out) + "\n"


def quotes_punct(text: str, rng: random.Random) -> str:
    """Straight quotes made typographic (or the reverse), and a share of commas and semicolons swapped."""
    if "“" in text or "’" in text:
        text = text.replace("“", '"').replace("”", '"').replace("’", "'").replace("‘", "'")
    else:
        text = re.sub(r'"([^"\n]*)"', "“\\1”", text).replace("'", "’")
    return re.sub(r"[,;](?= )", lambda m: rng.choice([",", ";", " -"]) if rng.random() < 0.3 else m.group(0), text)


def case(text: str, rng: random.Random) -> str:
    """Some lines upper-cased or title-cased, as headings and emphasis are restyled."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        r = rng.random()
        if r < 0.1:
            lines[i] = line.upper()
        elif r < 0.2:
            lines[i] = line.title()
    return "".join(lines)


def strip_cmi(text: str, rng: random.Random | None = None) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not _CMI_LINE.search(line))


def insert_sentences(text: str, rng: random.Random, donor: str) -> str:
    """Sentences of an unrelated text put between some paragraphs."""
    extra = [s.text for s in sentences(donor)] or ["An unrelated sentence."]
    out = []
    for p in paragraphs(text):
        out.append(p)
        if rng.random() < 0.3:
            out.append(" ".join(rng.sample(extra, min(2, len(extra)))))
    return "\n\n".join(out) + "\n"


def delete_sentences(text: str, rng: random.Random, share: float = 0.1) -> str:
    """About `share` of the sentences left out."""
    kept, pos = [], 0
    for s in re.finditer(r"[^.!?\n]+[.!?]+\s*|[^\n]*\n", text):
        if rng.random() >= share or not s.group(0).strip():
            kept.append(s.group(0))
        pos = s.end()
    return "".join(kept) + text[pos:]


def embed(part: str, host: str, rng: random.Random) -> str:
    """The copied part placed between two paragraphs of an unrelated real text."""
    ps = paragraphs(host)
    at = rng.randint(0, len(ps))
    return "\n\n".join(ps[:at] + [part.strip("\n")] + ps[at:]) + "\n"
