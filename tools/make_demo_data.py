"""Regenerate src/ascertain/demo_data from real, permissively licensed files (run once; output committed).

Works: python-rsa 4.7.2 (Apache-2.0), boto3 1.43.11 (Apache-2.0), Pygments 2.20.0 (BSD-2-Clause), each
with its license. The corpus plants copies of some works (verbatim, modified, partial, header stripped,
inside a JSONL record) among unrelated real files, and the outputs reproduce parts of others. The truth is
written to planted.json; `ascertain demo` checks its findings against it.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

SP = Path(sys.argv[1] if len(sys.argv) > 1 else
          next(p for p in map(Path, sys.path) if (p / "boto3").is_dir()))
OUT = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data"

WORKS = {
    ("Sybren A. Stüvel", "python-rsa"): ("rsa-4.7.2.dist-info/LICENSE",
                                         ["rsa/randnum.py", "rsa/parallel.py", "rsa/pkcs1_v2.py"]),
    ("Amazon.com, Inc.", "boto3"): ("boto3-1.43.11.dist-info/LICENSE", ["boto3/utils.py", "boto3/compat.py"]),
    ("Pygments team", "pygments"): ("pygments-2.20.0.dist-info/licenses/LICENSE", ["pygments/lexers/go.py"]),
}
UNRELATED = ["botocore/compat.py", "botocore/hooks.py", "pygments/lexers/pony.py", "dateutil/easter.py",
             "idna/intranges.py", "idna/codec.py", "rsa/__init__.py", "jsonpointer.py", "six.py"]


def strip_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        i += 1
    return "".join(lines[i:])


def modify(text: str) -> str:
    """Layout changes, a changed comment and an inserted line: a copy that is not verbatim."""
    out = []
    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped.startswith("def "):
            out.append("")
            out.append("# helper reproduced from elsewhere")
        out.append(stripped.replace("    ", "  "))
    return "\n".join(out) + "\n"


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "corpus" / "vendor").mkdir(parents=True)
    (OUT / "corpus" / "unrelated").mkdir()
    rows = ["claimant,title,path,registration_number"]
    for n, ((claimant, title), (lic, files)) in enumerate(WORKS.items(), 1):
        d = OUT / "works" / title
        d.mkdir(parents=True)
        shutil.copy(SP / lic, d / "LICENSE")
        for f in files:
            shutil.copy(SP / f, d / Path(f).name)
        rows.append(f'"{claimant}",{title},works/{title},TX0009{n:06d}')
    (OUT / "works.csv").write_text("\n".join(rows) + "\n")
    src = {f: (SP / f).read_text() for _, (_, fs) in WORKS.items() for f in fs}
    corpus = OUT / "corpus"
    (corpus / "vendor" / "randnum.py").write_text(src["rsa/randnum.py"])
    (corpus / "vendor" / "aws_helpers.py").write_text(modify(src["boto3/utils.py"]))
    go = src["pygments/lexers/go.py"].splitlines(keepends=True)
    (corpus / "vendor" / "go_lexer_fragment.py").write_text("".join(go[20:70]))
    (corpus / "vendor" / "parallel_nohdr.py").write_text(strip_header(src["rsa/parallel.py"]))
    for f in UNRELATED:
        (corpus / "unrelated" / Path(f).name.replace(".py", "_" + Path(f).parent.name + ".py")
         if "/" in f else corpus / "unrelated" / f).write_text((SP / f).read_text())
    records = [
        {"id": "rec-1", "text": "The quick brown fox jumps over the lazy dog. " * 3},
        {"id": "rec-2", "path": "boto3_compat.py", "text": src["boto3/compat.py"]},
        {"id": "rec-3", "text": (SP / "idna/intranges.py").read_text().replace("def ", "def x_")},
    ]
    with open(corpus / "scraped.jsonl", "w") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
        fh.write('{"id": "rec-4", "text": "a truncated record\n')  # malformed on purpose
    pk = src["rsa/pkcs1_v2.py"]
    start = pk.index("def mgf1")
    outputs = [
        {"prompt": "Write an MGF1 mask generation function in Python", "completion": pk[start:],
         "model": "demo-model-1", "timestamp": "2026-01-05T10:00:00Z"},
        {"prompt": "Write a function that reverses a linked list", "completion":
         "def reverse(head):\n    prev = None\n    while head:\n        head.next, prev, head = prev, head, "
         "head.next\n    return prev\n", "model": "demo-model-1", "timestamp": "2026-01-05T10:01:00Z"},
        {"prompt": "Python 2/3 compatibility helpers for boto3", "completion":
         strip_header(src["boto3/compat.py"]), "model": "demo-model-2", "timestamp": "2026-01-06T09:00:00Z"},
    ]
    with open(OUT / "outputs.jsonl", "w") as fh:
        for o in outputs:
            fh.write(json.dumps(o) + "\n")
    planted = [
        {"work_file": "randnum.py", "source": "corpus", "document": "vendor/randnum.py", "kind": "verbatim",
         "cmi": "retained"},
        {"work_file": "utils.py", "source": "corpus", "document": "vendor/aws_helpers.py",
         "kind": "modified (layout, inserted comments)", "cmi": "retained"},
        {"work_file": "go.py", "source": "corpus", "document": "vendor/go_lexer_fragment.py",
         "kind": "partial (lines 21-70, no header)", "cmi": "removed"},
        {"work_file": "parallel.py", "source": "corpus", "document": "vendor/parallel_nohdr.py",
         "kind": "copyright header removed", "cmi": "removed"},
        {"work_file": "compat.py", "source": "corpus", "document": "scraped.jsonl:2",
         "kind": "verbatim inside a JSONL record", "cmi": "retained"},
        {"work_file": "pkcs1_v2.py", "source": "outputs", "document": "outputs.jsonl:1",
         "kind": "partial (mgf1 function) in a model output", "cmi": "removed"},
        {"work_file": "compat.py", "source": "outputs", "document": "outputs.jsonl:3",
         "kind": "header removed, in a model output", "cmi": "removed"},
    ]
    (OUT / "planted.json").write_text(json.dumps(planted, indent=1) + "\n")


if __name__ == "__main__":
    main()
