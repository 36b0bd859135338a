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

Run: python3 -m ascertain.validation.per_copy --files 400 (or `ascertain validate --all`, entry per-copy)
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


def run(n_files: int, offset: int = 0) -> dict:
    """`n_files` qualifying files, after the first `offset` of them (a later, unseen set: --offset 400)."""
    results: dict[str, dict] = {}
    used = skipped = 0
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
        if skipped < offset:
            skipped += 1
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
    return {"files": used, "offset": offset, "results": dict(sorted(results.items()))}


FLAGS = (("identical_except_cmi", "identical except CMI"), ("typographical_only", "typographical only"))


def rates(result: dict) -> list[dict]:
    """Both splits together, as k of n: recall on the copies labelled yes, false-positive rate on those labelled
    no (the report's shipped figures)."""
    out = []
    for flag, words in FLAGS:
        rs = [r for k, r in result["results"].items() if k.endswith(flag)]
        method = f"{words} ({result['files']} real files, labelled edits, both splits)"
        out.append({"method": method, "measure": "recall", "k": sum(r["tp"] for r in rs),
                    "n": sum(r["tp"] + r["fn"] for r in rs)})
        out.append({"method": method, "measure": "false-positive rate", "k": sum(r["fp"] for r in rs),
                    "n": sum(r["fp"] + r["tn"] for r in rs)})
    return out


def markdown(result: dict, command: str) -> str:
    """The section of docs/validation.md."""
    def ci(k: int, n: int) -> str:
        lo, hi = wilson(k, n)
        return f"{k / n:.3f} ({lo:.3f}–{hi:.3f})" if n else "–"

    rows = []
    for key, r in result["results"].items():
        split, flag = key.split("/")
        rows.append(f"| {split} | {dict(FLAGS)[flag]} | {r['tp'] + r['fn']:,} | {r['fp'] + r['tn']:,} | {r['tp']:,} "
                    f"| {r['fp']:,} | {r['fn']:,} | {ci(r['tp'], r['tp'] + r['fp'])} | "
                    f"{ci(r['tp'], r['tp'] + r['fn'])} |")
    errors = [f"{k}: {e}" for k, r in result["results"].items() for e in r["errors"]]
    held_out = (f"These are files {result['offset'] + 1}–{result['offset'] + result['files']} of the sample, "
                "never looked at while the detectors were written or fixed. The first "
                f"{result['offset']} were the development set: a run on them found one file (jsonpointer.py, "
                "split b) whose second notice of its license (`__license__`) was set aside in the copy but not in "
                "the work (cmi/status.py keeps one item per license id); every CMI detection's lines are now set "
                "aside, and that set has no error left.\n\n") if result.get("offset") else ""
    return (f"## §1202(b) per copy: identical except CMI, typographical only\n\n`{command}`: {result['files']} "
            "real source files of this machine's installed packages (cmi/sample.py: the standard library and "
            "site-packages, ordered by a hash of the path, capped per package; Python, C, JavaScript and others) "
            "whose leading comment block holds a copyright or license notice. Each file gives up to eight copies, each "
            "made by one documented edit and labelled by that edit, never by the detector: the file as it is and "
            "with its header cut off (identical except CMI: yes; typographical only: yes); cut, with the spacing "
            "between tokens changed and a blank line after every fifth (yes; yes); cut, with one word's case or one "
            "punctuation mark changed (no; yes); cut, with one word replaced, the last fifth of its lines cut, or a "
            "line of code inserted in the middle (no; no). Files are split by package (a hash of the package name); "
            "nothing was tuned on either split.\n\n" + held_out +
            "| split | flag | labelled yes | labelled no | true yes | false yes | missed | precision (95 % Wilson) | "
            "recall (95 % Wilson) |\n|---|---|---:|---:|---:|---:|---:|---|---|\n" + "\n".join(rows) + "\n\n"
            + (("Errors (first of each): " + "; ".join(errors) + ".\n\n") if errors else "")
            + "Both flags are exact comparisons of token sequences once the CMI lines are set aside, so their errors "
            "can only come from where the CMI lines are drawn: a notice the scanner misses stays in the comparison "
            "(a copy that stripped it reads \"no\"), and a stretch of code wrongly taken for CMI is left out of it "
            "(an edit there goes unseen). The edits above do not touch CMI lines; the scanner's own error rates are "
            "those of the CMI sections of this file. The demo's Books3-like record (the Gutenberg header and footer "
            "cut, paragraphs reflowed, `_italics_` marks dropped) reads typographical only: yes, identical except "
            "CMI: no (tests/test_cmi_per_copy.py). \"Moved to metadata\" (a record field naming the original's SPDX "
            "license, holder, author, title or ISBN) is an exact field match, tested on labelled records in "
            "tests/test_cmi_per_copy.py (the same license and holder moved; another license or holder, or a holder "
            "missing, still removed); it has no measured error rate on a production training set yet.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=400)
    ap.add_argument("--offset", type=int, default=0, help="skip the first N qualifying files")
    ap.add_argument("--markdown", action="store_true", help="print the docs/validation.md section instead of JSON")
    args = ap.parse_args()
    r = run(args.files, args.offset)
    cmd = f"python3 -m ascertain.validation.per_copy --files {args.files}" + (f" --offset {args.offset}"
                                                                              if args.offset else "")
    print(markdown(r, cmd) if args.markdown
          else json.dumps({**r, "rates": rates(r)}, indent=1))


if __name__ == "__main__":
    main()
