"""Contiguous copies of real files that repeat passages: how many are described as one span, no false claim.

Every Python file of the standard library (site-packages excluded) of 500-3,000 lines holding two 8-line blocks
that differ only in indentation is copied as lines 1-479 (a prefix, as in issue 23 §6) and compared with
`compare --level layout`. A right description is one fragment, and differences of the kind `not in the copy`
only (the rest of the work). Prints the counts and the files described otherwise.

    python3 tools/repeat_prefix_copies.py
"""

from __future__ import annotations

import json
import sysconfig
import tempfile
from pathlib import Path

from ascertain.match.compare import Comparer

PREFIX = 479


def repeats_by_indentation(lines: list[str]) -> bool:
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(lines) - 8):
        block = lines[i:i + 8]
        if sum(1 for x in block if x.strip()) < 7:
            continue
        key = tuple(x.strip() for x in block)
        j = seen.setdefault(key, i)
        if j + 8 <= i and lines[j:j + 8] != block:
            return True
    return False


def main() -> None:
    root = Path(sysconfig.get_paths()["stdlib"])
    comparer = Comparer(level="layout")
    files, wrong = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "part.py"
        for f in sorted(root.rglob("*.py")):
            if "site-packages" in f.parts or "test" in f.parts:
                continue
            try:
                lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
            except (OSError, UnicodeDecodeError):
                continue
            if not 500 <= len(lines) <= 3000 or not repeats_by_indentation(lines):
                continue
            files += 1
            copy.write_text("".join(lines[:PREFIX]), encoding="utf-8")
            r = comparer.compare(str(f), str(copy))
            if r["fragments"] != 1 or set(r["difference_counts"]) - {"not in the copy"}:
                wrong.append({"file": str(f.relative_to(root)), "fragments": r["fragments"],
                              "differences": r["difference_counts"]})
    print(json.dumps({"files": files, "one_span_no_false_claim": files - len(wrong), "otherwise": wrong}, indent=1))


if __name__ == "__main__":
    main()
