"""Licence identification on near-identical families (MIT, BSD, HPND variants), on labelled real texts.

    python3 -m ascertain.validation.license_families [--split dev|test|all] [--errors]

Labelled cases, each a whole licence text as it stands in a real file, labelled by a person other than us:
  - Debian `/usr/share/doc/*/copyright` (machine-readable DEP-5): a stand-alone `License: NAME` paragraph
    and its text, labelled by the package's maintainer (Debian short names mapped to SPDX ids below);
  - `/usr/share/common-licenses/BSD` (the Regents' BSD-3-Clause) and `Apache-2.0`;
  - installed Python distributions' licence files, labelled by the distribution's own single-id
    `License-Expression` or its one licence classifier;
  - permission notices of the HPND family in real source files (Python's standard library and installed
    packages, /usr/include): each notice block from `Permission to use` to the end of its disclaimer,
    labelled by the SPDX definition its wording meets (`NOTICE_RULES`, written from the SPDX texts, not
    from what the detector says): ISC (`and/or distribute ... with or without fee`, notice `appear in all
    copies`), NTP (`appears in all copies and that both the copyright notice`), HPND (`without fee ...
    appear in all copies and that both that copyright notice ... appear in supporting documentation`).
Identical texts (after folding case and spacing) are one case. Cases are split by source (a hash of the
package name): the rules were developed looking only at `dev`; `test` is reported.
A case is right when the best licence `find_texts` names in the text is the label; precision and recall
are per label, and per family (micro-averaged over the family's labels).
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import re
import sysconfig
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ascertain.cmi.license_texts import find_texts

DEBIAN_IDS = {
    "expat": "MIT", "mit": "MIT", "x11": "X11", "mit-cmu": "MIT-CMU", "ntp": "NTP", "hpnd": "HPND",
    "isc": "ISC", "0bsd": "0BSD", "bsd-0-clause": "0BSD", "bsd-1-clause": "BSD-1-Clause",
    "bsd-2-clause": "BSD-2-Clause", "bsd-2": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause", "bsd-4": "BSD-4-Clause", "zlib": "Zlib",
    "apache-2.0": "Apache-2.0", "bsl-1.0": "BSL-1.0", "curl": "curl", "ftl": "FTL", "cc0-1.0": "CC0-1.0",
    "libpng": "Libpng", "smlnj": "SMLNJ", "mit-0": "MIT-0",
}
CLASSIFIERS = {"License :: OSI Approved :: MIT License": "MIT", "License :: OSI Approved :: ISC License (ISCL)": "ISC",
               "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
               "License :: OSI Approved :: Apache Software License": "Apache-2.0"}
FAMILIES = {
    "MIT": {"MIT", "X11", "MIT-0", "MIT-CMU", "NTP", "HPND", "SMLNJ", "ISC", "0BSD", "curl"},
    "BSD": {"0BSD", "BSD-1-Clause", "BSD-2-Clause", "BSD-3-Clause", "BSD-4-Clause", "ISC"},
    "HPND": {"HPND", "MIT-CMU", "NTP", "SMLNJ"},
}
_FAMILY_OF_LABEL = {"MIT": "MIT", "X11": "MIT", "MIT-0": "MIT", "curl": "MIT", "ISC": "MIT",
                    "0BSD": "BSD", "BSD-1-Clause": "BSD", "BSD-2-Clause": "BSD", "BSD-3-Clause": "BSD",
                    "BSD-4-Clause": "BSD", "HPND": "HPND", "MIT-CMU": "HPND", "NTP": "HPND", "SMLNJ": "HPND"}


@dataclass
class Case:
    source: str  # package or distribution: the unit of the split
    path: str
    label: str
    text: str

    @property
    def split(self) -> str:
        return "test" if hashlib.sha256(self.source.encode()).digest()[0] % 2 else "dev"


def _debian_cases(root: Path = Path("/usr/share/doc")) -> list[Case]:
    out = []
    for f in sorted(root.glob("*/copyright")):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "Format:" not in text[:400]:
            continue
        for para in re.split(r"\n[ \t]*\n", text):
            lines = para.split("\n")
            m = re.match(r"License:\s*(\S+)\s*$", lines[0])
            if not m or lines[0].startswith((" ", "\t")) or len(lines) < 4:
                continue
            label = DEBIAN_IDS.get(m.group(1).lower())
            if label is None:
                continue
            body = "\n".join("" if ln.strip() == "." else ln[1:] if ln[:1] in " \t" else ln for ln in lines[1:])
            if "common-licenses" in body and len(body.split()) < 150:  # a pointer to the text, not the text
                continue
            out.append(Case(f.parent.name, str(f), label, body))
    return out


def _common_license_cases(root: Path = Path("/usr/share/common-licenses")) -> list[Case]:
    out = []
    for name, label in (("BSD", "BSD-3-Clause"), ("Apache-2.0", "Apache-2.0")):
        if (root / name).is_file():
            out.append(Case(f"common-licenses/{name}", str(root / name), label, (root / name).read_text()))
    return out


BUNDLE_OPENINGS = ("permission is hereby granted", "redistribution and use", "permission to use",
                   "apache license", "gnu general public license", "mozilla public license")


def _python_cases(site: Path | None = None) -> list[Case]:
    site = site or Path(sysconfig.get_paths()["purelib"])
    out = []
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        try:
            msg = email.parser.Parser().parsestr(meta.read_text(encoding="utf-8", errors="replace"), headersonly=True)
        except (OSError, UnicodeDecodeError):
            continue
        expr = (msg.get("License-Expression") or "").strip()
        classes = [CLASSIFIERS[c] for c in msg.get_all("Classifier") or [] if c in CLASSIFIERS]
        label = expr if re.fullmatch(r"[A-Za-z0-9.+-]+", expr) else (classes[0] if len(set(classes)) == 1 else None)
        if label is None or (expr and not re.fullmatch(r"[A-Za-z0-9.+-]+", expr)):
            continue
        files = [p for p in meta.parent.rglob("*") if p.is_file() and re.match(r"(?i)(licen[cs]e|copying)", p.name)]
        if len(files) != 1:  # a distribution with several licence files: which one the label is about is unclear
            continue
        text = files[0].read_text(encoding="utf-8", errors="replace")
        if sum(p in text.lower() for p in BUNDLE_OPENINGS) > 1:  # several licences in one file (bundled code)
            continue
        out.append(Case(msg.get("Name", meta.parent.name).lower(), str(files[0]), label, text))
    return out


NOTICE_RULES = (  # (SPDX id, phrases all present in the folded notice), first match wins
    ("ISC", ("and or distribute this software for any purpose with or without fee is hereby granted",
             "copyright notice and this permission notice appear in all copies")),
    ("NTP", ("appears in all copies and that both the copyright notice and this permission notice appear in "
             "supporting documentation",)),
    ("HPND", ("without fee is hereby granted provided that the above copyright notice appear in all copies and "
              "that both that copyright notice and this permission notice appear in supporting documentation",)),
)
NOTICE_ROOTS = ("/usr/include",)
NOTICE_SUFFIXES = {".py", ".c", ".h", ".txt", ""}


def _notice_label(block: str) -> str | None:
    folded = " ".join(re.findall(r"[a-z0-9]+", block.lower()))
    for spdx, phrases in NOTICE_RULES:
        if all(p in folded for p in phrases):
            return spdx
    return None


def _notice_blocks(text: str) -> list[str]:
    """Each `Permission to use ...` notice: from that line to the first blank line (comment marks aside) after
    its warranty disclaimer, the end of its comment or a copyright line; at most 30 lines."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        if "Permission to use" not in line:
            continue
        block: list[str] = []
        for ln in lines[i:i + 30]:
            bare = re.sub(r"[\s#*/;!-]+", "", ln)
            if block and ("*/" in ln or re.match(r"(?i)\W*copyright\b", ln)):
                break
            if block and not bare and "warrant" in " ".join(block).lower():
                break
            block.append(ln)
        out.append("\n".join(block))
    return out


def _notice_cases() -> list[Case]:
    roots = [Path(sysconfig.get_paths()["stdlib"]), *map(Path, NOTICE_ROOTS)]
    out = []
    for root in roots:
        if not root.is_dir():
            continue
        for f in sorted(root.rglob("*")):
            if f.suffix not in NOTICE_SUFFIXES or not f.is_file() or f.stat().st_size > 2_000_000:
                continue
            try:
                text = f.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if "without fee is hereby granted" not in text or "/spdx/data/" in str(f):  # not the templates
                continue
            rel = f.relative_to(root).parts
            source = f"{root.name}/{rel[rel.index('site-packages') + 1] if 'site-packages' in rel else rel[0]}"
            for block in _notice_blocks(text):
                label = _notice_label(block)
                if label:
                    out.append(Case(source, str(f), label, block))
    return out


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def cases() -> list[Case]:
    """Every labelled case, identical texts once (kept under the first source in name order)."""
    seen: dict[str, Case] = {}
    every = _debian_cases() + _common_license_cases() + _python_cases() + _notice_cases()
    for c in sorted(every, key=lambda c: (c.source, c.path)):
        seen.setdefault(_key(c.text), c)
    return list(seen.values())


def identify(text: str) -> str | None:
    found = find_texts(text)
    return found[0].spdx if found else None


def evaluate(split: str = "test") -> dict:
    chosen = [c for c in cases() if split == "all" or c.split == split]
    rows = [(c, identify(c.text)) for c in chosen]
    per: dict[str, Counter] = {}
    for c, got in rows:
        per.setdefault(c.label, Counter())["n"] += 1
        if got == c.label:
            per[c.label]["tp"] += 1
        else:
            per[c.label]["fn"] += 1
            if got is not None:
                per.setdefault(got, Counter())["fp"] += 1
    families = {}
    for fam, labels in FAMILIES.items():
        in_fam = [(c, got) for c, got in rows if _FAMILY_OF_LABEL.get(c.label) == fam]
        tp = sum(got == c.label for c, got in in_fam)
        fp = sum(1 for c, got in rows if got in labels and got != c.label and
                 (_FAMILY_OF_LABEL.get(c.label) == fam or _FAMILY_OF_LABEL.get(got) == fam))
        families[fam] = {"cases": len(in_fam), "right": tp, "recall": _ratio(tp, len(in_fam)),
                         "precision": _ratio(tp, tp + fp), "named_none": sum(got is None for _, got in in_fam)}
    errors = [{"source": c.source, "path": c.path, "label": c.label, "found": got} for c, got in rows
              if got != c.label]
    return {"split": split, "cases": len(rows), "sources": len({c.source for c, _ in rows}),
            "right": sum(got == c.label for c, got in rows), "families": families,
            "per_label": {k: dict(v) for k, v in sorted(per.items())}, "errors": errors}


def markdown(test: dict, dev: dict, command: str, baseline: dict | None = None) -> str:
    """The docs/validation.md section: per family, the reported (test) split, and the development split."""
    from ascertain.validation.intervals import wilson

    def row(split: str, r: dict, fam: str, who: str = "ascertain") -> str:
        f = r["families"][fam]
        fp = f["right"] and round(f["right"] / f["precision"]) - f["right"] if f["precision"] else 0
        p_ci, r_ci = wilson(f["right"], f["right"] + fp), wilson(f["right"], f["cases"])
        prec = f"{f['precision']:.3f} [{p_ci[0]:.2f}, {p_ci[1]:.2f}]" if f["precision"] is not None else "–"
        rec = f"{f['recall']:.3f} [{r_ci[0]:.2f}, {r_ci[1]:.2f}]" if f["recall"] is not None else "–"
        return f"| {fam} | {who} | {split} | {f['cases']} | {f['right']} | {prec} | {rec} | {f['named_none']} |"

    lines = ["## Licence identification on near-identical families (MIT, BSD, HPND)", "",
             f"Command: `{command}`. Cases: whole licence texts in real files labelled by others (Debian "
             "maintainers' DEP-5 `License:` paragraphs, Python distributions' own `License-Expression`, "
             "`/usr/share/common-licenses`) and HPND-family permission notices in real source files labelled "
             "by the SPDX wording they meet (rules in `validation/license_families.py`, written from the SPDX "
             f"texts). Identical texts are one case; split by package. test: {test['cases']} cases from "
             f"{test['sources']} packages; dev: {dev['cases']} cases from {dev['sources']} packages (the rules were "
             "developed looking at dev only). A case is right when the best licence named is the label; "
             "precision and recall per family with Wilson 95 % intervals; `none` = no licence named.", "",
             "| family | detector | split | cases | right | precision | recall | none |",
             "|---|---|---|---:|---:|---|---|---:|"]
    for fam in FAMILIES:
        lines.append(row("test", test, fam))
        if baseline is not None:
            lines.append(row("test", baseline, fam, "before (2026-12-07)"))
        lines.append(row("dev", dev, fam))
    errors = Counter((e["label"], e["found"] or "none") for e in test.get("errors", []))
    if errors:
        lines += ["", "Wrong names on the test split (label → named, count): " + "; ".join(
            f"{a} → {b} {n}" for (a, b), n in sorted(errors.items(), key=lambda x: (-x[1], x[0])))]
    return "\n".join(lines) + "\n"


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="test", choices=("dev", "test", "all"))
    ap.add_argument("--errors", action="store_true", help="list every case named wrongly")
    ap.add_argument("--markdown", action="store_true", help="print the docs/validation.md section (test and dev)")
    args = ap.parse_args(argv)
    if args.markdown:
        command = "python3 -m ascertain.validation.license_families --markdown"
        print(markdown(evaluate("test"), evaluate("dev"), command))
        return
    r = evaluate(args.split)
    if not args.errors:
        r.pop("errors")
    print(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
