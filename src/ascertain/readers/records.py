"""Record files: JSONL (plain, .gz, .zst) and Parquet, one Document per record."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import orjson

from ascertain.errors import AscertainError
from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.text.languages import language_of

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")
PATH_KEYS = ("path", "filename", "file_path", "max_stars_repo_path")


def is_jsonl(path: Path) -> bool:
    return path.name.lower().endswith(JSONL_SUFFIXES)


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def open_lines(path: Path) -> io.BufferedIOBase:
    """A binary stream of the (decompressed) file: lines are parsed as UTF-8 JSON by orjson directly."""
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
        return io.BufferedReader(raw)
    return open(path, "rb")


def jsonl_records(path: Path, opts: ReadOptions, input_name: str) -> Iterator[tuple[int, dict] | Skip]:
    """(line number, object) for every well-formed line; a Skip for every other line."""
    limit = opts.max_doc_bytes
    try:
        with open_lines(path) as fh:
            lineno = 0
            while True:
                line = fh.readline(limit + 1)
                if not line:
                    break
                lineno += 1
                loc = f"{path}:{lineno}"
                if len(line) > limit and not line.endswith(b"\n"):
                    while line and not line.endswith(b"\n"):  # drain the rest of the oversized line
                        line = fh.readline(limit + 1)
                    yield Skip(input_name, loc, f"line longer than {limit:,} bytes",
                               "split the record, or raise --max-doc-bytes")
                    continue
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
    except (OSError, EOFError, ValueError) as e:
        yield Skip(input_name, str(path), f"cannot read as compressed text ({e})",
                   "check the file is intact (`gzip -t` / `zstd -t`)")


def read_jsonl(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    for item in jsonl_records(path, opts, input_name):
        if isinstance(item, Skip):
            yield item
            continue
        lineno, obj = item
        yield _record_document(obj, opts, input_name, f"{path}:{lineno}", f"line {lineno}")


def _record_document(obj: dict, opts: ReadOptions, input_name: str, loc: str, where: str
                     ) -> Document | Skip:
    text = obj.get(opts.text_field)
    if not isinstance(text, str):
        found = ", ".join(sorted(k for k, v in obj.items() if isinstance(v, str))[:8]) or "none"
        what = "missing" if text is None else f"a {type(text).__name__}, not a string"
        return Skip(input_name, loc, f"text field {opts.text_field!r} is {what} at {where} "
                    f"(string fields present: {found})", "pass --text-field with the right name")
    path_hint = next((obj[k] for k in PATH_KEYS if isinstance(obj.get(k), str)), None)
    language = opts.language or (language_of(path_hint) if path_hint else "prose")
    meta = {k: v for k, v in obj.items() if k != opts.text_field and isinstance(v, str | int | float)}
    return Document(loc, text, language, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
                    meta)


def read_parquet(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        yield Skip(input_name, str(path), f"not a readable Parquet file ({e})",
                   "check the file; re-export it as Parquet")
        return
    names = pf.schema_arrow.names
    if opts.text_field not in names:
        raise AscertainError(str(path), f"no column {opts.text_field!r} (columns: {', '.join(names[:20])})",
                             "pass --text-field with the column that holds the text")
    cols = [opts.text_field] + [k for k in PATH_KEYS if k in names][:1]
    cols += [k for k in opts.meta_fields if k in names and k not in cols]
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=1024, columns=cols):
            for obj in batch.to_pylist():
                row += 1
                yield _record_document(obj, opts, input_name, f"{path}#row{row}", f"row {row}")
    except (pa.ArrowException, OSError) as e:
        yield Skip(input_name, f"{path}#row{row + 1}", f"unreadable row group ({e})",
                   "the rows before it were read; re-export the file")
