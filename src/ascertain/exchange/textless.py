"""What may leave the defendant's machine: a check of every value of a keyed index's files.

The index folder is read as an opaque set of files (its layout is the index's own): every Parquet column is
checked by type and, for strings, against the only forms a keyed, text-less index writes (keyed digests,
keyed locators, empty values). Text, metadata, plain locators and any file of another kind are refused, so
a change of the index layout that would carry text fails closed here instead of leaking.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ascertain.errors import AscertainError

# an HMAC-SHA256 (keyed digest), a keyed locator (fingerprint/keyed.py), or empty ("", "{}")
SAFE_STRING = r"^(|\{\}|[0-9a-f]{64}|keyed:[0-9]+:[0-9]+:[0-9a-f]{16})$"
MANIFEST = "manifest.json"
FIX = ("index the corpus keyed and text-less (`ascertain corpus add CASE NAME PATHS --key-file K --no-text`) "
       "and export that source")


def check_index_files(root: Path, files: list[str]) -> None:
    """Refuse unless the manifest is a complete keyed, text-less index's and every other file is Parquet whose
    columns hold only numbers, fixed-width binary (MinHash signatures) and keyed strings, or a lookup table's
    `.npy` column of integers (index/lookup_tables.py)."""
    if MANIFEST not in files:
        raise AscertainError(str(root), "has no manifest.json (not an index folder)", FIX)
    manifest = json.loads((root / MANIFEST).read_bytes())
    check_manifest(manifest, str(root / MANIFEST))
    check_references(root, manifest, set(files), str(root / MANIFEST))
    for rel in files:
        if rel == MANIFEST:
            continue
        if rel.endswith(".npy"):
            check_npy(root / rel, rel)
            continue
        if not rel.endswith(".parquet"):
            raise AscertainError(rel, "is neither Parquet nor the manifest: its content cannot be checked to hold "
                                 "no text, so it is not exported", "report this index layout as a bug of the "
                                 "exchange; nothing was written")
        check_parquet(root / rel, rel)


def check_manifest(manifest: dict, where: str) -> None:
    params = manifest.get("params", {})
    problems = []
    if not params.get("keyed") or not re.fullmatch(r"[0-9a-f]{64}", str(manifest.get("key_check", ""))):
        problems.append("it is not keyed")
    if manifest.get("store_text") is not False:
        problems.append("it stores text")
    if not manifest.get("complete"):
        problems.append("its indexing did not finish")
    if any(set(entry) - {"kind", "pin"} for entry in manifest.get("inputs", [])):
        problems.append("its input list holds plain paths or digests")
    if problems:
        raise AscertainError(where, "is not a complete keyed, text-less index (" + "; ".join(problems) + ")", FIX)


def _plain_name(value: object) -> bool:
    """A file name of the index folder itself: no folder part, not absolute, not '..'."""
    return isinstance(value, str) and value not in ("", ".", "..") and "/" not in value and "\\" not in value \
        and ":" not in value and not value.startswith(".")


def check_references(root: Path, manifest: dict, files: set[str], where: str) -> None:
    """Every file the manifest names is a plain name of a file in the folder (never a path to another case's
    index, absolute or with '..'), and its counts are those of its files: documents and fingerprints per
    shard are the row counts of the shard's Parquet files, and the totals are their sums."""
    def refuse(problem: str) -> None:
        raise AscertainError(where, problem + "; nothing was read from it",
                             "ask the sender for the package again, as `ascertain corpus export` wrote it")

    shards = manifest.get("shards")
    if not isinstance(shards, list):
        refuse("has no shard list")
    # index format 3: the shards' fingerprint files are dropped once the lookup tables hold their rows
    shard_fp = (manifest.get("lookup") or {}).get("format", 2) < 3
    totals = {"documents": 0, "fingerprints": 0}
    for n, shard in enumerate(shards):
        if not isinstance(shard, dict):
            refuse(f"shard {n} is not an object")
        for field in ("documents_file", "minhash_file") + (("fingerprints_file",) if shard_fp else ()):
            name = shard.get(field)
            if not _plain_name(name) or name not in files:
                refuse(f"shard {n} names {field} {name!r}, which is not a file of the package's index")
        if not shard_fp and "fingerprints_file" in shard:
            refuse(f"shard {n} names a fingerprints file, which a format-3 index does not keep")
        for name in shard.get("sha256") or {}:
            if not _plain_name(name) or name not in files:
                refuse(f"shard {n} lists {name!r}, which is not a file of the package's index")
        for field, file_field in (("documents", "documents_file"), ("fingerprints", "fingerprints_file")):
            if file_field not in shard:  # format 3: the fingerprint count is the lookup tables' to check
                if not isinstance(shard.get(field), int) or shard[field] < 0:
                    refuse(f"shard {n} says {shard.get(field)!r} {field}")
                totals[field] += shard[field]
                continue
            rows = pq.ParquetFile(root / shard[file_field]).metadata.num_rows
            if shard.get(field) != rows:
                refuse(f"shard {n} says {shard.get(field)!r} {field}, its file holds {rows:,}")
            totals[field] += rows
    for field, total in totals.items():
        if manifest.get(field) != total:
            refuse(f"it says {manifest.get(field)!r} {field}, its shards hold {total:,}")
    lookup = manifest.get("lookup") or {}
    names = list((lookup.get("sha256") or {}).keys())
    for kind, bases in (lookup.get("files") or {}).items():
        for base in bases if isinstance(bases, list) else [bases]:
            if not _plain_name(base) or not any(x.startswith(f"{base}.") for x in names):
                refuse(f"its {kind} lookup table {base!r} is not a file of the package's index")
    for name in names:
        if not _plain_name(name) or name not in files:
            refuse(f"it lists lookup column {name!r}, which is not a file of the package's index")


def check_npy(path: Path, rel: str) -> None:
    """A lookup column: a 1-D array of integers (hashes, doc ids, positions, counts) cannot hold text."""
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise AscertainError(rel, f"is not a readable .npy array ({e})", FIX) from e
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise AscertainError(rel, f"holds {a.dtype} values in {a.ndim} dimension(s), which could carry text", FIX)


def check_parquet(path: Path, rel: str) -> None:
    try:
        f = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as e:
        raise AscertainError(rel, f"is not a readable Parquet file ({e})", FIX) from e
    for field in f.schema_arrow:
        _check_type(field.type, f"{rel}, column {field.name}")
    for batch in f.iter_batches(batch_size=1 << 16):
        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            _check_values(col, f"{rel}, column {name}")


def _check_type(t: pa.DataType, where: str) -> None:
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _check_type(t.value_type, where)
    if pa.types.is_struct(t):
        for i in range(t.num_fields):
            _check_type(t.field(i).type, f"{where}.{t.field(i).name}")
        return None
    if pa.types.is_dictionary(t):
        return _check_type(t.value_type, where)
    if (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_null(t)
            or pa.types.is_fixed_size_binary(t) or pa.types.is_string(t) or pa.types.is_large_string(t)):
        return None
    raise AscertainError(where, f"has type {t}, which could hold text", "report this index layout as a bug of the "
                         "exchange; nothing was written")


def _check_values(col: pa.Array, where: str) -> None:
    t = col.type
    if pa.types.is_dictionary(t):
        return _check_values(col.dictionary, where)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _check_values(col.flatten(), where)
    if pa.types.is_struct(t):
        for i in range(t.num_fields):
            _check_values(col.field(i), f"{where}.{t.field(i).name}")
        return None
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return None
    ok = pc.match_substring_regex(col, SAFE_STRING)
    bad = pc.invert(pc.fill_null(ok, True))
    if pc.any(bad).as_py():
        n = pc.sum(bad.cast(pa.int64())).as_py()
        raise AscertainError(where, f"holds {n:,} value(s) that are not keyed digests or keyed locators (text, "
                             "metadata or plain locators)", FIX)
    return None
