"""A reproducible sample of real files from the installed packages, for validating the CMI detectors.

The installed distributions (site-packages and the standard library) are real code from thousands of
authors, with their license headers and the LICENSE/METADATA files their packages ship. The sample is
ordered by a hash of each file's path, capped per package so no single project dominates, and copied into
one folder so every tool scans the same bytes.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import sysconfig
from pathlib import Path

SOURCE_SUFFIXES = {".py", ".pyx", ".pyi", ".c", ".h", ".cc", ".cpp", ".hpp", ".js", ".mjs", ".ts", ".java",
                   ".go", ".rs", ".rb", ".sh"}
METADATA_NAMES = {"pyproject.toml", "setup.cfg", "setup.py", "package.json", "Cargo.toml", "pom.xml",
                  "composer.json", "PKG-INFO"}
LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "METADATA")
MAX_BYTES = 200_000


def _roots() -> list[Path]:
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], sysconfig.get_paths()["stdlib"]}
    return sorted(Path(p) for p in paths if Path(p).is_dir())


def _package_of(rel: Path) -> str:
    top = rel.parts[0] if rel.parts else ""
    return top.split("-")[0].split(".")[0].lower()


def _wanted(path: Path) -> bool:
    return (path.suffix in SOURCE_SUFFIXES or path.name in METADATA_NAMES
            or path.name.upper().startswith(LICENSE_NAMES))


def candidate_files(roots: list[Path] | None = None) -> list[tuple[str, Path]]:
    """(package, path) of every source, license or metadata file under the roots, in a stable order."""
    found: dict[str, tuple[str, Path]] = {}
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for root in roots or _roots():
        for path in root.rglob("*"):
            rel = path.relative_to(root)
            if root == stdlib and rel.parts and rel.parts[0] in {"site-packages", "dist-packages"}:
                continue  # the packages are their own root
            if "__pycache__" in rel.parts or "test" in rel.parts or not _wanted(path):
                continue
            try:
                if not path.is_file() or path.is_symlink() or not 0 < path.stat().st_size <= MAX_BYTES:
                    continue
            except OSError:
                continue
            key = hashlib.sha256(str(rel).encode()).hexdigest()
            found[key] = ("stdlib" if root == stdlib else _package_of(rel), path)
    return [found[k] for k in sorted(found)]


def build_sample(dest: Path, n: int, per_package: int | None = None, roots: list[Path] | None = None,
                 ) -> list[Path]:
    """Copy n files into dest (as package/relative/path) and return their paths relative to dest."""
    per_package = per_package or max(5, n // 40)
    taken: dict[str, int] = {}
    chosen: list[tuple[Path, Path]] = []
    for package, path in candidate_files(roots):
        if taken.get(package, 0) >= per_package:
            continue
        taken[package] = taken.get(package, 0) + 1
        chosen.append((path, Path(package) / hashlib.sha256(str(path).encode()).hexdigest()[:8] / path.name))
        if len(chosen) >= n:
            break
    if dest.exists():
        shutil.rmtree(dest)
    for src, rel in chosen:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest / rel)
    return [rel for _, rel in chosen]


if __name__ == "__main__":
    files = build_sample(Path(sys.argv[1]), int(sys.argv[2]))
    print(len(files), "files")
