"""SPDX license ids and expressions: validation (license-expression), current ids, common names.

Package metadata names licenses freely ("Apache 2.0", "BSD License", "GPLv3+"); these are mapped to SPDX ids
by a table of common names and trove classifiers, and anything else is validated as an SPDX expression.
"""

from __future__ import annotations

import functools
import re

from license_expression import ExpressionError, get_spdx_licensing


@functools.cache
def licensing():
    return get_spdx_licensing()


@functools.cache
def current_id(spdx_id: str) -> str:
    """The current SPDX id for a (possibly deprecated) one: GPL-2.0 → GPL-2.0-only."""
    try:
        return str(licensing().parse(spdx_id, simple=True))
    except ExpressionError:
        return spdx_id


def validate(expression: str) -> tuple[str | None, list[str]]:
    """(normalized expression, errors) for an SPDX license expression."""
    try:
        info = licensing().validate(expression, strict=False)
    except (ExpressionError, AttributeError) as e:  # the parser itself raises on some characters
        return None, [f"not an SPDX expression: {expression} ({type(e).__name__})"]
    if info.errors or info.normalized_expression is None:
        return None, list(info.errors) or [f"not an SPDX expression: {expression}"]
    return info.normalized_expression, []


def keys(expression: str) -> list[str]:
    """The license ids (and exception ids) an expression names."""
    try:
        return sorted(set(licensing().license_keys(licensing().parse(expression))))
    except ExpressionError:
        return []


# Common free-form names → SPDX, matched case-insensitively after collapsing punctuation to spaces.
_NAMES: dict[str, str] = {
    "mit": "MIT", "mit license": "MIT", "the mit license": "MIT", "expat": "MIT", "mit x11": "MIT",
    "mit 0": "MIT-0", "mit no attribution": "MIT-0",
    "apache": "Apache-2.0", "apache 2": "Apache-2.0", "apache 2 0": "Apache-2.0", "apache license": "Apache-2.0",
    "apache license 2 0": "Apache-2.0", "apache license version 2 0": "Apache-2.0",
    "apache software license": "Apache-2.0", "apache software license 2 0": "Apache-2.0", "asl 2 0": "Apache-2.0",
    "apache2": "Apache-2.0", "apache v2": "Apache-2.0", "apache license v2": "Apache-2.0",
    "bsd": "BSD-3-Clause", "bsd license": "BSD-3-Clause", "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause", "modified bsd": "BSD-3-Clause", "modified bsd license": "BSD-3-Clause",
    "bsd 3 clause": "BSD-3-Clause", "3 clause bsd": "BSD-3-Clause", "bsd 3": "BSD-3-Clause",
    "revised bsd license": "BSD-3-Clause", "3 clause bsd license": "BSD-3-Clause",
    "bsd 2 clause": "BSD-2-Clause", "2 clause bsd": "BSD-2-Clause", "simplified bsd": "BSD-2-Clause",
    "simplified bsd license": "BSD-2-Clause", "freebsd": "BSD-2-Clause", "bsd 2": "BSD-2-Clause",
    "isc": "ISC", "isc license": "ISC", "isc license iscl": "ISC",
    "psf": "PSF-2.0", "psf license": "PSF-2.0", "psf 2 0": "PSF-2.0",
    "python software foundation license": "Python-2.0",
    "python software foundation": "Python-2.0", "python": "Python-2.0",
    "mpl 2 0": "MPL-2.0", "mozilla public license 2 0": "MPL-2.0", "mozilla public license 2 0 mpl 2 0": "MPL-2.0",
    "gpl": "GPL-1.0-or-later", "gplv2": "GPL-2.0-only", "gpl v2": "GPL-2.0-only", "gpl 2": "GPL-2.0-only",
    "gplv2+": "GPL-2.0-or-later", "gplv3": "GPL-3.0-only", "gpl v3": "GPL-3.0-only", "gpl 3": "GPL-3.0-only",
    "gplv3+": "GPL-3.0-or-later", "gnu gpl v3": "GPL-3.0-only", "gnu gplv3": "GPL-3.0-only",
    "gnu general public license v2 gplv2": "GPL-2.0-only", "gnu general public license v3 gplv3": "GPL-3.0-only",
    "gnu general public license v2 or later gplv2+": "GPL-2.0-or-later",
    "gnu general public license v3 or later gplv3+": "GPL-3.0-or-later",
    "lgpl": "LGPL-2.0-or-later", "lgplv2": "LGPL-2.0-only", "lgplv2+": "LGPL-2.0-or-later",
    "lgplv3": "LGPL-3.0-only", "lgplv3+": "LGPL-3.0-or-later", "lgpl 2 1": "LGPL-2.1-only",
    "gnu lesser general public license v3 lgplv3": "LGPL-3.0-only",
    "gnu lesser general public license v2 or later lgplv2+": "LGPL-2.0-or-later",
    "gnu lesser general public license v3 or later lgplv3+": "LGPL-3.0-or-later",
    "gnu library or lesser general public license lgpl": "LGPL-2.0-or-later",
    "agplv3": "AGPL-3.0-only", "agplv3+": "AGPL-3.0-or-later",
    "gnu affero general public license v3": "AGPL-3.0-only",
    "gnu affero general public license v3 or later agplv3+": "AGPL-3.0-or-later",
    "unlicense": "Unlicense", "the unlicense": "Unlicense", "the unlicense unlicense": "Unlicense",
    "cc0": "CC0-1.0", "cc0 1 0": "CC0-1.0", "cc0 1 0 universal cc0 1 0 public domain dedication": "CC0-1.0",
    "zlib": "Zlib", "zlib libpng license": "Zlib", "zlib license": "Zlib", "boost": "BSL-1.0",
    "boost software license 1 0 bsl 1 0": "BSL-1.0", "eclipse public license 2 0 epl 2 0": "EPL-2.0",
    "eclipse public license 1 0 epl 1 0": "EPL-1.0", "artistic license": "Artistic-1.0",
    "academic free license afl": "AFL-3.0", "historical permission notice and disclaimer hpnd": "HPND",
    "the mit license mit": "MIT", "mit license mit": "MIT", "python software foundation license psf": "Python-2.0",
    "zope public license": "ZPL-2.1", "universal permissive license upl": "UPL-1.0",
    "european union public licence 1 2 eupl 1 2": "EUPL-1.2", "wtfpl": "WTFPL",
}
_PUNCT = re.compile(r"[^a-z0-9+]+")
CLASSIFIER = re.compile(r"License\s*::\s*(?:OSI Approved\s*::\s*)?(?:DFSG approved\s*::\s*)?([^\n\"',\]]+)")


def name_to_spdx(value: str) -> str | None:
    """An SPDX expression for a license name or expression as written in package metadata."""
    value = value.strip().strip("\"'").strip()
    if not value or len(value) > 200:
        return None
    norm = _PUNCT.sub(" ", value.lower()).strip()
    if norm in _NAMES:
        return _NAMES[norm]
    expr, errors = validate(re.sub(r"\s*/\s*", " OR ", value))  # Cargo's old "MIT/Apache-2.0"
    if expr and not errors:
        return expr
    return None
