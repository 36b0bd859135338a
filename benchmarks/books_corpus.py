"""Books at scale: a seeded corpus of distinct books built from the real prose on this machine, and a works list
whose copies are planted (benchmarks/books_scale.py runs the case on it).

    nice python3 benchmarks/books_corpus.py OUT_DIR [--books 10000] [--works 1000] [--seed 28]

The pool: real prose already on the machine, read in sorted order: Project Gutenberg's Pride and Prejudice
(/work/shared/data/books, else tests/data/books), the Rust project's books in HTML (The Rust Programming
Language, the Reference, the Rustonomicon, Rust by Example, the Cargo, rustc, rustdoc, edition, embedded and
style guides, the error index; text extracted by ascertain's own HTML reader), Node.js's API documentation
(Markdown), Vim's help files, Perl's pod and the Debian licence texts. Each document is cut at blank lines into
chapters of 8-60 KB (shorter documents are one chapter when at least 3 KB).

Book i (0-based) is drawn by `random.Random(f"{seed}:{i}")`: a length of 300-760 KB (mean 530 KB, so 10,000
books hold about 5.3 GB), then distinct chapters of the pool in random order until the length is reached, each
under a heading `Chapter N`; a title page (title, author, year) and, in 60 % of the books, a copyright page
in the usual words (the same sentences in every such book: the corpus's shared boilerplate). The chapters
are then enciphered with the book's own letter substitution (a seeded permutation of a-z, case kept): every
book's words are its own, as two different books' are, while its sentence, paragraph and word-length
structure and its word frequencies are those of the real text. Without this step every book would share its
chapters with dozens of others; with it, two books share text only where planted:

  - reissues: 2 % of the books (from book 1,000 on) are a reissue of an earlier book of the first 1,000: the
    same enciphered chapters, its lines rewrapped at 60 columns, straight quotes made curly, a new title page
    (another edition of the same book, as Books3 holds many);
  - the works list (`works/*.txt`, one file per work, `works.csv` for `ascertain works import`), planted
    from books of the first 1,000 only, so every corpus size of 1,000 books or more holds the same planted
    copies (only the reissues beyond the size differ, counted per size by books_scale.py):
      verbatim  the book's text as indexed;
      edited    the book with one word of every fifth sentence replaced, one paragraph in twenty dropped and
                its lines rewrapped (still a copy of most of the book);
      partial   the first 10-50 % of the book's chapters, then chapters of a book no corpus holds (another
                cipher): a copy of a part;
      absent    a book built the same way from seeds past the corpus: not in it (its title and copyright
                pages are still the shared boilerplate).
    250 works of each kind for a list of 1,000.

Writes OUT_DIR/books-NN.jsonl.zst (1,000 books a file: path, title, author, text), OUT_DIR/works/,
OUT_DIR/works.csv and OUT_DIR/plan.json (each work's kind, source book, expected share; each reissue's
original). The same seed and machine give the same bytes (the pool's sha256 is in plan.json: a machine with
other packages installed has another pool).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import string
import sys
from pathlib import Path

import orjson
import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

RUST = Path("/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html")
RUST_BOOKS = ("book", "reference", "nomicon", "rust-by-example", "cargo", "rustc", "rustdoc", "edition-guide",
              "embedded-book", "style-guide", "error_codes")
PER_FILE = 1000
CHAPTER_MIN, CHAPTER_MAX, DOC_MIN = 8_000, 60_000, 3_000
COPYRIGHT = ("Copyright \u00a9 {year} by {author}. All rights reserved.\n\n"
             "No part of this publication may be reproduced, stored in a retrieval system, or transmitted in any "
             "form or by any means, electronic, mechanical, photocopying, recording, or otherwise, without the "
             "prior written permission of the publisher.\n\n"
             "First edition, {year}.\n\n")
KINDS = ("verbatim", "edited", "partial", "absent")


def pool_documents() -> list[tuple[str, str]]:
    """(name, text) of every real prose document, in a fixed order."""
    from ascertain.readers import Document, ReadOptions, read_inputs

    docs: list[tuple[str, str]] = []
    for base in (Path("/work/shared/data/books"), ROOT / "tests" / "data" / "books"):
        p = base / "pride-and-prejudice.txt"
        for q in (p, p.with_name(p.name + ".gz")):
            if q.exists():
                raw = gzip.decompress(q.read_bytes()) if q.suffix == ".gz" else q.read_bytes()
                docs.append(("pride-and-prejudice.txt", raw.decode("utf-8")))
                break
        if docs:
            break
    html = [p for b in RUST_BOOKS for p in sorted((RUST / b).rglob("*.html")) if p.name != "print.html"]
    for item in read_inputs(html, ReadOptions()):
        if isinstance(item, Document):
            docs.append((item.locator, item.text))
    files: list[Path] = []
    files += sorted(Path("/usr/share/doc/nodejs/api").glob("*.md"))
    files += sorted(Path("/usr/share/vim/vim90/doc").glob("*.txt"))
    files += sorted(Path("/usr/share/perl/5.36.0/pod").glob("*.pod"))
    files += sorted(Path("/usr/share/common-licenses").iterdir())
    for p in files:
        try:
            docs.append((str(p), p.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return docs


def chapters_of(text: str) -> list[str]:
    paras = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    out: list[str] = []
    cur: list[str] = []
    size = 0
    for p in paras:
        p = p.strip("\n")
        if not p.strip():
            continue
        cur.append(p)
        size += len(p) + 2
        if size >= CHAPTER_MAX or (size >= CHAPTER_MIN and len(p) < 80 and p.strip().isupper()):
            out.append("\n\n".join(cur))
            cur, size = [], 0
    if cur and (size >= CHAPTER_MIN or (not out and size >= DOC_MIN)):
        out.append("\n\n".join(cur))
    return out


def build_pool() -> tuple[list[str], dict]:
    chapters: list[str] = []
    h = hashlib.sha256()
    docs = pool_documents()
    for _name, text in docs:
        for c in chapters_of(text):
            chapters.append(c)
            h.update(c.encode())
    return chapters, {"documents": len(docs), "chapters": len(chapters),
                      "bytes": sum(len(c.encode()) for c in chapters), "sha256": h.hexdigest()}


def cipher(key: str) -> bytes:
    """The book's letter and digit substitution as a bytes.translate table: applied to UTF-8, where no byte of
    a multi-byte character is ASCII, it changes only ASCII letters and digits."""
    rng = random.Random("cipher:" + key)
    low, digits = list(string.ascii_lowercase), list(string.digits)
    rng.shuffle(low)
    rng.shuffle(digits)
    table = bytearray(range(256))
    for a, b in zip(string.ascii_lowercase, low, strict=True):
        table[ord(a)], table[ord(a.upper())] = ord(b), ord(b.upper())
    for a, b in zip(string.digits, digits, strict=True):
        table[ord(a)] = ord(b)
    return bytes(table)


def words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))).capitalize()
                    for _ in range(n))


def wrap(text: str, width: int = 60) -> str:
    """Each paragraph's lines rewrapped (another edition's layout); curly quotes for straight ones."""
    out = []
    for para in text.split("\n\n"):
        line, lines = "", []
        for w in para.split():
            if line and len(line) + 1 + len(w) > width:
                lines.append(line)
                line = w
            else:
                line = f"{line} {w}" if line else w
        lines.append(line)
        out.append("\n".join(lines))
    return re.sub(r'"(\S[^"\n]*?)"', "\u201c\\1\u201d", "\n\n".join(out))


class Books:
    def __init__(self, chapters: list[str], seed: int) -> None:
        self.chapters, self.seed = [c.encode() for c in chapters], seed

    def body(self, i: int) -> list[str]:
        """Book i's enciphered chapters."""
        rng = random.Random(f"{self.seed}:{i}")
        target = rng.randint(300_000, 760_000)
        picks: list[int] = []
        size = 0
        while size < target:
            c = rng.randrange(len(self.chapters))
            if c in picks:
                continue
            picks.append(c)
            size += len(self.chapters[c])
        table = cipher(f"{self.seed}:{i}")
        return [self.chapters[c].translate(table).decode() for c in picks]

    def front(self, i: int, edition: int = 0) -> tuple[str, str, str]:
        rng = random.Random(f"front:{self.seed}:{i}:{edition}")
        title, author, year = words(rng, rng.randint(2, 5)), words(rng, 2), rng.randint(1950, 2023)
        page = f"{title}\n\nby {author}\n\n"
        if random.Random(f"rights:{self.seed}:{i}").random() < 0.6:
            page += COPYRIGHT.format(year=year, author=author)
        return title, author, page

    def text(self, i: int, edition: int = 0, chapters: list[str] | None = None) -> tuple[str, str, str]:
        title, author, page = self.front(i, edition)
        body = chapters if chapters is not None else self.body(i)
        return title, author, page + "".join(f"Chapter {n}\n\n{c}\n\n" for n, c in enumerate(body, 1))


def reissues(n_books: int, seed: int) -> dict[int, int]:
    """reissue book index -> original (of the first 1,000)."""
    rng = random.Random(f"reissues:{seed}")
    out = {}
    for i in range(min(n_books, PER_FILE), n_books):
        if rng.random() < 0.02:
            out[i] = rng.randrange(min(n_books, PER_FILE))
    return out


def edit(text: str, rng: random.Random) -> str:
    paras = [p for p in text.split("\n\n") if rng.random() >= 0.05]
    out = []
    for p in paras:
        sents = re.split(r"(?<=[.!?])\s+", p)
        for k in range(0, len(sents), 5):
            ws = sents[k].split(" ")
            if len(ws) > 3:
                ws[rng.randrange(len(ws))] = words(rng, 1).lower()
                sents[k] = " ".join(ws)
        out.append(" ".join(sents))
    return wrap("\n\n".join(out))


def build(out: Path, n_books: int, n_works: int, seed: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    chapters, pool = build_pool()
    books = Books(chapters, seed)
    again = reissues(n_books, seed)
    cctx = zstandard.ZstdCompressor(level=3)
    files, total = [], 0
    for f in range(0, n_books, PER_FILE):
        path = out / f"books-{f // PER_FILE:02d}.jsonl.zst"
        files.append(path.name)
        with open(path, "wb") as raw, cctx.stream_writer(raw) as fh:
            for i in range(f, min(f + PER_FILE, n_books)):
                if i in again:
                    title, author, text = books.text(again[i], edition=1,
                                                     chapters=[wrap(c) for c in books.body(again[i])])
                else:
                    title, author, text = books.text(i)
                line = orjson.dumps({"path": f"books/{i:06d}.txt", "title": title, "author": author,
                                     "text": text}) + b"\n"
                total += len(text.encode())
                fh.write(line)
    works_dir = out / "works"
    works_dir.mkdir(exist_ok=True)
    rng = random.Random(f"works:{seed}")
    sources = rng.sample(range(min(n_books, PER_FILE)), k=min(min(n_books, PER_FILE), 3 * n_works // 4))
    plan: list[dict] = []
    rows = ["claimant,title,path"]
    for w in range(n_works):
        kind = KINDS[w % 4]
        wr = random.Random(f"work:{seed}:{w}")
        if kind == "absent":
            src = n_books + 1_000_000 + w
            _, _, text = books.text(src)
            entry = {"kind": kind, "book": None, "share": 0.0}
        else:
            src = sources[(w // 4) * 3 + KINDS.index(kind)]
            _, _, full = books.text(src)
            if kind == "verbatim":
                text, share = full, 1.0
            elif kind == "edited":
                text, share = edit(full, wr), None
            else:
                body = books.body(src)
                keep = max(1, round(len(body) * wr.uniform(0.1, 0.5)))
                other = books.body(n_books + 2_000_000 + w)
                rest = other[:max(1, len(body) - keep)]
                _, _, text = books.text(src, chapters=body[:keep] + rest)
                share = round(sum(map(len, body[:keep])) / (sum(map(len, body[:keep])) + sum(map(len, rest))), 4)
            entry = {"kind": kind, "book": src, "share": share}
        name = f"{w:04d}-{kind}.txt"
        (works_dir / name).write_text(text, encoding="utf-8")
        rows.append(f"bench,{name},{(works_dir / name).resolve()}")
        plan.append({"work": name, **entry})
    (out / "works.csv").write_text("\n".join(rows) + "\n")
    info = {"seed": seed, "books": n_books, "text_bytes": total, "files": files, "pool": pool,
            "reissues": {str(k): v for k, v in sorted(again.items())}, "works": plan}
    (out / "plan.json").write_text(json.dumps(info, indent=1))
    return {k: v for k, v in info.items() if k not in ("works", "reissues")} | {"reissues": len(again)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--books", type=int, default=10_000)
    ap.add_argument("--works", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=28)
    a = ap.parse_args()
    print(json.dumps(build(a.out, a.books, a.works, a.seed)))
