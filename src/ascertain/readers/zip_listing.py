"""What a zip archive declares about its members, read from its end records without listing it.

`zipfile.ZipFile` parses the whole central directory when it opens an archive: a hostile zip of millions of tiny
members costs hundreds of megabytes (measured: 300,000 members took 186 MB and 7 s here) before a single member is
read. The end-of-central-directory record (and its zip64 form) states the member count and where the directory
is, so an archive over a member bound is refused before it is opened, and its first names can be peeked at.
"""

from __future__ import annotations

import struct
from pathlib import Path

EOCD = b"PK\x05\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_EOCD = b"PK\x06\x06"
CENTRAL = b"PK\x01\x02"
TAIL = 22 + 65_535  # the end record and the longest comment


def _end(path: Path) -> tuple[int, int, int] | None:
    """(declared members, central directory offset, its size), or None when no end record is found."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        start = max(0, size - TAIL)
        fh.seek(start)
        tail = fh.read()
        at = tail.rfind(EOCD)
        if at < 0 or len(tail) - at < 22:
            return None
        _, _, _, _, total, cd_size, cd_offset, _ = struct.unpack("<4sHHHHIIH", tail[at:at + 22])
        loc = at - 20
        if loc >= 0 and tail[loc:loc + 4] == ZIP64_LOCATOR:  # zip64: the counts live in the zip64 end record
            (rec_offset,) = struct.unpack("<Q", tail[loc + 8:loc + 16])
            fh.seek(rec_offset)
            rec = fh.read(56)
            if len(rec) == 56 and rec[:4] == ZIP64_EOCD:
                total, cd_size, cd_offset = struct.unpack("<QQQ", rec[32:56])
    return int(total), int(cd_offset), int(cd_size)


def declared_members(path: Path) -> int | None:
    """How many members the archive says it holds (None: no end record; zipfile will report the damage)."""
    try:
        end = _end(path)
    except (OSError, struct.error):
        return None
    return None if end is None else end[0]


def first_names(path: Path, n: int) -> list[str]:
    """The names of the first `n` members of the central directory (empty when it cannot be read)."""
    try:
        end = _end(path)
        if end is None:
            return []
        names = []
        with open(path, "rb") as fh:
            fh.seek(end[1])
            for _ in range(min(n, end[0])):
                head = fh.read(46)
                if len(head) < 46 or head[:4] != CENTRAL:
                    break
                name_len, extra_len, comment_len = struct.unpack("<HHH", head[28:34])
                raw = fh.read(name_len)
                fh.seek(extra_len + comment_len, 1)
                utf8 = struct.unpack("<H", head[8:10])[0] & 0x800
                names.append(raw.decode("utf-8" if utf8 else "cp437", "replace"))
        return names
    except (OSError, struct.error):
        return []
