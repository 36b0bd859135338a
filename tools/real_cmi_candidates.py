"""List the real files of this machine that a labelled CMI set (cmi/real_set.py) is drawn from.

Writes JSON lines {sha256, project, source, suffix, path, excerpt} to stdout: files that carry a copyright
mark, from Python packages, the Google Cloud SDK's vendored projects, Debian copyright files, C headers,
npm packages, HTML pages and minified scripts; deduplicated by content, a few files per project, projects
named by their Debian source package where dpkg knows the file. Used once to build the set; the labels
are then written by hand.

    python3 tools/real_cmi_candidates.py > /tmp/candidates.jsonl
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from ascertain.cmi.real_set import _MARK, excerpt

SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
STDLIB = SITE.parent
GCLOUD = Path("/usr/lib/google-cloud-sdk/lib/third_party")
NPM = Path("/usr/lib/node_modules/npm/node_modules")
SOURCES = {".py", ".c", ".h", ".cc", ".cpp", ".hpp", ".js", ".mjs", ".ts", ".pyx", ".pxd", ".pyi", ".sh", ".css"}
MAX_MARK_LINES = 25
MAX_BYTES = 2_000_000


def dpkg_owner() -> dict[str, str]:
    """path -> Debian source package (binary package name where no Source field is recorded)."""
    source: dict[str, str] = {}
    status = Path("/var/lib/dpkg/status").read_text(errors="replace")
    for block in status.split("\n\n"):
        pkg = re.search(r"^Package: (\S+)", block, re.M)
        src = re.search(r"^Source: (\S+)", block, re.M)
        if pkg:
            source[pkg.group(1)] = src.group(1) if src else pkg.group(1)
    owner: dict[str, str] = {}
    for lst in Path("/var/lib/dpkg/info").glob("*.list"):
        pkg = lst.stem.split(":")[0]
        for line in lst.read_text(errors="replace").splitlines():
            owner[line] = source.get(pkg, pkg)
    return owner


def walk() -> list[tuple[str, str, Path]]:
    """(source kind, project, path) of every candidate file."""
    out: list[tuple[str, str, Path]] = []
    owner = dpkg_owner()
    for p in SITE.iterdir():
        name = re.split(r"[-.]", p.name)[0].lower().replace("_", "-")
        if p.name.endswith(".dist-info"):
            for f in p.iterdir():
                if f.name.upper().startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")) or (
                        f.is_dir() and f.name in ("licenses", "LICENSES")):
                    for g in ([f] if f.is_file() else f.rglob("*")):
                        out.append(("license-file", name, g))
        elif p.is_dir():
            for f in p.rglob("*"):
                if f.suffix in SOURCES or f.name.upper().startswith(("LICENSE", "COPYING", "NOTICE")):
                    kind = "minified-js" if f.name.endswith(".min.js") else (
                        "html" if f.suffix in (".html", ".htm") else "package-source")
                    out.append((kind, name, f))
                elif f.suffix in (".html", ".htm"):
                    out.append(("html", name, f))
    for f in STDLIB.glob("*.py"):
        out.append(("package-source", "cpython", f))
    for p in GCLOUD.iterdir() if GCLOUD.is_dir() else []:
        for f in p.rglob("*"):
            if f.suffix in SOURCES or f.name.upper().startswith(("LICENSE", "COPYING")):
                out.append(("package-source", p.name.lower().replace("_", "-"), f))
    for p in NPM.iterdir() if NPM.is_dir() else []:
        for q in ([p] if not p.name.startswith("@") else list(p.iterdir())):
            for f in q.rglob("*"):
                if f.suffix in (".js", ".md") or f.name.upper().startswith(("LICENSE", "LICENCE")):
                    out.append(("npm", q.name.lower(), f))
    for f in Path("/usr/share/doc").glob("*/copyright"):
        out.append(("debian-copyright", owner.get(str(f), f.parent.name), f))
    for f in Path("/usr/include").rglob("*.h"):
        out.append(("c-header", owner.get(str(f), "include:" + f.relative_to("/usr/include").parts[0]), f))
    for f in list(Path("/usr/share/doc").rglob("*.htm*")) + list(Path("/usr/share/javascript").rglob("*.js")):
        kind = "minified-js" if f.suffix == ".js" else "html"
        out.append((kind, owner.get(str(f), f.parts[4]), f))
    rust = Path.home() / ".rustup/toolchains"
    for f in sorted(rust.glob("stable-*/share/doc/rust/html/*/index.html")) + sorted(
            rust.glob("stable-*/share/doc/rust/html/rust-by-example/*/index.html")):
        out.append(("html", "rust-docs:" + f.parent.name, f))
    for f in sorted(rust.glob("stable-*/share/doc/rust/html/**/*.min.js")):
        out.append(("minified-js", "rust-docs-js", f))
    return out


def main() -> None:
    hard = {c["sha256"] for c in json.loads(Path("src/ascertain/cmi/hard_labels.json").read_text())}
    seen: set[str] = set()
    per: dict[tuple[str, str], int] = {}
    caps = {"license-file": 1, "package-source": 2, "npm": 2, "debian-copyright": 1, "c-header": 2, "html": 2,
            "minified-js": 2}
    items = walk()
    items.sort(key=lambda t: hashlib.sha256(str(t[2]).encode()).hexdigest())
    for kind, project, path in items:
        try:
            if not path.is_file() or path.is_symlink() or not 0 < path.stat().st_size <= MAX_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen or digest in hard or per.get((kind, project), 0) >= caps[kind]:
            continue
        text = data.decode("utf-8", errors="replace")
        n_marks = sum(1 for line in text.split("\n") if _MARK.search(line))
        if not n_marks or n_marks > MAX_MARK_LINES:
            continue
        seen.add(digest)
        per[(kind, project)] = per.get((kind, project), 0) + 1
        suffix = path.suffix if path.suffix in SOURCES | {".html", ".htm", ".md"} else ".txt"
        print(json.dumps({"sha256": digest, "project": project, "source": kind, "suffix": suffix,
                          "path": str(path), "excerpt": excerpt(text)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
