"""Record files: JSONL (plain, .gz, .zst) and Parquet, one Document per record."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import orjson

from ascertain.readers.base import Document, ReadOptions, Skip, printable
from ascertain.readers.compressed import Decompressed
from ascertain.text.languages import language_named, language_of, language_of_content, language_of_extension

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")
PATH_KEYS = ("path", "filename", "file_path", "max_stars_repo_path")
LANGUAGE_KEYS = ("lang", "language")  # The Stack: `lang`; others: `language`
EXTENSION_KEYS = ("ext", "extension")
# Parquet columns always read as record metadata: the CMI a training set carries beside the text (The Stack's
# repository licenses and name; a book set's title, author, publisher), compared with the work's by cmi/status.py
CMI_META_KEYS = ("license", "licenses", "license_type", "max_stars_repo_licenses", "max_issues_repo_licenses",
                 "max_forks_repo_licenses", "copyright", "copyright_holder", "author", "authors", "owner",
                 "repository", "repo_name", "max_stars_repo_name", "title", "publisher", "isbn")


def is_jsonl(path: Path) -> bool:
    return path.name.lower().endswith(JSONL_SUFFIXES)


def is_plain_jsonl(path: Path) -> bool:
    """A JSONL file that is not compressed: it can be cut into byte ranges read independently."""
    return path.name.lower().endswith((".jsonl", ".ndjson"))


def line_cuts(path: Path, step: int) -> list[int]:
    """Byte offsets that cut a plain file into ranges of about `step` bytes, each starting at a line start:
    0, then for each multiple of `step` the first line start at or after it, then the size. Reads one line
    per cut."""
    size = path.stat().st_size
    cuts = [0]
    with open(path, "rb") as fh:
        for at in range(step, size, step):
            if at <= cuts[-1]:
                continue  # inside a line longer than `step`: the next cut is after it
            fh.seek(at - 1)
            cut = at - 1 + len(fh.readline())  # the byte before `at` was a newline: the cut is `at`
            if cut < size:
                cuts.append(cut)
    return [*cuts, size]


def count_lines(path: Path, start: int, end: int) -> int:
    """Newlines in bytes start..end of a file: the line number before the next range."""
    n = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            chunk = fh.read(min(left, 1 << 24))
            if not chunk:
                break
            n += chunk.count(b"\n")
            left -= len(chunk)
    return n


class _ByteRange(io.RawIOBase):
    """Bytes start..end of a file, as a raw stream."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self._fh = open(path, "rb", buffering=0)  # noqa: SIM115 (closed with this stream)
        self._fh.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self._left)
        if n <= 0:
            return 0
        got = self._fh.readinto(memoryview(b)[:n]) or 0
        self._left -= got
        return got

    def close(self) -> None:
        self._fh.close()
        super().close()


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def open_lines(path: Path) -> io.BufferedReader:
    """A binary stream of the (decompressed) file: lines are parsed as UTF-8 JSON by orjson directly. For a
    compressed file, the stream's .raw is a Decompressed whose `damage` tells whether the file was intact."""
    name = path.name.lower()
    if name.endswith((".gz", ".zst")):
        return io.BufferedReader(Decompressed(path, "gz" if name.endswith(".gz") else "zst"))
    return open(path, "rb")  # noqa: SIM115 (the caller closes it)


def jsonl_records(path: Path, opts: ReadOptions, input_name: str, span: tuple[int, int, int] | None = None
                  ) -> Iterator[tuple[int, dict] | Skip]:
    """(line number, object) for every well-formed line; a Skip for every other line. `span` (start, end,
    lines before start): only the lines of that byte range of a plain file (see plain_jsonl_spans)."""
    limit = opts.max_doc_bytes
    shown = printable(str(path))
    try:
        with open_lines(path) if span is None else io.BufferedReader(_ByteRange(path, span[0], span[1])) as fh:
            lineno = 0 if span is None else span[2]
            while True:
                line = fh.readline(limit + 1)
                if not line:
                    break
                lineno += 1
                loc = f"{shown}:{lineno}"
                if len(line) > limit and not line.endswith(b"\n"):
                    while line and not line.endswith(b"\n"):  # drain the rest of the oversized line
                        line = fh.readline(limit + 1)
                    yield Skip(input_name, loc, f"line longer than {limit:,} bytes",
                               "split the record, or raise --max-doc-bytes")
                    continue
                damage = getattr(fh.raw, "damage", None)
                if damage and not line.endswith(b"\n"):  # the last line, cut by the damage: not a record
                    yield _damage_skip(input_name, path, damage, lineno, len(line))
                    return
                if not line.strip():
                    continue
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as e:
                    yield Skip(input_name, loc, f"malformed JSON ({e.msg} at column {e.colno})"
                               if "utf-8" not in e.msg.lower() else f"not UTF-8 ({e.msg})",
                               "repair or remove that line; the other lines were read")
                    continue
                if not isinstance(obj, dict):
                    yield Skip(input_name, loc, f"a JSON {type(obj).__name__}, not an object",
                               "write one JSON object per line")
                    continue
                yield lineno, obj
            damage = getattr(fh.raw, "damage", None)
            if damage:  # the cut fell at the end of a line
                yield _damage_skip(input_name, path, damage, None, 0)
    except (OSError, EOFError, ValueError) as e:
        yield Skip(input_name, printable(str(path)), f"cannot read as compressed text ({e})",
                   "check the file is intact (`gzip -t` / `zstd -t`)")


def _damage_skip(input_name: str, path: Path, damage: str, lineno: int | None, partial: int) -> Skip:
    where = printable(str(path))
    if lineno is None:
        return Skip(input_name, where, f"{damage}; every complete line before it was read",
                    "obtain the complete file (`gzip -t` / `zstd -t` shows the damage)")
    return Skip(input_name, f"{where}:{lineno}", f"{damage}; line {lineno} is truncated ({partial:,} bytes "
                "of it survive) and was not read; the lines before it were",
                "obtain the complete file (`gzip -t` / `zstd -t` shows the damage)")


def read_jsonl(path: Path, opts: ReadOptions, input_name: str, span: tuple[int, int, int] | None = None
               ) -> Iterator[Document | Skip]:
    """The records of a JSONL file (`span`: of one byte range of it, jsonl_records)."""
    for item in jsonl_records(path, opts, input_name, span):
        if isinstance(item, Skip):
            yield item
            continue
        lineno, obj = item
        yield _record_document(obj, opts, input_name, f"{printable(str(path))}:{lineno}", f"line {lineno}")


def _record_document(obj: dict, opts: ReadOptions, input_name: str, loc: str, where: str
                     ) -> Document | Skip:
    text = obj.get(opts.text_field)
    if not isinstance(text, str):
        found = ", ".join(sorted(k for k, v in obj.items() if isinstance(v, str))[:8]) or "none"
        what = "missing" if text is None else f"a {type(text).__name__}, not a string"
        return Skip(input_name, loc, f"text field {opts.text_field!r} is {what} at {where} "
                    f"(string fields present: {found})", "pass --text-field with the right name")
    language, source = record_language(obj, text, opts)
    meta = {k: v for k, v in obj.items() if k != opts.text_field and (isinstance(v, str | int | float) or (
        isinstance(v, list) and v and len(v) <= 32 and all(isinstance(x, str) for x in v)))}  # a license list
    meta["language_from"] = source
    return Document(loc, text, language, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
                    meta)


def record_language(obj: dict, text: str, opts: ReadOptions) -> tuple[str, str]:
    """(language, where it came from) for one record: the --language option; else a language field (lang,
    language); else the extension of a path field (path, filename, ...); else an extension field (ext,
    extension); else the content (language_of_content). Fields naming no language we know are passed over."""
    if opts.language:
        return opts.language, "option"
    for keys, known in ((LANGUAGE_KEYS, language_named), (PATH_KEYS, _language_of_path),
                        (EXTENSION_KEYS, language_of_extension)):
        for k in keys:
            v = obj.get(k)
            if isinstance(v, str) and (lang := known(v)):
                return lang, f"field {k}"
    return language_of_content(text), "content"


def _language_of_path(path: str) -> str | None:
    lang = language_of(path)
    name = path.rsplit("/", 1)[-1]
    return lang if lang != "prose" or "." in name else None  # a path without extension says nothing


def read_parquet(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as e:
        yield Skip(input_name, printable(str(path)), f"not a readable Parquet file ({e})",
                   "check the file; re-export it as Parquet")
        return
    names = pf.schema_arrow.names
    shown = printable(str(path))
    if opts.text_field not in names:
        yield Skip(input_name, shown, f"no column {opts.text_field!r} (columns: {', '.join(names[:20])}); "
                   "the file was not read", "pass --text-field with the column that holds the text")
        return
    cols = list(dict.fromkeys([opts.text_field, *(k for k in (*PATH_KEYS, *LANGUAGE_KEYS, *EXTENSION_KEYS)
                                                  if k in names)]))
    cols = list(dict.fromkeys([*cols, *(k for k in (*opts.meta_fields, *CMI_META_KEYS) if k in names)]))
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=1024, columns=cols):
            for obj in batch.to_pylist():
                row += 1
                yield _record_document(obj, opts, input_name, f"{shown}#row{row}", f"row {row}")
    except (pa.ArrowException, OSError, ValueError) as e:
        yield Skip(input_name, f"{shown}#row{row + 1}", f"unreadable row group ({e})",
                   "the rows before it were read; re-export the file")
