"""Records every reader yields, the options they share, and decoding of bytes to text."""

from __future__ import annotations

from dataclasses import dataclass, field

BINARY_SNIFF = 8192


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
    meta_fields: tuple[str, ...] = ()  # Parquet columns read as record metadata (title, author, isbn, ...)


def decode(data: bytes, input_name: str, locator: str) -> tuple[str | None, Skip | None]:
    """UTF-8 text, or a Skip that says why the bytes are not text."""
    if b"\x00" in data[:BINARY_SNIFF] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, Skip(input_name, locator, "binary file (NUL bytes)",
                          "nothing to do if it is not text; convert text files to UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        if bad <= max(1, len(data) // 1000):  # a stray byte or two: keep the text, say so
            return text, None
        return None, Skip(input_name, locator,
                          f"not UTF-8 text ({bad} undecodable bytes, first at byte {e.start})",
                          "convert it to UTF-8, e.g. `iconv -f LATIN1 -t UTF-8 FILE > FILE.utf8`")
