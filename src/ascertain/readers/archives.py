"""tar and zip archives, read member by member without extracting to disk.

Hostile archives are refused member by member with a message: absolute or `..` paths (path traversal),
links (pointing out of the archive or not: a link is not content), and decompression bombs (output beyond
`max_archive_ratio` times the archive's size, once past `min_bomb_bytes`; sizes are counted as the bytes
come out, never trusted from headers).
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.readers.files import document_from_bytes
from ascertain.text.languages import language_of

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def unsafe_name(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":")


class _Budget:
    def __init__(self, archive: Path, opts: ReadOptions) -> None:
        self.limit = max(opts.min_bomb_bytes, archive.stat().st_size * opts.max_archive_ratio)
        self.used = 0

    def take(self, n: int) -> bool:
        self.used += n
        return self.used <= self.limit


def read_archive(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    try:
        if path.name.lower().endswith(".zip"):
            yield from _read_zip(path, opts, input_name)
        else:
            yield from _read_tar(path, opts, input_name)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
        yield Skip(input_name, str(path), f"damaged or unreadable archive ({e})",
                   "check the archive (`tar tf` / `unzip -t`) and provide an intact copy")


def _bomb(input_name: str, path: Path, budget: _Budget) -> Skip:
    return Skip(input_name, str(path),
                f"decompression bomb refused: output passed {budget.limit:,} bytes "
                f"({budget.limit // max(1, path.stat().st_size)}x the archive); the rest was not read",
                "if the archive is genuine, extract it yourself and pass the folder")


def _refusal(input_name: str, loc: str, name: str, linked: bool) -> Skip:
    if linked:
        return Skip(input_name, loc, "link in archive refused (links are not content and may point "
                    "out of the archive)", "nothing to do unless the target belongs to the input")
    return Skip(input_name, loc, f"path traversal refused: member name {name!r} escapes the archive",
                "the archive is unsafe; obtain a clean copy from its source")


@dataclass
class _Member:
    name: str
    kind: str  # file | dir | link | special
    size: int | None  # declared size (tar headers); None where unknown until read
    read: Callable[[int], bytes]  # at most n bytes of the content


def _zip_members(zf: zipfile.ZipFile) -> Iterator[_Member]:
    for info in zf.infolist():
        kind = "dir" if info.is_dir() else "link" if stat.S_ISLNK(info.external_attr >> 16) else "file"

        def read(n: int, info: zipfile.ZipInfo = info) -> bytes:
            with zf.open(info) as fh:
                return fh.read(n)

        yield _Member(info.filename, kind, None, read)


def _tar_members(tf: tarfile.TarFile) -> Iterator[_Member]:
    for m in tf:
        kind = ("dir" if m.isdir() else "link" if m.issym() or m.islnk() else "file" if m.isfile()
                else "special")

        def read(n: int, m: tarfile.TarInfo = m) -> bytes:
            fh = tf.extractfile(m)
            return fh.read(n) if fh else b""

        yield _Member(m.name, kind, m.size, read)


def _read_zip(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    with zipfile.ZipFile(path) as zf:
        yield from _read_members(_zip_members(zf), path, opts, input_name)


def _read_tar(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    if path.name.lower().endswith(".tar.zst"):
        import zstandard

        with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as stream, \
                tarfile.open(fileobj=stream, mode="r|") as tf:
            yield from _read_members(_tar_members(tf), path, opts, input_name)
        return
    with tarfile.open(path, "r|*") as tf:
        yield from _read_members(_tar_members(tf), path, opts, input_name)


def _read_members(members: Iterator[_Member], path: Path, opts: ReadOptions, input_name: str
                  ) -> Iterator[Document | Skip]:
    budget = _Budget(path, opts)
    limit = opts.max_doc_bytes
    for i, m in enumerate(members):
        loc = f"{path}!{m.name}"
        if i >= opts.max_archive_members:
            yield Skip(input_name, str(path), f"more than {opts.max_archive_members:,} members",
                       "split the archive or extract it and pass the folder")
            return
        if m.kind == "dir":
            continue
        if m.kind == "link" or unsafe_name(m.name):
            yield _refusal(input_name, loc, m.name, m.kind == "link")
            continue
        if m.kind == "special":
            yield Skip(input_name, loc, "special file (device, fifo) refused", "nothing to do")
            continue
        too_big = m.size is not None and m.size > limit
        data = b"" if too_big else m.read(limit + 1)
        if not budget.take(m.size if too_big else len(data)):
            yield _bomb(input_name, path, budget)
            return
        if too_big or len(data) > limit:
            yield Skip(input_name, loc, f"member exceeds the {limit:,}-byte limit",
                       "raise --max-doc-bytes if it is genuine text")
            continue
        yield from document_from_bytes(data, input_name, loc, opts.language or language_of(m.name))
