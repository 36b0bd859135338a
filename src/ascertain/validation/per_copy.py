"""Validation of "identical except CMI" and "typographical only" (cmi/identicality.py) on real files.

Real source files of the installed packages (cmi/sample.py: thousands of authors, capped per package) whose
leading comment block holds a copyright or license notice. Each gives labelled copies, each made by one
documented edit of the file (never by the detector):

  kept            the file as it is                                  except CMI: yes   typographical: yes
  stripped        its leading comment block cut off                  yes               yes
  layout          stripped, every line's indentation and spacing     yes               yes
                  changed, a blank line after every 5th line
  case            stripped, one word's case changed                  no                yes
  punctuation     stripped, one punctuation mark changed             no                yes
  word            stripped, one word replaced by another              no                no
  truncated       stripped, its last fifth of lines cut              no                no
  inserted        stripped, a line of code inserted in the middle    no                no

The files are split by package (a hash of the package name): split "a" and split "b" are reported apart;
nothing is tuned on either.

Run: python3 -m ascertain.validation.per_copy --files 300
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re

from ascertain.cmi.identicality import comment_header_end, compare_outside_cmi
from ascertain.cmi.sample import candidate_files
from ascertain.cmi.scan import scan_text
from ascertain.cmi.status import items
from ascertain.text.languages import language_of
from ascertain.text.tokenize import tokenize
from ascertain.validation.intervals import wilson

SUFFIXES = {".py", ".c", ".h", ".js", ".go", ".rs", ".java", ".sh", ".rb", ".ts", ".cpp"}
EXPECTED = {"kept": (True, True), "stripped": (True, True), "layout": (True, True), "case": (False, True),
            "punctuation": (False, True), "word": (False, False), "truncated": (False, False),
            "inserted": (False, False)}
PUNCT_SWAP = {",": ";", ";": ",", ".": ",", ":": ";", "(": "[", ")": "]"}


def _body_start(text: str, language: str) -> int | None:
    """The first line after a leading comment block holding a copyright or license item (None if none)."""
    tokens = tokenize(text, language)
    head = comment_header_end(tokens)
    if not head:
        return None
    scan = scan_text("f", text, language)
    if not any(i["kind"] in ("copyright", "license") and i["lines"][0] <= head for i in items(scan)):
        return None
    return head + 1


def _mid_line(lines: list[str], pick) -> int | None:
    """A line in the middle half holding a token `pick` accepts (searched outward from the middle)."""
    n = len(lines)
    for k in range(n // 2):
        for i in (n // 2 + k, n // 2 - k - 1):
            if n // 4 <= i < n - n // 4 and pick(lines[i]):
                return i
    return None


def _relayout(line: str, language: str) -> str:
    """Indentation doubled (not in Python, where it is syntax) and the spaces between tokens doubled, except on
    lines with quotes or comments (their spaces are text)."""
    if "'" in line or '"' in line or "#" in line or "//" in line or "/*" in line:
        return line
    body = line.lstrip(" ")
    indent = len(line) - len(body)
    return " " * (indent if language == "python" else 2 * indent) + re.sub(r"(?<=\S) (?=\S)", "  ", body)


def variants(text: str, language: str, body: int) -> dict[str, str]:
    lines = text.split("\n")
    stripped = lines[body - 1:]
    out = {"kept": text, "stripped": "\n".join(stripped)}
    lay = [_relayout(ln, language) for ln in stripped]
    lay = [x for i, ln in enumerate(lay) for x in ((ln, "") if i % 5 == 4 else (ln,))]
    out["layout"] = "\n".join(lay)
    word = re.compile(r"\b([a-z][a-z_]{3,})\b")
    i = _mid_line(stripped, lambda ln: word.search(ln) is not None)
    if i is not None:
        m = word.search(stripped[i])
        for name, new in (("case", m.group(1).capitalize()), ("word", m.group(1) + "zq")):
            v = list(stripped)
            v[i] = v[i][:m.start(1)] + new + v[i][m.end(1):]
            out[name] = "\n".join(v)
    i = _mid_line(stripped, lambda ln: any(c in ln for c in PUNCT_SWAP))
    if i is not None:
        j = next(k for k, c in enumerate(stripped[i]) if c in PUNCT_SWAP)
        v = list(stripped)
        v[i] = v[i][:j] + PUNCT_SWAP[v[i][j]] + v[i][j + 1:]
        out["punctuation"] = "\n".join(v)
    if len(stripped) >= 10:
        out["truncated"] = "\n".join(stripped[:len(stripped) - len(stripped) // 5])
        mid = len(stripped) // 2
        out["inserted"] = "\n".join([*stripped[:mid], "value_inserted_by_copier = 42", *stripped[mid:]])
    return out


def run(n_files: int) -> dict:
    results: dict[str, dict] = {}
    used = 0
    for package, path in candidate_files():
        if used >= n_files:
            break
        if path.suffix not in SUFFIXES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        language = language_of(str(path))
        body = _body_start(text, language)
        if body is None or len(text.split("\n")) - body < 12:
            continue
        used += 1
        split = "a" if hashlib.sha256(package.encode()).digest()[0] % 2 == 0 else "b"
        work_scan = scan_text(str(path), text, language)
        for kind, copy in variants(text, language, body).items():
            got = compare_outside_cmi(text, language, work_scan, copy, language, scan_text("copy", copy, language))
            exp = EXPECTED[kind]
            for flag, want, have in (("identical_except_cmi", exp[0], got["identical_except_cmi"]),
                                     ("typographical_only", exp[1], got["typographical_only"])):
                r = results.setdefault(f"{split}/{flag}", {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "errors": []})
                key = ("tp" if have else "fn") if want else ("fp" if have else "tn")
                r[key] += 1
                if key in ("fp", "fn") and len(r["errors"]) < 8:
                    r["errors"].append(f"{kind}: {path.name} ({package})")
    for r in results.values():
        r["precision"] = [r["tp"], r["tp"] + r["fp"], wilson(r["tp"], r["tp"] + r["fp"])]
        r["recall"] = [r["tp"], r["tp"] + r["fn"], wilson(r["tp"], r["tp"] + r["fn"])]
    return {"files": used, "results": dict(sorted(results.items()))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=300)
    print(json.dumps(run(ap.parse_args().files), indent=1))


if __name__ == "__main__":
    main()
