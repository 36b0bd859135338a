"""Metadata-only image datasets: Parquet files with one row per image (URL, caption, size, and where the dataset has
them the image's SHA-256 or a 64-bit perceptual hash), read in bounded batches. The images are never fetched.

Known layouts (column names as the datasets publish them, matched without regard to case):
  laion     LAION-400M/-5B and re-LAION: URL, TEXT (caption), WIDTH, HEIGHT (+ similarity, punsafe, ...)
  datacomp  DataComp CommonPool: uid, url, text, original_width, original_height, sha256 (of the image bytes)
  coyo      COYO-700M: id, url, text, width, height, image_phash (64-bit pHash, 16 hex digits)
  img2dataset  an img2dataset shard's Parquet: key, url, caption, width, height, sha256 (when hashes were kept)
Any other layout works with an explicit mapping (`url=COL,caption=COL,sha256=COL,phash=COL,...`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.errors import AscertainError

ROLES = ("url", "caption", "width", "height", "sha256", "phash", "key")
# role -> accepted column names, most specific first (lower case)
CANDIDATES: dict[str, tuple[str, ...]] = {
    "url": ("url", "image_url", "img_url", "src"),
    "caption": ("caption", "text", "alt", "alt_text", "title"),
    "width": ("width", "original_width", "w"),
    "height": ("height", "original_height", "h"),
    "sha256": ("sha256", "image_sha256", "sha256_hash"),
    "phash": ("image_phash", "phash"),
    "key": ("key", "uid", "id", "sample_id"),
}
LAYOUTS = {  # name -> columns that identify it (lower case)
    "datacomp": {"uid", "url", "text", "sha256"},
    "coyo": {"url", "text", "image_phash"},
    "img2dataset": {"key", "url", "caption"},
    "laion": {"url", "text"},
}
BATCH_ROWS = 65_536  # rows per batch: a few tens of MB of captions and URLs at most


@dataclass(frozen=True)
class Layout:
    name: str  # a known layout, or "mapped" for an explicit mapping
    columns: dict[str, str]  # role -> column name in the file

    def as_dict(self) -> dict:
        return {"name": self.name, "columns": dict(sorted(self.columns.items()))}


def parse_mapping(text: str | None) -> dict[str, str]:
    """`url=URL,caption=TEXT` -> {"url": "URL", "caption": "TEXT"}; roles checked."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        role, sep, col = part.partition("=")
        role, col = role.strip().lower(), col.strip()
        if not sep or not col or role not in ROLES:
            raise AscertainError("--columns", f"{part.strip()!r} is not ROLE=COLUMN with a role of "
                                 f"{', '.join(ROLES)}", "write e.g. --columns url=URL,caption=TEXT,sha256=hash")
        out[role] = col
    return out


def detect_layout(names: list[str], mapping: dict[str, str] | None, where: str) -> Layout:
    """The columns of each role in a file with these column names; an explicit mapping wins per role."""
    lower = {n.lower(): n for n in names}
    mapping = mapping or {}
    missing = [c for c in mapping.values() if c not in names]
    if missing:
        raise AscertainError(where, f"has no column {', '.join(map(repr, missing))} (its columns: "
                             f"{', '.join(names[:30])})", "name existing columns in --columns ROLE=COLUMN")
    cols = {}  # the first candidate present wins per role
    for role, cands in CANDIDATES.items():
        hit = next((lower[c] for c in cands if c in lower), None)
        if hit:
            cols[role] = hit
    cols.update(mapping)
    if "url" not in cols and "caption" not in cols and "sha256" not in cols and "phash" not in cols:
        raise AscertainError(where, "is not a known image-metadata layout: no URL, caption, sha256 or phash "
                             f"column (its columns: {', '.join(names[:30])})",
                             "map its columns with --columns url=COL,caption=COL (and sha256=COL or phash=COL)")
    name = "mapped" if mapping else next((k for k, need in LAYOUTS.items() if need <= set(lower)), "generic")
    return Layout(name, cols)


def parquet_files(paths: list[str]) -> list[Path]:
    """The Parquet files named, folders expanded (sorted, so the row locators are stable)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() == ".parquet")
            if not found:
                raise AscertainError(str(p), "holds no .parquet file", "name the folder of the dataset's Parquet "
                                     "shards, or the files themselves")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise AscertainError(str(p), "does not exist", "check the path")
    return out


def open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise AscertainError(str(path), f"is not a readable Parquet file ({str(e).splitlines()[0][:200]})",
                             "give the dataset's .parquet shards (re-download a truncated one, or remove it "
                             "from the inputs)") from None


def file_layout(path: Path, mapping: dict[str, str] | None) -> tuple[Layout, int]:
    pf = open_parquet(path)
    return detect_layout(pf.schema_arrow.names, mapping, str(path)), pf.metadata.num_rows


@dataclass
class MetaBatch:
    file: str  # as the user named it
    first_row: int  # row number (0-based, in the file) of the batch's first row
    columns: dict[str, pa.Array]  # role -> column (only the roles the layout has)

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def iter_batches(path: Path, layout: Layout, roles: tuple[str, ...] = ROLES,
                 batch_rows: int = BATCH_ROWS) -> Iterator[MetaBatch]:
    """The file's rows in batches, reading only the columns of the wanted roles (bounded memory whatever the
    file's size; row groups are streamed)."""
    pf = open_parquet(path)
    want = {r: c for r, c in layout.columns.items() if r in roles}
    if not want:
        return
    row = 0
    try:
        for rb in pf.iter_batches(batch_size=batch_rows, columns=sorted(set(want.values()))):
            cols = {r: _as_string(rb.column(c), r) if r in ("url", "caption", "sha256", "phash", "key")
                    else rb.column(c) for r, c in want.items()}
            yield MetaBatch(str(path), row, cols)
            row += rb.num_rows
    except (pa.ArrowException, OSError) as e:
        raise AscertainError(f"{path} (after row {row:,})", f"could not be read ({str(e).splitlines()[0][:200]})",
                             "the file is damaged: re-download it, or remove it from the inputs") from None


def _as_string(col: pa.Array, role: str) -> pa.Array:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col
    if role == "phash" and pa.types.is_integer(col.type):  # a 64-bit hash kept as an integer: its 16 hex digits
        return pa.array([f"{v & (2**64 - 1):016x}" if v is not None else None for v in col.to_pylist()], pa.string())
    if pa.types.is_binary(col.type) or pa.types.is_fixed_size_binary(col.type):
        if role in ("sha256", "phash"):  # raw digest bytes: as lower-case hex
            return pa.array([v.hex() if v is not None else None for v in col.to_pylist()], pa.string())
        return col.cast(pa.string())
    return col.cast(pa.string())
