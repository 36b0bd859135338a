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
from collections.abc import Iterator
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


def _read_zip(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    budget = _Budget(path, opts)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        for i, info in enumerate(infos):
            loc = f"{path}!{info.filename}"
            if i >= opts.max_archive_members:
                yield Skip(input_name, str(path), f"more than {opts.max_archive_members:,} members",
                           "split the archive or extract it and pass the folder")
                return
            if info.is_dir():
                continue
            is_link = stat.S_ISLNK(info.external_attr >> 16)
            if is_link or unsafe_name(info.filename):
                yield _refusal(input_name, loc, info.filename, is_link)
                continue
            with zf.open(info) as fh:
                data = fh.read(opts.max_doc_bytes + 1)
            if not budget.take(len(data)):
                yield _bomb(input_name, path, budget)
                return
            if len(data) > opts.max_doc_bytes:
                yield Skip(input_name, loc, f"member exceeds the {opts.max_doc_bytes:,}-byte limit",
                           "raise --max-doc-bytes if it is genuine text")
                continue
            yield from document_from_bytes(data, input_name, loc, opts.language or language_of(info.filename))


def _read_tar(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    budget = _Budget(path, opts)
    mode = "r|*"
    if path.name.lower().endswith(".tar.zst"):
        yield from _read_tar_zst(path, opts, input_name, budget)
        return
    with tarfile.open(path, mode) as tf:
        yield from _tar_members(tf, path, opts, input_name, budget)


def _read_tar_zst(path: Path, opts: ReadOptions, input_name: str, budget: _Budget
                  ) -> Iterator[Document | Skip]:
    import zstandard

    with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as stream, \
            tarfile.open(fileobj=stream, mode="r|") as tf:
        yield from _tar_members(tf, path, opts, input_name, budget)


def _tar_members(tf: tarfile.TarFile, path: Path, opts: ReadOptions, input_name: str, budget: _Budget
                 ) -> Iterator[Document | Skip]:
    for i, member in enumerate(tf):
        loc = f"{path}!{member.name}"
        if i >= opts.max_archive_members:
            yield Skip(input_name, str(path), f"more than {opts.max_archive_members:,} members",
                       "split the archive or extract it and pass the folder")
            return
        if member.isdir():
            continue
        if member.issym() or member.islnk() or unsafe_name(member.name):
            yield _refusal(input_name, loc, member.name, member.issym() or member.islnk())
            continue
        if not member.isfile():
            yield Skip(input_name, loc, "special file (device, fifo) refused", "nothing to do")
            continue
        if member.size > opts.max_doc_bytes:
            yield Skip(input_name, loc, f"member of {member.size:,} bytes exceeds the "
                       f"{opts.max_doc_bytes:,}-byte limit", "raise --max-doc-bytes if it is genuine text")
            if not budget.take(member.size):
                yield _bomb(input_name, path, budget)
                return
            continue
        fh = tf.extractfile(member)
        data = fh.read(opts.max_doc_bytes + 1) if fh else b""
        if not budget.take(len(data)):
            yield _bomb(input_name, path, budget)
            return
        yield from document_from_bytes(data, input_name, loc, opts.language or language_of(member.name))
