"""A labelled set of hard, real copyright notices, and the holder agreement of a scanner on it.

Two sources, both real text from this machine:

* Debian machine-readable `/usr/share/doc/*/copyright` files (DEP-5). Each `Files:` stanza's `Copyright:`
  field lists that stanza's holders, one statement a line. The label of a line is its holder by a fixed
  rule of this module (marks, years, e-mail and "All rights reserved" removed; `label_of`), never by the
  scanner under test; stanzas with a line the rule cannot label surely are left out. The field is then
  written the way such notices appear in files — the field as it stands, a C comment, Python comments,
  an HTML footer, an ASCII-art box, all in capitals — with seeded variation: the structure is synthetic,
  the text is real.
* Real files with several notices (kernel-style C headers, HTML and JavaScript shipped by packages),
  labelled by hand: `hard_labels.json` beside this module holds each file's path, sha256 and holders.
  A file missing or changed on this machine is left out and counted.

Cases are split by package (seeded): tune on `tune`, report on `held`.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path

SEED = "ascertain-cmi-hard-1"
DEBIAN_DOC = Path("/usr/share/doc")
LABELS = Path(__file__).with_name("hard_labels.json")
MAX_STANZAS_PER_PACKAGE = 3
KINDS = ("dep5-field", "c-comment", "python-comment", "html-footer", "ascii-art", "all-caps")


@dataclass
class HardCase:
    name: str  # file name inside the split folder
    package: str  # the unit of the split
    kind: str
    source: str  # where the real text came from
    holders: list[str]
    text: str


# ---- DEP-5 parsing and the labelling rule ------------------------------------------------------------

def dep5_stanzas(text: str) -> list[dict[str, list[str]]]:
    """The stanzas of a DEP-5 file as {field: value lines}; continuation lines keep their text, ` .` is a
    blank line. Returns [] for a file that is not machine-readable (no `Format:` first field)."""
    if not re.match(r"(?i)format(?:-specification)?:", text.lstrip()):
        return []
    stanzas: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    field = ""
    for raw in text.split("\n"):
        if not raw.strip():
            if current:
                stanzas.append(current)
            current, field = {}, ""
            continue
        if raw[0] in " \t":
            if field:
                current[field].append("" if raw.strip() == "." else raw)
            continue
        m = re.match(r"([!-9;-~]+):(.*)$", raw)
        if not m:
            continue
        field = m.group(1).lower()
        current[field] = [m.group(2)]
    if current:
        stanzas.append(current)
    return stanzas


_LABEL_MARKS = re.compile(r"^(?:\s*(?:copyright\b|\(c\)|©|copr\.|:|,))+\s*", re.I)
_LABEL_YEARS = re.compile(r"^(?:\s*(?:\d{4}(?:\s*[-–]\s*(?:\d{2,4}|present))?|[,/]|and\b)\s*)+", re.I)
_LABEL_TRAILING_YEARS = re.compile(r"[\s,]*\(?\d{4}(?:\s*[-–,]\s*\d{2,4})*\)?\s*\.?$")
_LABEL_TAIL = re.compile(r"\s*[.,;]?\s*(?:all (?:rights|wrongs) (?:reserved|reversed)\.?|see (?:the )?(?:file )?"
                         r"authors(?: file)?(?: for details)?\.?)\s*$", re.I)
_LABEL_EMAIL = re.compile(r"\s*[<(]?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[>)]?")
_LABEL_URL = re.compile(r"\s*[<(]?(?:https?://|www\.)\S+[>)]?")
_UNLABELLABLE = re.compile(r"(?i)^(?:none|unknown|n/?a|public[ -]domain|no copyright|not applicable|see\b|"
                           r"the authors? of\b|various\b|\W*$)|\d{4}|[<>{}\[\]]|\*|\bcopyright\b")


def label_of(line: str) -> str | None:
    """The holder of one DEP-5 `Copyright:` line, or None when this rule cannot tell it surely."""
    s = _LABEL_MARKS.sub("", line.strip())
    if not re.match(r"(?i)\d{4}", s) and not re.search(r"\d{4}\s*\.?$", s):
        return None  # no year at either end: could be a wrapped continuation of the previous line
    s = _LABEL_YEARS.sub("", s)
    s = _LABEL_MARKS.sub("", s)
    s = re.sub(r"^by\s+", "", s, flags=re.I)
    s = re.split(r"(?i)[.,;]?\s*all (?:rights|wrongs) (?:reserved|reversed)", s)[0]
    s = _LABEL_TAIL.sub("", s)
    s = _LABEL_URL.sub("", _LABEL_EMAIL.sub("", s))
    s = _LABEL_TRAILING_YEARS.sub("", s)
    s = re.sub(r"\s*\((?![A-Z0-9 &.-]+\))[^()]*\)$", "", s.strip())  # "(see AUTHORS)", "(evo)"; not "(SAT)"
    s = _LABEL_TAIL.sub("", s).strip(" ,;:-")
    if len(s) < 2 or _UNLABELLABLE.search(s) or not re.search(r"[^\W\d_]{2}", s):
        return None
    return s


def labelled_lines(field: list[str]) -> list[tuple[str, str]] | None:
    """(line, holder) for every line of a Copyright field, or None if any line cannot be labelled."""
    lines = [ln.strip() for ln in field if ln.strip()]
    out = []
    for ln in lines:
        holder = label_of(ln)
        if holder is None:
            return None
        out.append((ln, holder))
    return out or None


# ---- writing a field the way notices appear in files -------------------------------------------------

_MARK_STYLES = ("Copyright (C) ", "Copyright (c) ", "Copyright ", "(C) ", "(c) ", "© ", "Copyright © ",
                "Copyright: ")


def _with_mark(line: str, rng: random.Random) -> str:
    if re.match(r"(?i)\s*(?:copyright|\(c\)|©)", line):
        return line
    m = re.match(r"((?:\d{4}(?:\s*[-–]\s*\d{2,4})?\s*,?\s*)+)(.+)$", line)
    if m and rng.random() < 0.2:  # holder before the years: "(C) Linux Foundation 2008-2013"
        return f"{rng.choice(('(C) ', 'Copyright ', '© '))}{m.group(2).strip()} {m.group(1).strip(' ,')}"
    return rng.choice(_MARK_STYLES) + line


def _license_line(stanza: dict[str, list[str]]) -> str:
    lic = (stanza.get("license") or [""])[0].strip()
    return f"Licensed under the {lic} license; see the LICENSE file." if lic else "All rights reserved."


def render(kind: str, lines: list[str], stanza: dict[str, list[str]], rng: random.Random) -> tuple[str, str]:
    """(file suffix, text) of one Copyright field written as `kind`."""
    if kind == "dep5-field":  # the stanza as it stands: holders on continuation lines without a mark
        files = " ".join((stanza.get("files") or ["*"])[0].split()) or "*"
        lic = (stanza.get("license") or [""])[0].strip() or "other"
        return ".copyright", f"Files: {files}\nCopyright:" + "\n".join(stanza["copyright"]) + f"\nLicense: {lic}\n"
    marked = [_with_mark(ln, rng) for ln in lines]
    lic = _license_line(stanza)
    if kind in ("c-comment", "all-caps"):
        lead = rng.choice((" * ", " *  ", " * \t"))
        text = "/*\n" + "".join(f"{lead}{m}\n" for m in marked) + " *\n" + f"{lead}{lic}\n */\n" \
            "#include <stdio.h>\n"
        if kind == "all-caps":
            text = text.upper()
        return ".c", text
    if kind == "python-comment":
        lead = rng.choice(("# ", "#  ", "## "))
        return ".py", "#!/usr/bin/env python3\n" + "".join(f"{lead}{m}\n" for m in marked) + f"{lead}\n" \
            f"{lead}{lic}\n\nimport os\n"
    if kind == "html-footer":
        sep = rng.choice(("<br>\n", "<br/>", "</p>\n<p class=\"copyright\">"))
        cells = []
        for m in marked:
            m = html.escape(m, quote=False).replace("©", "&copy;")
            mm = re.match(r"(.*?(?:\d{4}(?:\s*[-–]\s*\d{2,4})?,?\s*)+)(.+)$", m)
            if mm and rng.random() < 0.5:  # the holder as a link, as page footers write it
                m = f'{mm.group(1)}<a href="https://example.org/">{mm.group(2).strip()}</a>'
            cells.append(m)
        return ".html", ("<!DOCTYPE html>\n<html><head><title>Docs</title></head><body>\n<div class=\"footer\">"
                         f"<p class=\"copyright\">{sep.join(cells)}</p>\n<p>{html.escape(lic)}</p></div>\n"
                         "</body></html>\n")
    if kind == "ascii-art":
        width = max(len(m) for m in marked + [lic]) + 4
        style = rng.choice(("stars", "hashes", "plus"))
        left, right, top, bottom = {"stars": (" *  ", " *", "/" + "*" * (width + 3), " " + "*" * (width + 3) + "/"),
                                    "hashes": ("#  ", " #", "#" * (width + 5), "#" * (width + 5)),
                                    "plus": ("|  ", " |", "+" + "-" * (width + 2) + "+", "+" + "-" * (width + 2) + "+")
                                    }[style]
        rows = [left + m.ljust(width) + right for m in ["", *marked, "", lic, ""]]
        text = "\n".join([top, *rows, bottom]) + "\n"
        if style == "plus":  # a box drawn inside a C comment
            text = "/*\n" + text + "*/\n"
        return (".sh" if style == "hashes" else ".c"), text
    raise ValueError(kind)


# ---- building the set -------------------------------------------------------------------------------

def _split_of(package: str) -> str:
    return "held" if hashlib.sha256(f"{SEED}:{package}".encode()).digest()[0] < 128 else "tune"


def dep5_cases(doc_root: Path = DEBIAN_DOC) -> list[HardCase]:
    """Up to MAX_STANZAS_PER_PACKAGE labelled stanzas of every distinct machine-readable copyright file."""
    cases: list[HardCase] = []
    seen: set[str] = set()  # binary packages of one source share one copyright file: use it once
    for path in sorted(doc_root.glob("*/copyright")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        package = path.parent.name
        usable = []
        for i, st in enumerate(dep5_stanzas(text)):
            if "files" in st and "copyright" in st:
                pairs = labelled_lines(st["copyright"])
                if pairs:
                    usable.append((i, st, pairs))
        rng = random.Random(f"{SEED}:{package}")
        for i, st, pairs in sorted(rng.sample(usable, min(MAX_STANZAS_PER_PACKAGE, len(usable)))):
            kind = rng.choice(KINDS)
            suffix, body = render(kind, [ln for ln, _ in pairs], st, rng)
            holders = list(dict.fromkeys(h for _, h in pairs))
            cases.append(HardCase(f"{package}-{i}-{kind}{suffix}", package, kind, f"{path} stanza {i}",
                                  holders, body))
    return cases


def labelled_file_cases(labels: Path = LABELS) -> tuple[list[HardCase], list[str]]:
    """Hand-labelled real files present on this machine, and a note for each one left out."""
    cases, missing = [], []
    for entry in json.loads(labels.read_text(encoding="utf-8")):
        path = Path(entry["path"])
        try:
            data = path.read_bytes()
        except OSError:
            missing.append(f"{path}: not on this machine")
            continue
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            missing.append(f"{path}: changed since it was labelled")
            continue
        stem = re.sub(r"[^\w.-]+", "_", "/".join(path.parts[-3:]))
        cases.append(HardCase(stem, entry["package"], entry["kind"], str(path), entry["holders"],
                              data.decode("utf-8", errors="replace")))
    return cases, missing


def build(dest: Path, doc_root: Path = DEBIAN_DOC, labels: Path = LABELS) -> dict:
    """Write every case into dest/<split>/ and the labels into dest/labels.json; returns the labels."""
    real, missing = labelled_file_cases(labels)
    dep5 = dep5_cases(doc_root)
    cases = dep5 + real
    out: dict = {"seed": SEED, "missing": missing, "dep5_files": len({c.package for c in dep5}), "cases": {}}
    for split in ("tune", "held"):
        (dest / split).mkdir(parents=True, exist_ok=True)
        for old in (dest / split).iterdir():
            old.unlink()
    for c in cases:
        split = _split_of(c.package)
        rel = f"{split}/{c.name}"
        (dest / rel).write_text(c.text, encoding="utf-8")
        meta = asdict(c)
        del meta["text"]
        out["cases"][rel] = {**meta, "split": split}
    (dest / "labels.json").write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False),
                                      encoding="utf-8")
    return out
