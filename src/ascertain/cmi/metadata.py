"""License and author fields of package metadata: pyproject.toml, setup.cfg, package.json, Cargo.toml,
pom.xml, *.gemspec, composer.json, PKG-INFO/METADATA.

Each file is parsed with its own format's parser (tomllib, configparser, json, ElementTree); a file that does
not parse yields a note, not an error, and the text rules still run on it.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import PurePosixPath

from ascertain.cmi.authors import Author
from ascertain.cmi.license_notices import LicenseHit
from ascertain.cmi.spdx_ids import name_to_spdx

METADATA_FILES = {"pyproject.toml", "setup.cfg", "package.json", "cargo.toml", "pom.xml", "composer.json",
                  "pkg-info", "metadata"}


def is_metadata(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return name in METADATA_FILES or name.endswith(".gemspec")


def _line(text: str, needle: str) -> int:
    i = text.find(needle) if needle else -1
    return text.count("\n", 0, i) + 1 if i >= 0 else 1


def _people(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name") or value.get("email") or ""
        return [f"{name} <{value['email']}>" if value.get("name") and value.get("email") else name] if name else []
    if isinstance(value, list):
        return [p for v in value for p in _people(v)]
    return []


def parse(path: str, text: str) -> tuple[list[LicenseHit], list[Author], list[str]]:
    """(licenses, authors, notes) declared by a metadata file."""
    name = PurePosixPath(path).name.lower()
    licenses: list[tuple[str, str]] = []  # (field, value)
    people: list[tuple[str, str]] = []
    notes: list[str] = []
    try:
        if name in {"pyproject.toml", "cargo.toml"}:
            data = tomllib.loads(text)
            for section in (data.get("project", {}), data.get("package", {}),
                            data.get("tool", {}).get("poetry", {})):
                lic = section.get("license")
                if isinstance(lic, dict):
                    lic = lic.get("text") or lic.get("file")
                if isinstance(lic, str):
                    licenses.append(("license", lic))
                people += [("authors", p) for p in _people(section.get("authors", []))]
                people += [("maintainers", p) for p in _people(section.get("maintainers", []))]
        elif name == "setup.cfg":
            cp = configparser.ConfigParser(interpolation=None)
            cp.read_string(text)
            if cp.has_section("metadata"):
                md = cp["metadata"]
                if md.get("license"):
                    licenses.append(("license", md["license"]))
                for key in ("author", "maintainer"):
                    if md.get(key):
                        people.append((key, md[key]))
        elif name in {"package.json", "composer.json"}:
            data = json.loads(text)
            if isinstance(data, dict):
                lic = data.get("license") or data.get("licenses")
                for v in lic if isinstance(lic, list) else [lic]:
                    v = v.get("type") if isinstance(v, dict) else v
                    if isinstance(v, str):
                        licenses.append(("license", v.strip("()")))
                for key in ("author", "authors", "contributors", "maintainers"):
                    people += [(key, p) for p in _people(data.get(key, []))]
        elif name == "pom.xml":
            root = ET.fromstring(text)
            for el in root.iter():
                tag = el.tag.rsplit("}", 1)[-1]
                if tag == "license":
                    for child in el:
                        if child.tag.rsplit("}", 1)[-1] == "name" and child.text:
                            licenses.append(("licenses/license/name", child.text.strip()))
                elif tag == "developer":
                    for child in el:
                        if child.tag.rsplit("}", 1)[-1] == "name" and child.text:
                            people.append(("developers", child.text.strip()))
        elif name.endswith(".gemspec"):
            for m in re.finditer(r"\.licen[sc]es?\s*=\s*(\[[^\]]*\]|[\"'][^\"']+[\"'])", text):
                licenses += [("license", v) for v in re.findall(r"[\"']([^\"']+)[\"']", m.group(1))]
            for m in re.finditer(r"\.authors?\s*=\s*(\[[^\]]*\]|[\"'][^\"']+[\"'])", text):
                people += [("authors", v) for v in re.findall(r"[\"']([^\"']+)[\"']", m.group(1))]
        elif name in {"pkg-info", "metadata"}:
            head = text.split("\n\n", 1)[0]
            for m in re.finditer(r"^(Author|Author-email|Maintainer|Maintainer-email):[ \t]*(.+)$", head, re.M):
                people.append((m.group(1), m.group(2).strip()))
    except (tomllib.TOMLDecodeError, configparser.Error, json.JSONDecodeError, ET.ParseError, ValueError) as e:
        notes.append(f"{path}: metadata not parsed ({type(e).__name__}: {str(e)[:80]}); text rules still applied")
    hits = []
    for fld, value in licenses:
        spdx = name_to_spdx(value)
        line = _line(text, value)
        hits.append(LicenseHit(spdx or value, line, line, f"metadata-{fld}", 95.0 if spdx else 0.0,
                               valid=bool(spdx), note="" if spdx else "license name not recognised as SPDX"))
    authors = [Author(p, _line(text, p.split(" <")[0]), _line(text, p.split(" <")[0]), f"metadata-{fld}")
               for fld, p in people if p.strip()]
    return hits, authors, notes


# Record fields (JSONL/Parquet) that carry CMI beside the text, as training sets such as The Stack carry
# them: a license (max_stars_repo_licenses, license), a holder or author, a repository. A field counts by its
# name; the value is compared with the original's items (cmi/status.py `moved_to_metadata`).
RECORD_LICENSE = re.compile(r"licen[cs]e|spdx", re.I)
RECORD_HOLDER = re.compile(r"copyright|holder|owner|author|creator|publisher|rights", re.I)
RECORD_REPOSITORY = re.compile(r"repo(sitory)?(_name)?$|repo_name|repository", re.I)
RECORD_TITLE = re.compile(r"^(title|book_title|name)$", re.I)


def _values(v) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [x for x in v if isinstance(x, str)]
    return []


def record_fields(meta: dict) -> list[dict]:
    """The CMI-bearing fields of a corpus record's metadata: {field, role, value, spdx?} (role: license,
    holder, repository, title, identifier). Fields that name no CMI are left out."""
    out = []
    for key in sorted(meta):
        if key in {"language_from", "bytes", "encoding", "format", "sections"}:
            continue
        role = ("license" if RECORD_LICENSE.search(key) else "holder" if RECORD_HOLDER.search(key)
                else "repository" if RECORD_REPOSITORY.search(key) else "title" if RECORD_TITLE.match(key)
                else "identifier" if key.lower() in {"isbn", "doi"} else None)
        if role is None:
            continue
        for v in _values(meta[key]):
            if not v.strip():
                continue
            item = {"field": key, "role": role, "value": v}
            if role == "license":
                item["spdx"] = name_to_spdx(v) or v.strip()
            out.append(item)
    return out
