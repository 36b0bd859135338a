"""License notices, references and SPDX identifiers written in a file.

Each rule is a named pattern over the flattened text (comment markers removed, lines joined); a hit keeps
its rule name and line span so a reviewer can check why a license was reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ascertain.cmi.lines import Flat
from ascertain.cmi.spdx_ids import CLASSIFIER, name_to_spdx, validate


@dataclass
class LicenseHit:
    spdx: str
    start_line: int
    end_line: int
    rule: str
    score: float
    valid: bool = True
    note: str = ""


def _r(pattern: str) -> re.Pattern[str]:
    # spaces in a rule match any run of spaces (lines are joined with one space)
    return re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE)


_GNU_VERSION = r"(?:[,;]? (?:either )?(?:version|v\.?) ?(?P<v>[123](?:\.[01])?)(?P<later>(?: of the license)?,?"\
    r" (?:\(at your option\) |or \(?at your option\)? )?(?:or )?(?:\(at your option\) )?any later version)?)?"

# (rule name, pattern, SPDX id or a function of the match)
NOTICE_RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("apache-2.0-notice", _r(r"licensed under the apache license,? (?:version |v)?2\.0"), "Apache-2.0"),
    ("apache-2.0-name", _r(r"\bapache (?:software )?license,? (?:version |v\.? ?)?2(?:\.0)?\b"), "Apache-2.0"),
    ("apache-2.0-name", _r(r"\bapache[ -]2\.0\b"), "Apache-2.0"),
    ("mit-notice", _r(r"(?:licensed|released|distributed|available|provided|published) (?:freely )?under the"
                      r" (?:terms of the |conditions of the )?(?:\(?mit\)? |expat )(?:\(?expat\)? )?licen[sc]e"),
     "MIT"),
    ("mit-notice", _r(r"\bmit licensed\b|\blicen[sc]e: mit\b|\bmit licen[sc]e\b"), "MIT"),
    ("bsd-3-clause-notice", _r(r"\b(?:new|modified|revised|3-clause) bsd(?: style)? licen[sc]e"), "BSD-3-Clause"),
    ("bsd-3-clause-notice", _r(r"\bbsd[ -]3[ -]clause\b"), "BSD-3-Clause"),
    ("bsd-2-clause-notice", _r(r"\b(?:simplified|2-clause|freebsd) bsd licen[sc]e|\bbsd[ -]2[ -]clause\b"),
     "BSD-2-Clause"),
    ("bsd-notice", _r(r"(?:licensed|released|distributed) under (?:the |a )?(?:terms of the )?bsd(?:-style)? "
                      r"licen[sc]e"), "BSD-3-Clause"),
    ("bsd-notice", _r(r"\bthe bsd licen[sc]e\b|\bbsd-style licen[sc]e\b"), "BSD-3-Clause"),
    ("mpl-2.0-notice", _r(r"mozilla public licen[sc]e,? (?:v\. ?|version )?2\.0"), "MPL-2.0"),
    ("mpl-1.1-notice", _r(r"mozilla public licen[sc]e,? (?:v\. ?|version )?1\.1"), "MPL-1.1"),
    # ScanCode and most inventories name the PSF license of Python's own code Python-2.0
    ("psf-notice", _r(r"python software foundation licen[sc]e(?: version 2)?|\bpsf licen[sc]e"), "Python-2.0"),
    ("psf-contributor-notice", _r(r"licensed to (?:the )?(?:psf|python software foundation) under a contributor "
                                  r"agreement"), "Python-2.0"),
    ("public-domain-notice", _r(r"(?:placed|released|dedicated|put) (?:in|into|to) the public domain|\bis in the "
                                r"public domain\b"), "LicenseRef-scancode-public-domain"),
    ("isc-notice", _r(r"opensource\.org/licenses/isc-license"), "ISC"),
    ("isc-notice", _r(r"\bisc licen[sc]e\b"), "ISC"),
    ("unlicense-notice", _r(r"free and unencumbered software released into the public domain"), "Unlicense"),
    ("cc0-notice", _r(r"\bcc0 1\.0\b|creative commons zero"), "CC0-1.0"),
    ("bsl-1.0-notice", _r(r"boost software licen[sc]e,? version 1\.0"), "BSL-1.0"),
    ("epl-2.0-notice", _r(r"eclipse public licen[sc]e,? (?:v\. ?|version |- v ?)?2\.0"), "EPL-2.0"),
    ("epl-1.0-notice", _r(r"eclipse public licen[sc]e,? (?:v\. ?|version |- v ?)?1\.0"), "EPL-1.0"),
    ("zlib-notice", _r(r"\bzlib licen[sc]e\b"), "Zlib"),
    ("wtfpl-notice", _r(r"do what the fuck you want to public licen[sc]e"), "WTFPL"),
]
# A rule runs only on text holding one of its words (every match of the rule contains one): a substring
# test on the lowered text is far cheaper than a case-insensitive pattern scan, and most files hold none.
RULE_WORDS: dict[str, tuple[str, ...]] = {
    "apache-2.0-notice": ("apache",), "apache-2.0-name": ("apache",), "mit-notice": ("licen",),
    "bsd-3-clause-notice": ("bsd",), "bsd-2-clause-notice": ("bsd",), "bsd-notice": ("bsd",),
    "mpl-2.0-notice": ("mozilla",), "mpl-1.1-notice": ("mozilla",), "psf-notice": ("licen",),
    "psf-contributor-notice": ("agreement",), "public-domain-notice": ("domain",), "isc-notice": ("isc",),
    "unlicense-notice": ("unencumbered",), "cc0-notice": ("cc0", "creative"), "bsl-1.0-notice": ("boost",),
    "epl-2.0-notice": ("eclipse",), "epl-1.0-notice": ("eclipse",), "zlib-notice": ("zlib",),
    "wtfpl-notice": ("fuck",),
}
# GNU licenses: the family and version decide the id; "or any later version" makes it -or-later.
GNU_RULE = _r(r"gnu (?P<fam>general public|lesser general public|library general public|affero general public)"
              r" licen[sc]e(?: \((?:the )?\"?(?:gpl|lgpl|agpl)\"?\))?(?: as published by the free software "
              r"foundation)?" + _GNU_VERSION)
_GNU_FAMILY = {"general public": "GPL", "lesser general public": "LGPL", "library general public": "LGPL",
               "affero general public": "AGPL"}
SPDX_TAG = re.compile(r"SPDX-License-Identifier:\s*(?P<expr>[^\n]*)", re.IGNORECASE)
_TAG_END = re.compile(r"\s*(?:\*/|-->|#}|\"\"\"|'''|\"|'|;|,)?\s*$")
FIELD_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("license-field", re.compile(r"^[ \t#*/;-]*License(?:-Expression)?:[ \t]*(?P<v>[^\n]+?)[ \t]*$",
                                 re.MULTILINE)),
    ("docstring-license-field", re.compile(r":license:[ \t]*(?P<v>[\w .+-]{2,60}?)(?:,|;|\.?[ \t]*$| see\b)",
                                           re.MULTILINE | re.IGNORECASE)),
    ("setup-license-arg", re.compile(r"\blicen[sc]e\s*=\s*(?P<q>[\"'])(?P<v>[^\"'\n]{1,120})(?P=q)")),
]


def _gnu_id(m: re.Match[str]) -> str:
    fam = _GNU_FAMILY[re.sub(r"\s+", " ", m.group("fam").lower())]
    v = m.group("v")
    if not v:  # no version named: any version (AGPL has only v3)
        return {"GPL": "GPL-1.0-or-later", "LGPL": "LGPL-2.0-or-later", "AGPL": "AGPL-3.0-only"}[fam]
    v = v if "." in v else v + ".0"
    if fam == "LGPL" and v == "2.0" and "lesser" in m.group("fam").lower():
        v = "2.1"
    return f"{fam}-{v}-{'or-later' if m.group('later') else 'only'}"


def spdx_tags(text: str) -> list[LicenseHit]:
    out = []
    for m in SPDX_TAG.finditer(text):
        raw = _TAG_END.sub("", m.group("expr")).strip()
        line = text.count("\n", 0, m.start()) + 1
        expr, errors = validate(raw) if raw else (None, ["empty identifier"])
        out.append(LicenseHit(expr or raw, line, line, "spdx-license-identifier", 100.0 if expr else 0.0,
                              valid=bool(expr), note="; ".join(errors)))
    return out


def notices(flat: Flat) -> list[LicenseHit]:
    out: list[LicenseHit] = []
    text = flat.text
    low = text.lower()
    for rule, pattern, spdx in NOTICE_RULES:
        if not any(w in low for w in RULE_WORDS[rule]):
            continue
        for m in pattern.finditer(text):
            out.append(LicenseHit(spdx, flat.line_of(m.start()), flat.line_of(m.end() - 1), rule, 90.0))
    gnu = [(m, _gnu_id(m)) for m in GNU_RULE.finditer(text)] if "gnu" in low else []
    versioned = {spdx.split("-")[0] for m, spdx in gnu if m.group("v")}
    for m, spdx in gnu:
        if m.group("v") or spdx.split("-")[0] not in versioned:  # "a copy of the GNU GPL" repeats a versioned one
            out.append(LicenseHit(spdx, flat.line_of(m.start()), flat.line_of(m.end() - 1), "gnu-notice", 90.0))
    return out


def fields(text: str) -> list[LicenseHit]:
    """`License: X` metadata lines, `license="X"` arguments and trove classifiers."""
    out: list[LicenseHit] = []
    for rule, pattern in FIELD_RULES:
        for m in pattern.finditer(text):
            spdx = name_to_spdx(m.group("v"))
            if spdx:
                line = text.count("\n", 0, m.start()) + 1
                out.append(LicenseHit(spdx, line, line, rule, 95.0))
    for m in CLASSIFIER.finditer(text):
        spdx = name_to_spdx(m.group(1))
        if spdx:
            line = text.count("\n", 0, m.start()) + 1
            out.append(LicenseHit(spdx, line, line, "trove-classifier", 95.0))
    return out


def _strength(h: LicenseHit) -> tuple[float, int, int]:
    """Higher is stronger: the score, then a notice or tag over a bare name, then the longer span."""
    return (h.score, 0 if h.rule.endswith("-name") else 1, h.end_line - h.start_line)


def merge_hits(hits: list[LicenseHit]) -> list[LicenseHit]:
    """One entry per license per place: hits of the same id whose line spans overlap (an `apache-2.0-name` and
    an `apache-2.0-notice` on one line) become the strongest of them, spanning all their lines. An invalid
    identifier is kept as it is (each is a finding of its own), once per line."""
    out: list[LicenseHit] = []
    for h in sorted(hits, key=lambda h: (h.spdx, h.start_line, h.end_line, h.rule)):
        last = out[-1] if out else None
        if last is not None and (h.spdx, h.start_line, h.rule) == (last.spdx, last.start_line, last.rule):
            continue
        if (last is not None and h.valid and last.valid and h.spdx == last.spdx
                and h.start_line <= last.end_line):
            best = max(last, h, key=_strength)
            out[-1] = LicenseHit(best.spdx, last.start_line, max(last.end_line, h.end_line), best.rule, best.score,
                                 best.valid, best.note)
        else:
            out.append(h)
    return sorted(out, key=lambda h: (h.start_line, h.end_line, h.spdx, h.rule))
