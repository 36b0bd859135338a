"""The defendant's export of a keyed source, and the master's import of it (docs/methods.md, "Keyed exchange").

A package is one uncompressed tar (no decompression bomb can hide in it) with, in this order:
  package.json   what it is: source, counts, parameters, key check, and each file's size and SHA-256
  index/...      the source's index folder, file for file (manifest.json and Parquet only, checked by
                 textless.py before anything is written)
Members carry no owner, time or mode of the defendant's machine, so the same index gives the same bytes; the
package's own SHA-256 is written beside it (OUT.sha256, `sha256sum -c` format) for the receipt to be checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from sqlalchemy import insert, select

from ascertain import __version__
from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.exchange.files import dump, load_json, refuse_existing, write_new
from ascertain.exchange.textless import MANIFEST, check_index_files
from ascertain.fingerprint.keyed import key_check
from ascertain.fingerprint.winnow import load_key
from ascertain.index.lookup import source_index
from ascertain.report.manifest import sha256_file
from ascertain.sources import NAME_RE
from ascertain.store import schema
from ascertain.store.db import now

FORMAT = "ascertain keyed corpus package"
VERSION = 1
HEADER = "package.json"
MAX_HEADER_BYTES = 16 << 20
MAX_MEMBERS = 1_000_000
DEFAULT_MAX_FILE_BYTES = 16 << 30  # an index file of a 64 MB shard is a fraction of that
RECEIPT_FIX = "ask the sender for the package again, and compare its SHA-256 with the one they sent apart from it"


def source_row(case: Case, name: str) -> dict:
    with case.store.engine.connect() as c:
        row = c.execute(select(schema.sources).where(schema.sources.c.name == name)).mappings().first()
    if row is None:
        source_index(case, name)  # raises the lookup's message, which lists the case's sources
        raise AssertionError(name)
    return dict(row)


def keyed_source(case: Case, name: str, key: bytes, key_file: str) -> tuple[dict, Path, dict]:
    """The source row, index folder and manifest of `name`, refused unless it is keyed with `key` (read from
    `key_file`, which the message names with the source)."""
    row = source_row(case, name)
    index_dir, manifest = source_index(case, name)
    if not row["keyed"] or manifest.get("key_check") != key_check(key):
        raise AscertainError(f"{name} / {key_file}", "is not a keyed source built with this key",
                             "pass the source imported from the defendant's package and the case key")
    return row, index_dir, manifest


def index_files(index_dir: Path) -> list[str]:
    """Every file of the index folder (relative POSIX paths, sorted). Scratch and derived data are not part
    of the index and are not exported: `*.tmp` files, hidden files or folders (spills of an interrupted
    build) and `cache/` (what a match run caches beside the index, e.g. CMI scans)."""
    out = []
    for p in sorted(index_dir.rglob("*")):
        rel = p.relative_to(index_dir)
        if any(part.startswith(".") for part in rel.parts) or p.name.endswith(".tmp") or rel.parts[0] == "cache":
            continue
        if p.is_symlink() or not (p.is_file() or p.is_dir()):
            raise AscertainError(str(p), "is a link or special file inside the index folder", "remove it and "
                                 "export again")
        if p.is_file():
            out.append(rel.as_posix())
    return out


def export_source(case: Case, name: str, out: Path) -> dict:
    """Write the package of keyed source `name` to `out` (a new file) and `out`.sha256 beside it."""
    out = Path(out)
    refuse_existing(out, "package")
    refuse_existing(out.with_name(out.name + ".sha256"), "package digest")
    row = source_row(case, name)
    index_dir, manifest = source_index(case, name)
    if row["kind"] != "corpus":
        raise AscertainError(name, f"is a {row['kind']} source; only a training corpus is exchanged",
                             "export the corpus source (see `ascertain sources list CASE`)")
    files = index_files(index_dir)
    check_index_files(index_dir, files)  # before a byte is written
    listed = [{"path": f"index/{rel}", "bytes": (index_dir / rel).stat().st_size,
               "sha256": sha256_file(index_dir / rel)} for rel in files]
    header = {"format": FORMAT, "version": VERSION, "ascertain": __version__, "source": name, "kind": row["kind"],
              "key_check": manifest["key_check"], "params": manifest["params"],
              "acquired": row["params"].get("acquired"),
              "counts": {k: manifest.get(k) for k in ("documents", "skipped", "fingerprints", "tokens")},
              "index_manifest_sha256": sha256_file(index_dir / MANIFEST), "files": listed}
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, HEADER, dump(header))
            for entry, rel in zip(listed, files, strict=True):
                info = _member(entry["path"], entry["bytes"])
                with open(index_dir / rel, "rb") as fh:
                    tar.addfile(info, fh)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    digest = sha256_file(out)
    write_new(out.with_name(out.name + ".sha256"), f"{digest}  {out.name}\n".encode())
    summary = {"source": name, "package": str(out), "sha256": digest, "bytes": out.stat().st_size,
               "files": len(listed), "key_check": manifest["key_check"], **header["counts"]}
    case.store.audit("corpus export", summary)
    return summary


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.type = size, 0o644, 0, tarfile.REGTYPE
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_member(name, len(data)), io.BytesIO(data))


def import_package(case: Case, package: Path, key_file: str, name: str | None = None,
                   expected_sha256: str | None = None, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> dict:
    """Validate a package and add it to the case as a keyed source; nothing is added unless every check passes."""
    package = Path(package)
    key = load_key(key_file)
    if not package.is_file():
        raise AscertainError(str(package), "is not a file", "pass the package file `ascertain corpus export` wrote")
    digest = sha256_file(package)
    expected, receipt = _expected_digest(package, expected_sha256)
    if expected is not None and expected != digest:
        raise AscertainError(str(package), f"its SHA-256 is {digest}, not the {expected} {receipt} (damaged or "
                             "altered in transit); nothing was imported", RECEIPT_FIX)
    staging = case.index_dir / f".import-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        header = _extract(package, staging, max_file_bytes)
        target = name or header["source"]
        if not isinstance(target, str) or not NAME_RE.match(target):
            raise AscertainError(str(target), "is not a usable source name", "pass --name with letters, digits, "
                                 "'.', '_' or '-'")
        index_dir = staging / "index"
        manifest = load_json(index_dir / MANIFEST, "index manifest", RECEIPT_FIX)
        mine = key_check(key)
        if header.get("key_check") != mine or manifest.get("key_check") != mine:
            raise AscertainError(f"{package} / {key_file}", "the package was made with another key than this one "
                                 "(its key check differs); nothing was imported",
                                 "compare `ascertain key check KEYFILE` on both sides: the defendant must index "
                                 "with the key the master gave it, or the master pass that key with --key-file")
        check_index_files(index_dir, sorted(p.relative_to(index_dir).as_posix()
                                            for p in index_dir.rglob("*") if p.is_file()))
        counts = {k: manifest.get(k) for k in ("documents", "skipped", "fingerprints", "tokens")}
        if header.get("counts") != counts:
            raise AscertainError(f"{package}: {HEADER}", f"its counts {header.get('counts')} are not the index's "
                                 f"{counts}; nothing was imported", RECEIPT_FIX)
        summary = _add_imported(case, target, header, manifest, index_dir, digest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary["receipt"] = receipt if expected is not None else "not checked (no digest given or beside the package)"
    case.store.audit("corpus import", summary)
    return summary


def _expected_digest(package: Path, given: str | None) -> tuple[str | None, str]:
    if given:
        return given.strip().lower(), "given with --sha256"
    beside = package.with_name(package.name + ".sha256")
    if beside.is_file():
        words = beside.read_text(errors="replace").split()
        return (words[0].lower() if words else ""), f"written in {beside.name}"
    return None, ""


def _extract(package: Path, staging: Path, max_file_bytes: int) -> dict:
    """Every member checked before it is written: a regular file, a plain relative name under index/, listed
    in package.json with its size, no larger than max_file_bytes, and its SHA-256 as listed."""
    bad = f"{package}: refused as a package"
    try:
        tar = tarfile.open(package, "r:")  # noqa: SIM115 (closed below)  uncompressed only: a compressed member cannot be a bomb
    except tarfile.TarError as e:
        raise AscertainError(str(package), f"is not an uncompressed tar package ({e})",
                             "pass the file `ascertain corpus export` wrote, as it was sent") from e
    staging.mkdir(parents=True)
    try:
        return _extract_members(tar, package, staging, max_file_bytes, bad)
    except (tarfile.TarError, EOFError) as e:  # cut short in transit, with no .sha256 beside it to say so
        raise AscertainError(str(package), f"is truncated or damaged ({e}); nothing was imported",
                             RECEIPT_FIX + " (and its .sha256 with it)") from e


def _extract_members(tar: tarfile.TarFile, package: Path, staging: Path, max_file_bytes: int, bad: str) -> dict:
    with tar:
        first = tar.next()
        if first is None or first.name != HEADER or not first.isreg() or first.size > MAX_HEADER_BYTES:
            raise AscertainError(bad, f"its first member is not {HEADER}", RECEIPT_FIX)
        header = _read_header(tar, first, package)
        listed = {f["path"]: f for f in header["files"]}
        seen: set[str] = set()
        for n, member in enumerate(iter(tar.next, None)):
            if n >= MAX_MEMBERS:
                raise AscertainError(bad, f"it has more than {MAX_MEMBERS:,} members", RECEIPT_FIX)
            _check_member(member, listed, seen, max_file_bytes, bad, staging)
            _write_member(tar, member, staging / member.name, listed[member.name]["sha256"], bad)
            seen.add(member.name)
    missing = sorted(set(listed) - seen)
    if missing:
        raise AscertainError(bad, f"{len(missing)} listed file(s) are missing (first: {missing[0]})", RECEIPT_FIX)
    return header


def _read_header(tar: tarfile.TarFile, member: tarfile.TarInfo, package: Path) -> dict:
    fh = tar.extractfile(member)
    try:
        header = json.loads(fh.read() if fh else b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AscertainError(f"{package}: {HEADER}", f"is not valid JSON ({e})", RECEIPT_FIX) from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise AscertainError(str(package), "is not an ascertain keyed corpus package", "pass the file "
                             "`ascertain corpus export` wrote")
    if header.get("version") != VERSION:
        raise AscertainError(str(package), f"is package version {header.get('version')}, this ascertain reads "
                             f"version {VERSION}", "import it with the ascertain version that wrote it")
    files = header.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str)
                                              and isinstance(f.get("bytes"), int)
                                              and isinstance(f.get("sha256"), str) for f in files):
        raise AscertainError(f"{package}: {HEADER}", "has no valid file list", RECEIPT_FIX)
    return header


def _check_member(member: tarfile.TarInfo, listed: dict, seen: set[str], max_file_bytes: int, bad: str,
                  staging: Path) -> None:
    name = member.name
    path = PurePosixPath(name)
    if not member.isreg():
        kind = "a symbolic link" if member.issym() else "a hard link" if member.islnk() else \
            "a folder" if member.isdir() else "a device or FIFO" if member.isdev() or member.isfifo() else "not a file"
        raise AscertainError(f"{bad}, member {name!r}", f"is {kind}; a package holds regular files only",
                             RECEIPT_FIX)
    if path.is_absolute() or ".." in path.parts or "\\" in name or path.parts[:1] != ("index",) or len(path.parts) < 2:
        raise AscertainError(f"{bad}, member {name!r}", "has a name outside the package's index/ folder (absolute, "
                             "'..' or another folder): it could write outside the case", RECEIPT_FIX)
    try:  # and the standard library's own rules for untrusted archives, on top of these
        tarfile.data_filter(member, str(staging))
    except tarfile.FilterError as e:
        raise AscertainError(f"{bad}, member {name!r}", f"is refused by the tar data filter ({e})", RECEIPT_FIX) from e
    if name in seen:
        raise AscertainError(f"{bad}, member {name!r}", "appears twice", RECEIPT_FIX)
    if name not in listed:
        raise AscertainError(f"{bad}, member {name!r}", f"is not listed in {HEADER}", RECEIPT_FIX)
    if member.size > max_file_bytes:
        raise AscertainError(f"{bad}, member {name!r}", f"is {member.size:,} bytes, more than the "
                             f"{max_file_bytes:,} allowed", "if the file is genuine, pass a larger --max-file-bytes")
    if member.size != listed[name]["bytes"]:
        raise AscertainError(f"{bad}, member {name!r}", f"is {member.size:,} bytes where {HEADER} lists "
                             f"{listed[name]['bytes']:,}", RECEIPT_FIX)
    free = shutil.disk_usage(staging).free
    if member.size > free:
        raise AscertainError(f"{bad}, member {name!r}", f"needs {member.size:,} bytes, {free:,} are free",
                             "free disk space in the case folder and import again")


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, sha256: str, bad: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = tar.extractfile(member)
    h = hashlib.sha256()
    with open(dest, "xb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
            out.write(chunk)
    if h.hexdigest() != sha256:
        raise AscertainError(f"{bad}, member {member.name!r}", f"its SHA-256 is not the one {HEADER} lists "
                             "(damaged or altered)", RECEIPT_FIX)


def _add_imported(case: Case, name: str, header: dict, manifest: dict, staged: Path, digest: str) -> dict:
    """Move the checked index into the case and record it as a complete keyed corpus source."""
    target = case.source_dir(name)
    with case.store.engine.connect() as c:
        exists = c.execute(select(schema.sources.c.id).where(schema.sources.c.name == name)).first()
    if exists or target.exists():
        raise AscertainError(name, "is already a source of this case", "pass --name with another name, or "
                             f"remove the old one (`ascertain sources remove {case.root} {name}`)")
    os.replace(staged, target)
    params = {**manifest["params"], "acquired": header.get("acquired"), "meta_fields": [],
              "imported": {"package_sha256": digest, "source": header["source"]}}
    counts = {k: manifest.get(k) for k in ("documents", "skipped", "fingerprints", "tokens")}
    with case.store.engine.begin() as c:
        c.execute(insert(schema.sources).values(
            name=name, kind="corpus", inputs=manifest["inputs"], params=params, keyed=True, status="complete",
            documents=int(counts["documents"] or 0), skipped=int(counts["skipped"] or 0),
            index_dir=str(target.relative_to(case.root)), added_at=now()))
    return {"source": name, "from_source": header["source"], "package_sha256": digest, **counts,
            "key_check": manifest["key_check"], "index_manifest_sha256": header.get("index_manifest_sha256")}
