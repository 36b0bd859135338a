"""The benchmark corpus: real text and code already on the machine, written once as JSONL.

Sources, in this order, until the target size is reached: the Python installation (standard library and
site-packages: Python, C, JS, Markdown, reST, text), C/C++ headers in /usr/include, and /usr/share/doc.
Files are read in sorted order, so the same machine gives the same corpus; its sha256 is printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
from pathlib import Path

SUFFIXES = {".py", ".pyi", ".c", ".h", ".hpp", ".cc", ".cpp", ".js", ".ts", ".md", ".rst", ".txt", ".go",
            ".rs", ".rb", ".java", ".html", ".css", ".sh"}
MAX_FILE = 1 << 20


def roots() -> list[Path]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    return [lib, Path("/usr/include"), Path("/usr/share/doc")]


def iter_files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in {"__pycache__", ".git", "test", "tests"})
        for name in sorted(filenames):
            p = Path(dirpath, name)
            if p.suffix in SUFFIXES and not p.is_symlink():
                yield p


def build(out: Path, target_bytes: int, holdout: Path, n_holdout: int = 500) -> dict:
    """Corpus JSONL of about target_bytes, plus n_holdout real files kept out of it (negatives)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    holdout.mkdir(parents=True, exist_ok=True)
    total = docs = held = 0
    seen: set[str] = set()
    h = hashlib.sha256()
    with open(out, "w", encoding="utf-8") as fh:
        for root in roots():
            for p in iter_files(root):
                try:
                    if p.stat().st_size > MAX_FILE or p.stat().st_size < 200:
                        continue
                    text = p.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                digest = hashlib.sha256(text.encode()).hexdigest()
                if digest in seen:  # exact duplicates say nothing about speed
                    continue
                seen.add(digest)
                if held < n_holdout and docs % 41 == 13:  # every 41st file, spread over the tree
                    (holdout / f"{held:04d}{p.suffix}").write_text(text, encoding="utf-8")
                    held += 1
                    docs += 1
                    continue
                line = json.dumps({"path": str(p), "text": text}, ensure_ascii=False) + "\n"
                fh.write(line)
                h.update(line.encode())
                total += len(line.encode())
                docs += 1
                if total >= target_bytes:
                    return {"bytes": total, "documents": docs - held, "sha256": h.hexdigest(),
                            "holdout": held}
    return {"bytes": total, "documents": docs - held, "sha256": h.hexdigest(), "holdout": held}


if __name__ == "__main__":
    info = build(Path(sys.argv[1]), int(float(sys.argv[2]) * 1e6), Path(sys.argv[3]))
    print(json.dumps(info))
