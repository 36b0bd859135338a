"""A single text file compressed on its own (`notes.txt.gz`, `util.py.gz`, `data.json.zst`): its text, as the
plain-file reader reads the uncompressed file (language from the name without `.gz`/`.zst`).

Decompressed incrementally (readers/compressed.py) and never past the document limit: a file that expands
beyond it is a Skip, as is a cut or damaged stream. Archives (`.tar.gz`) and record files (`.jsonl.gz`) have
their own readers and are not taken here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from ascertain.readers.base import Document, ReadOptions, Skip, printable
from ascertain.readers.compressed import Decompressed
from ascertain.readers.files import document_from_bytes
from ascertain.text.languages import language_of

SUFFIXES = {".gz": "gz", ".zst": "zst"}


def is_compressed_text(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def read_compressed_text(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    loc = printable(str(path))
    limit = opts.max_doc_bytes
    try:
        stream = Decompressed(path, SUFFIXES[path.suffix.lower()])
        with io.BufferedReader(stream) as fh:
            data = fh.read(limit + 1)
    except OSError as e:
        yield Skip(input_name, loc, f"cannot read ({e.strerror or e})", "check the file and its permissions")
        return
    if len(data) > limit:
        yield Skip(input_name, loc, f"decompresses to more than the {limit:,}-byte limit",
                   "split it, or raise --max-doc-bytes if it is genuine text")
        return
    if stream.damage:
        yield Skip(input_name, loc, f"damaged compressed file: {stream.damage}",
                   "obtain the complete file (`gzip -t` / `zstd -t` shows the damage)")
        return
    yield from document_from_bytes(data, input_name, loc, opts.language or language_of(str(path.with_suffix(""))))
