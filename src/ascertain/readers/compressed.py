"""gzip and zstd streams decompressed incrementally, so that a cut or damaged file still gives its intact
prefix and says where it ended (JSONL records and tar archives both read through it)."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

CHUNK = 1 << 16  # bytes read from a compressed file at a time ...
PIECE = {"gz": 1 << 14, "zst": 1 << 10}  # ... and fed to the decompressor at a time: <= 32 MB out per step


class Decompressed(io.RawIOBase):
    """The decompressed bytes of a .gz or .zst file, produced incrementally, so that a cut or damaged stream
    still yields everything before the damage. `damage` then says where the output ended (else None).

    Input is fed PIECE bytes at a time, which bounds the output of one step (deflate expands a byte at most
    ~1,000 times, zstd ~32,000 times). Concatenated gzip members and zstd frames are read one after the other;
    zero padding after the last gzip member is ignored (as gzip does)."""

    def __init__(self, path: Path, kind: str) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._kind = kind
        self._out, self._pos = b"", 0  # decompressed bytes not yet handed out
        self._in: memoryview = memoryview(b"")  # compressed bytes read from the file, not yet fed
        self._in_start = 0
        self._eof = False
        self._in_frame = False
        self.compressed = 0  # bytes of the file read
        self.decompressed = 0  # bytes produced
        self.damage: str | None = None
        self._new_decompressor()

    def _new_decompressor(self) -> None:
        if self._kind == "gz":
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            import zstandard

            self._d = zstandard.ZstdDecompressor().decompressobj()

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        while self._pos >= len(self._out) and not self._eof:
            self._step()
        n = min(len(b), len(self._out) - self._pos)
        b[:n] = self._out[self._pos:self._pos + n]
        self._pos += n
        return n

    def _step(self) -> None:
        import zstandard

        if not self._in:
            chunk = self._fh.read(CHUNK)
            if not chunk:
                if self._in_frame:
                    what = "gzip member" if self._kind == "gz" else "zstd frame"
                    self.damage = (f"the file is truncated: it ends inside a {what} at byte {self.compressed:,} "
                                   f"(after {self.decompressed:,} decompressed bytes)")
                self._eof = True
                return
            self._in, self._in_start = memoryview(chunk), self.compressed
            self.compressed += len(chunk)
        size = PIECE[self._kind]
        piece: bytes | memoryview = self._in[:size]
        self._in = self._in[size:]
        produced = []
        while piece:
            if not self._in_frame and self._kind == "gz" and not bytes(piece).strip(b"\0"):
                break  # zero padding after a gzip member
            try:
                produced.append(self._d.decompress(piece))
            except (zlib.error, zstandard.ZstdError) as e:
                self.damage = (f"the compressed data is damaged within bytes {self._in_start:,}-"
                               f"{self.compressed:,} ({e}; after {self.decompressed:,} decompressed bytes)")
                self._eof = True
                break
            self._in_frame = True
            if not self._d.eof:
                break
            piece = self._d.unused_data  # the next gzip member / zstd frame starts in this piece
            self._in_frame = False
            self._new_decompressor()
        self._out, self._pos = b"".join(produced), 0
        self.decompressed += len(self._out)

    def close(self) -> None:
        self._fh.close()
        super().close()
