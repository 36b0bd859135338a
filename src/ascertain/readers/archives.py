"""tar and zip archives, read member by member without extracting to disk.

Hostile archives are refused member by member with a message: absolute or `..` paths (path traversal),
links (pointing out of the archive or not: a link is not content), and decompression bombs (output beyond
`max_archive_ratio` times the archive's size, once past `min_bomb_bytes`; sizes are counted as the bytes
come out, never trusted from headers).
"""

from __future__ import annotations

import io
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ascertain.readers.base import Document, ReadOptions, Skip, name_from_bytes, printable
from ascertain.readers.compressed import Decompressed
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
        if opts.max_expanded_bytes is not None:
            self.limit = min(self.limit, opts.max_expanded_bytes)
        self.used = 0

    def take(self, n: int) -> bool:
        self.used += n
        return self.used <= self.limit


# What a member's bytes become: text documents by default; the image readers (readers/images.py) pass their own
# (bytes, input name, locator, member name, offset of the data in an uncompressed tar or None) -> items
MemberItems = Callable[[bytes, str, str, str, int | None], Iterator]


def read_archive(path: Path, opts: ReadOptions, input_name: str, to_items: MemberItems | None = None
                 ) -> Iterator[Document | Skip]:
    try:
        if path.name.lower().endswith(".zip"):
            yield from _read_zip(path, opts, input_name, to_items)
        else:
            yield from _read_tar(path, opts, input_name, to_items)
    except (*MEMBER_ERRORS, UnicodeDecodeError) as e:
        yield Skip(input_name, printable(str(path)), f"damaged or unreadable archive ({e}); any members listed "
                   "before this were read", "check the archive (`tar tf` / `unzip -t`) and provide an intact copy")


def _zstd_error() -> type[Exception]:
    import zstandard

    return zstandard.ZstdError


# what reading a damaged archive or member raises (CRC, compressed stream, truncation, unsupported method)
MEMBER_ERRORS: tuple[type[Exception], ...] = (tarfile.TarError, zipfile.BadZipFile, zlib.error, lzma.LZMAError,
                                              EOFError, OSError, NotImplementedError, RuntimeError, ValueError,
                                              _zstd_error())


def _bomb(input_name: str, path: Path, budget: _Budget) -> Skip:
    return Skip(input_name, printable(str(path)),
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
    offset: int | None = None  # where the content starts in an uncompressed tar (random access later)


def _zip_members(zf: zipfile.ZipFile) -> Iterator[_Member]:
    for info in zf.infolist():
        kind = "dir" if info.is_dir() else "link" if stat.S_ISLNK(info.external_attr >> 16) else "file"

        def read(n: int, info: zipfile.ZipInfo = info) -> bytes:
            with zf.open(info) as fh:
                return fh.read(n)

        yield _Member(_zip_name(info), kind, None, read)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member name as printable text. Names without the UTF-8 flag are raw bytes that zipfile shows as
    cp437; most such names are UTF-8 (or another encoding) in fact, so they are shown as their bytes read as
    UTF-8, any other byte as a backslash escape (as tar members and file names are)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return name_from_bytes(info.filename.encode("cp437"))
    except UnicodeEncodeError:  # names zipfile did not decode as cp437 (metadata_encoding given)
        return info.filename


def _tar_members(tf: tarfile.TarFile) -> Iterator[_Member]:
    for m in tf:
        kind = ("dir" if m.isdir() else "link" if m.issym() or m.islnk() else "file" if m.isfile()
                else "special")

        def read(n: int, m: tarfile.TarInfo = m) -> bytes:
            fh = tf.extractfile(m)
            return fh.read(n) if fh else b""

        yield _Member(printable(m.name), kind, m.size, read, m.offset_data)


def _read_zip(path: Path, opts: ReadOptions, input_name: str, to_items: MemberItems | None = None
              ) -> Iterator[Document | Skip]:
    try:
        zf = zipfile.ZipFile(path)
    except UnicodeDecodeError as e:  # zipfile cannot list an archive whose UTF-8-flagged names are not UTF-8
        yield Skip(input_name, printable(str(path)), f"a member name flagged as UTF-8 is not UTF-8 ({e.reason} "
                   f"at byte {e.start} of the name), so the archive cannot be listed",
                   "re-create the archive with correct names, or extract it (`unzip -O ENCODING`) and pass the "
                   "folder")
        return
    with zf:
        yield from _read_members(_zip_members(zf), path, opts, input_name, to_items=to_items)


def _read_tar(path: Path, opts: ReadOptions, input_name: str, to_items: MemberItems | None = None
              ) -> Iterator[Document | Skip]:
    name = path.name.lower()
    if not name.endswith((".tar.zst", ".tar.gz", ".tgz")):
        budget = _Budget(path, opts)
        with tarfile.open(path, "r|*") as tf:
            if (yield from _read_members(_tar_members(tf), path, opts, input_name, budget, to_items)):
                yield from _tar_rest(tf, path, opts, input_name, budget, to_items=to_items)
        return
    # gzip and zstd through Decompressed: a cut or damaged stream is reported with its offsets
    stream = Decompressed(path, "zst" if name.endswith(".zst") else "gz")
    budget = _Budget(path, opts)
    try:
        with io.BufferedReader(stream) as fh, tarfile.open(fileobj=fh, mode="r|") as tf:
            if (yield from _read_members(_tar_members(tf), path, opts, input_name, budget, to_items)):
                yield from _tar_rest(tf, path, opts, input_name, budget, to_items=to_items)
    except MEMBER_ERRORS:
        if not stream.damage:
            raise
    if stream.damage:
        yield Skip(input_name, printable(str(path)),
                   f"damaged or unreadable archive: {stream.damage}; the members before it were read",
                   "obtain the complete archive (`gzip -t` / `zstd -t` shows the damage)")


class _Prefixed(io.RawIOBase):
    """A stream that gives `head`, then the rest of `src` (to restart tarfile at a header already read)."""

    def __init__(self, head: bytes, src: io.BufferedIOBase) -> None:
        self._head, self._src = head, src

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if not self._head:
            return self._src.read(n)
        if n < 0:
            n = len(self._head)
        out, self._head = self._head[:n], self._head[n:]
        return out


def _tar_rest(tf: tarfile.TarFile, path: Path, opts: ReadOptions, input_name: str, budget: _Budget,
              base: int = 0, to_items: MemberItems | None = None) -> Iterator[Document | Skip]:
    """tarfile ends its listing silently at a damaged header (or at the end marker of an archive another
    follows). Past that point: zero blocks are padding; otherwise reading resumes at the next block that is
    a valid header, and the bytes passed over are reported; data with no valid header left is reported."""
    stopped_at = base + tf.offset
    pos = stopped_at + tarfile.BLOCKSIZE  # tarfile has read the block it stopped at
    passed_over = 0
    shown = printable(str(path))
    while True:
        block = tf.fileobj.read(tarfile.BLOCKSIZE)
        if len(block) < tarfile.BLOCKSIZE:
            break
        if not budget.take(len(block)):
            yield _bomb(input_name, path, budget)
            return
        if block.strip(b"\0"):
            try:
                tarfile.TarInfo.frombuf(block, tarfile.ENCODING, "surrogateescape")
            except tarfile.HeaderError:
                passed_over += tarfile.BLOCKSIZE
            else:
                yield Skip(input_name, shown, f"tar listing stopped at byte {stopped_at:,} of the uncompressed "
                           "archive (a damaged header, or the end marker of an archive that another follows); "
                           f"{passed_over:,} bytes of data were passed over and reading resumed at the next "
                           f"valid header, byte {pos:,}", "check the archive (`tar tvf`); obtain an intact copy")
                with tarfile.open(fileobj=_Prefixed(block, tf.fileobj), mode="r|") as rest:
                    if (yield from _read_members(_tar_members(rest), path, opts, input_name, budget, to_items)):
                        yield from _tar_rest(rest, path, opts, input_name, budget, base=pos, to_items=to_items)
                return
        pos += tarfile.BLOCKSIZE
    if passed_over:
        yield Skip(input_name, shown, f"tar listing stopped at byte {stopped_at:,} of the uncompressed archive "
                   f"(a damaged header): {passed_over:,} bytes of data after it hold no readable member",
                   "check the archive (`tar tvf`) and provide an intact copy")


def _read_members(members: Iterator[_Member], path: Path, opts: ReadOptions, input_name: str,
                  budget: _Budget | None = None, to_items: MemberItems | None = None
                  ) -> Generator[Document | Skip, None, bool]:
    """Documents and Skips of the members; returns False when it stopped before the end (bomb, too many)."""
    budget = budget or _Budget(path, opts)
    limit = opts.max_doc_bytes
    for i, m in enumerate(members):
        loc = f"{printable(str(path))}!{m.name}"
        if i >= opts.max_archive_members:
            yield Skip(input_name, printable(str(path)), f"more than {opts.max_archive_members:,} members; the "
                       "first ones were read, the rest not", "split the archive into shards, or raise "
                       "--max-archive-members if it is genuine")
            return False
        if m.kind == "dir":
            continue
        if m.kind == "link" or unsafe_name(m.name):
            yield _refusal(input_name, loc, m.name, m.kind == "link")
            continue
        if m.kind == "special":
            yield Skip(input_name, loc, "special file (device, fifo) refused", "nothing to do")
            continue
        too_big = m.size is not None and m.size > limit
        try:
            data = b"" if too_big else m.read(limit + 1)
        except MEMBER_ERRORS as e:  # a bad CRC or damaged stream: this member only; zip goes on to the next
            yield Skip(input_name, loc, f"damaged member not read ({type(e).__name__}: {e})",
                       "the other members were read; obtain an intact copy for this one")
            continue
        if not budget.take(m.size if too_big else len(data)):
            yield _bomb(input_name, path, budget)
            return False
        if too_big or len(data) > limit:
            yield Skip(input_name, loc, f"member exceeds the {limit:,}-byte limit",
                       "raise --max-doc-bytes if it is genuine text")
            continue
        if to_items is not None:
            yield from to_items(data, input_name, loc, m.name, m.offset)
        else:
            yield from document_from_bytes(data, input_name, loc, opts.language or language_of(m.name))
    return True
