"""Language families: which syntax marks comments and string literals.

ascertain tokenizes every document the same way (so code found inside a JSONL corpus matches a code work),
and uses the language only to classify each token as code, comment or string. The lexers are one compiled
regular expression per family: Pygments lexes ~1 MB/s here against ~34 MB/s for these (benchmarks/), and
the classification is checked against Pygments in tests/test_tokenize.py.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_STR_DQ = r'"(?:\\.|[^"\\\n])*"'
_STR_SQ = r"'(?:\\.|[^'\\\n])*'"
_C_COMMENT = r"//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)"

# Each pattern has two named groups: c (comment) and s (string literal).
_FAMILIES: dict[str, str] = {
    "python": (
        r"(?P<c>#[^\n]*)"
        r"|(?P<s>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)|"
        + _STR_DQ + "|" + _STR_SQ + "))"
    ),
    "c": rf"(?P<c>{_C_COMMENT})|(?P<s>{_STR_DQ}|'(?:\\.|[^'\\\n]){{1,4}}')",
    "javascript": rf"(?P<c>{_C_COMMENT})|(?P<s>{_STR_DQ}|{_STR_SQ}|`(?:\\.|[^`\\])*`)",
    "go": rf"(?P<c>{_C_COMMENT})|(?P<s>{_STR_DQ}|'(?:\\.|[^'\\\n])+'|`[^`]*`)",
    # Rust: a quote followed by an identifier and no closing quote is a lifetime, not a char literal.
    "rust": rf"(?P<c>{_C_COMMENT})|(?P<s>r#*\"[\s\S]*?\"#*|{_STR_DQ}|'(?:\\.|[^'\\\n])')",
    "ruby": rf"(?P<c>#[^\n]*|^=begin\b[\s\S]*?(?:^=end\b[^\n]*|\Z))|(?P<s>{_STR_DQ}|{_STR_SQ})",
    "shell": rf"(?P<c>(?<![\w$])#[^\n]*)|(?P<s>{_STR_DQ}|{_STR_SQ})",
    "markup": r"(?P<c><!--[\s\S]*?(?:-->|\Z))|(?P<s>(?!x)x)",
    "prose": r"(?P<c>(?!x)x)|(?P<s>(?!x)x)",
}
FAMILY_RE = {name: re.compile(p, re.MULTILINE) for name, p in _FAMILIES.items()}

LANGUAGE_FAMILY: dict[str, str] = {
    "python": "python", "c": "c", "cpp": "c", "java": "c", "csharp": "c", "kotlin": "c", "swift": "c",
    "scala": "c", "php": "c", "javascript": "javascript", "typescript": "javascript", "go": "go",
    "rust": "rust", "ruby": "ruby", "shell": "shell", "yaml": "shell", "toml": "shell", "r": "shell",
    "perl": "shell", "html": "markup", "xml": "markup", "prose": "prose",
}

_EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyx": "python",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".java": "java", ".cs": "csharp", ".kt": "kotlin", ".swift": "swift", ".scala": "scala", ".php": "php",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".go": "go", ".rs": "rust", ".rb": "ruby",
    ".sh": "shell", ".bash": "shell", ".yml": "yaml", ".yaml": "yaml", ".toml": "toml", ".r": "r",
    ".pl": "perl", ".pm": "perl", ".html": "html", ".htm": "html", ".xml": "xml",
    ".txt": "prose", ".md": "prose", ".rst": "prose", ".tex": "prose",
}

LICENSE_FILE_RE = re.compile(r"^(?:LICEN[CS]E|COPYING|NOTICE|UNLICENSE)(?:[.-].*)?$", re.IGNORECASE)


def language_of(path: str) -> str:
    """The language of a file by its name; 'prose' when nothing marks it as code."""
    name = path.rsplit("/", 1)[-1]
    if name in {"Makefile", "Dockerfile", "Rakefile", "Gemfile"}:
        return "ruby" if name in {"Rakefile", "Gemfile"} else "shell"
    dot = name.rfind(".")
    return _EXTENSIONS.get(name[dot:].lower(), "prose") if dot > 0 else "prose"


def family_of(language: str) -> str:
    return LANGUAGE_FAMILY.get(language, "prose")


def is_license_file(path: str) -> bool:
    return bool(LICENSE_FILE_RE.match(PurePosixPath(path).name))
