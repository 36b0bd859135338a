"""Records every reader yields, the options they share, decoding of bytes to text, and safe locators."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field

BINARY_SNIFF = 8192
MAX_CHAOS = 0.1  # charset-normalizer's "mess" ratio above which a detected decoding is not trusted
COHERENCE_MARGIN = 0.15  # how far a detected language's coherence must lead the other candidates
DETECT_SAMPLE = 1 << 20  # bytes given to the detector (the whole file is then decoded strictly)
_NON_ASCII_UTF8 = re.compile(r"[^\x00-\x7f\ufffd]")
LEGACY_ENCODINGS = ("cp1252", "cp1250", "cp1251", "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
                    "cp932", "euc_jp", "gb18030", "big5", "euc_kr")
MULTI_BYTE = {"cp932", "euc_jp", "gb18030", "big5", "euc_kr"}
# ASCII, the letters of Latin-1 (not × ÷), and the symbols Western code commonly carries in cp1252
WESTERN = (frozenset(map(chr, range(128))) | frozenset(chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7))
           | frozenset("©®°§µ·«»¿¡ªº±½¼¾£¥¢\xa0“”‘’–—…€™•ŒœŠšŽžŸ"))


@dataclass
class Document:
    locator: str  # where the text came from: path, archive!member, file.jsonl:LINE, repo@REV:path
    text: str
    language: str
    sha256: str  # of the bytes as read (of the UTF-8 text for JSONL/Parquet records)
    meta: dict = field(default_factory=dict)


@dataclass
class Skip:
    input: str  # the file or archive the user named
    locator: str  # the record within it
    reason: str
    fix: str

    def message(self) -> str:
        return f"{self.locator}: {self.reason}. Fix: {self.fix}"


@dataclass
class ReadOptions:
    text_field: str = "text"  # JSONL key / Parquet column holding the text
    language: str | None = None  # force a language for records that do not name one
    rev: str | None = None  # git revision, for git repositories
    expand_containers: bool = True  # read JSONL/Parquet/archives found inside directories as records
    max_doc_bytes: int = 32 * 1024 * 1024
    max_archive_ratio: int = 200  # uncompressed/compressed beyond which an archive is a bomb ...
    min_bomb_bytes: int = 256 * 1024 * 1024  # ... once it has produced at least this much
    max_archive_members: int = 2_000_000
    max_markup_tags: int = 2_000_000  # HTML/EPUB work budget per document (readers/html.py); past it, a Skip
    max_expanded_bytes: int | None = None  # cap on what one input may decompress to, whatever its size
    max_pdf_pages: int | None = None  # cap on the pages of a PDF read (the web lookup sets one)
    meta_fields: tuple[str, ...] = ()  # Parquet columns read as record metadata (title, author, isbn, ...)


def printable(name: str) -> str:
    """A name as valid UTF-8 text: bytes that were not UTF-8 (surrogate-escaped by the OS, tarfile or git)
    are shown as backslash escapes (`\\xe9`), so the locator is still citeable and never crashes an encoder."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # lone surrogates that are not escaped bytes
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def name_from_bytes(raw: bytes) -> str:
    """A file or member name given as raw bytes, as printable() text."""
    return raw.decode("utf-8", "backslashreplace")


_SPECIAL_KINDS = ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISSOCK, "socket"),
                  (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


def non_regular(mode: int) -> str | None:
    """What a non-regular, non-directory file is ("named pipe (FIFO)", ...), None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _SPECIAL_KINDS if test(mode)), "special file")


def special_file_skip(input_name: str, locator: str, what: str) -> Skip:
    return Skip(input_name, locator, f"{what} not read (only regular files are read: opening it could block "
                "or never end)", "copy its content to a regular file if it belongs to the input")


def regular_file_skip(path: str | os.PathLike, input_name: str, locator: str) -> Skip | None:
    """A Skip when path is not a regular file (checked with stat, before anything opens it), else None."""
    try:
        what = non_regular(os.stat(path).st_mode)
    except OSError as e:
        return Skip(input_name, locator, f"cannot read ({e.strerror})", os_error_fix(e))
    return special_file_skip(input_name, locator, what) if what else None


def os_error_fix(e: OSError) -> str:
    """The fix for a file that cannot be opened, by why."""
    if e.errno == errno.ELOOP:
        return "the path is a loop of symbolic links: point the link at a real file, or remove it"
    if e.errno == errno.ENOENT:
        return "the file is gone (removed, or a link to nothing): check the path"
    return "check the path and its permissions"


def decode(data: bytes, input_name: str, locator: str) -> tuple[str | None, str | Skip]:
    """(text, encoding used), or (None, a Skip that says why the bytes are not text).

    The policy, in order: NUL bytes → binary; a BOM → UTF-8 / UTF-16; valid UTF-8 → UTF-8; UTF-8 with a few
    stray bytes (it has real multi-byte UTF-8 characters and at most 1 bad byte in 1,000) → UTF-8 with
    U+FFFD for the strays; otherwise charset-normalizer's detection, accepted only when confident (see
    detect_encoding); otherwise the same stray-byte tolerance; otherwise a Skip.
    """
    if b"\x00" in data[:BINARY_SNIFF] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, Skip(input_name, locator, "binary file (NUL bytes)",
                          "nothing to do if it is not text; convert text files to UTF-8")
    bom = "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data, bom = data[3:], "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError as e:
        first_bad = e.start
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    tolerable = bad <= max(1, len(data) // 1000)
    replaced = f"utf-8 ({bad} undecodable byte{'s' if bad > 1 else ''} replaced by U+FFFD)"
    if tolerable and _NON_ASCII_UTF8.search(text):
        return text, replaced
    detected = detect_encoding(data)
    if detected:
        return data.decode(detected[0]), detected[1]
    if tolerable:
        return text, replaced
    return None, Skip(input_name, locator,
                      f"not UTF-8 text ({bad} undecodable bytes, first at byte {first_bad}) and no other "
                      "encoding detected with confidence",
                      "convert it to UTF-8, e.g. `iconv -f LATIN1 -t UTF-8 FILE > FILE.utf8`")


def detect_encoding(data: bytes) -> tuple[str, str] | None:
    """(codec, how it is recorded) when the encoding is known with confidence, else None.

    1. charset-normalizer, among the encodings old source files actually use (LEGACY_ENCODINGS), is trusted
       when its best candidate is clean (chaos at most MAX_CHAOS, whole input decodes strictly) and either
       it is a multi-byte encoding no other candidate matches as cleanly, or its language coherence leads
       every equally clean candidate by COHERENCE_MARGIN.
    2. Otherwise Windows-1252 is assumed only when it decodes every byte and every non-ASCII character it
       gives is a Western letter or common symbol (WESTERN): the usual case of a Latin-1/cp1252 header
       ("© 2001 Jürgen Müller") in otherwise ASCII code, which detectors cannot tell apart from
       cp1250/cp1257 on so few bytes. The record says "assumed".
    """
    from charset_normalizer import from_bytes

    try:
        candidates = list(from_bytes(data[:DETECT_SAMPLE], cp_isolation=list(LEGACY_ENCODINGS)))
    except Exception:  # a detector failure on odd bytes means "not detected", never an abort  # noqa: BLE001
        candidates = []
    matches = [m for m in candidates if m.chaos <= MAX_CHAOS]
    if matches:
        best_chaos = min(m.chaos for m in matches)
        clean = [m for m in matches if m.chaos <= best_chaos + 0.01]
        top = max(clean, key=lambda m: (m.coherence, -clean.index(m)))
        runner_up = max((m.coherence for m in clean if m is not top), default=None)
        multi_byte_alone = runner_up is None and top.encoding in MULTI_BYTE
        if multi_byte_alone or top.coherence >= (runner_up or 0.0) + COHERENCE_MARGIN:
            codec = "cp1252" if "cp1252" in top.could_be_from_charset else top.encoding
            if _decodes(data, codec):
                return codec, codec
    if _decodes(data, "cp1252") and set(data.decode("cp1252")) <= WESTERN:
        return "cp1252", "cp1252 (assumed: only Western letters and symbols, no confident detection)"
    return None


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True
