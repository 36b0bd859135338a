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


# Language names as record fields carry them (The Stack's `lang`, GitHub linguist names), lower-cased.
_NAMES: dict[str, str] = {
    "c++": "cpp", "c#": "csharp", "c-sharp": "csharp", "js": "javascript", "node": "javascript",
    "ts": "typescript", "golang": "go", "bash": "shell", "sh": "shell", "zsh": "shell", "shell script": "shell",
    "markdown": "prose", "text": "prose", "plain text": "prose", "restructuredtext": "prose",
    "py": "python", "python3": "python", "rb": "ruby", "rs": "rust", "htm": "html", "yml": "yaml",
}


def language_named(value: str) -> str | None:
    """A language from a record's language field ("Python", "C++", "JavaScript"), None when not one we know."""
    v = value.strip().lower()
    if v in LANGUAGE_FAMILY:
        return v
    return _NAMES.get(v)


def language_of_extension(ext: str) -> str | None:
    """A language from a bare extension field ("py", ".rs"), None when unknown."""
    e = ext.strip().lower()
    return _EXTENSIONS.get(e if e.startswith(".") else "." + e) if e else None


_SHEBANG = re.compile(r"\A#![^\n]*?\b(python|perl|ruby|node|bash|sh|zsh|ksh|dash|php)[\d.]*\b")
_SHEBANG_LANGUAGE = {"python": "python", "perl": "perl", "ruby": "ruby", "node": "javascript", "php": "php"}

# Signatures a language's source shows and prose does not; each counts once per document. Line signatures:
# (the words a stripped line may start with, the pattern the whole stripped line matches); they are tried only
# on lines starting with one of those words (this runs on every record that names no language, so it must be
# cheap). Floating signatures are searched anywhere; each starts with a literal, which the engine finds fast.
_LINE: dict[str, tuple[tuple[str, str], ...]] = {
    "python": (("def", r"def \w+\(.*\)(?:\s*->\s*[^:]+)?:$"), ("import from", r"(?:from [\w.]+ )?import [\w., ]+$"),
               ("class", r"class \w+(?:\(.*\))?:$"), ("elif except", r"(?:elif|except)\b.*:$")),
    "c": (("#include", r"#include\s*[<\"]"), ("#define #ifdef #ifndef #endif", r"#(?:define|ifdef|ifndef|endif)\b"),
          ("int void char static", r"(?:static )?(?:int|void|char)\s+\*?\w+\s*\(")),
    "cpp": (("template", r"template\s*<"), ("namespace", r"namespace \w+\s*\{"),
            ("public: private: protected:", r"(?:public|private|protected):$")),
    "java": (("package", r"package [\w.]+;$"), ("import", r"import (?:static )?[\w.]+(?:\.\*)?;$"),
             ("public", r"public (?:static |final |abstract )*(?:class|interface|void)\b")),
    "csharp": (("using", r"using System[\w.]*;"), ("namespace", r"namespace [\w.]+$")),
    "javascript": (("import", r"import .+ from ['\"]"), ("export", r"export (?:default )?(?:function|class|const)\b"),
                   ("const let", r"(?:const|let) \w+ = ")),
    "typescript": (("interface export", r"(?:export )?interface \w+\s*\{"),
                   ("type export", r"(?:export )?type \w+ = ")),
    "go": (("package", r"package \w+$"), ("func", r"func (?:\(\w+ \*?\w+\) )?\w+\("), ("import", r"import \($")),
    "rust": (("fn pub", r"(?:pub )?fn \w+"), ("use", r"use \w+(?:::\w+)+;"), ("impl", r"impl\b")),
    "ruby": (("def", r"def \w+[?!]?(?:\(.*\))?$"), ("end", r"end$"), ("require", r"require ['\"]"),
             ("module", r"module \w+$")),
    "shell": (("fi esac done", r"(?:fi|esac|done)$"), ("if", r"if \[\[? "), ("export", r"export \w+="),
              ("echo", r"echo ['\"$]")),
    "perl": (("use", r"use strict;"), ("my", r"my \$\w+"), ("sub", r"sub \w+\s*\{")),
}
_FLOATING: dict[str, tuple[str, ...]] = {
    "python": (r"__name__ == ['\"]__main__['\"]", r"self\.\w+"),
    "c": (r"printf\s*\(", r"malloc\s*\(", r"sizeof\s*\(", r"struct \w+\s*\{"),
    "cpp": (r"std::", r"#include <(?:iostream|vector|string)>"),
    "java": (r"System\.out\.", r"@Override\b"),
    "csharp": (r"Console\.Write", r"{ get; set; }"),
    "javascript": (r"function\s*\w*\s*\([^)]*\)\s*\{", r"require\(['\"]", r"module\.exports\b", r"console\.log\(",
                   r"=> \{"),
    "typescript": (r": string\b", r": number\b", r": boolean\b"),
    "go": (r" := ", r"fmt\.\w+\("),
    "rust": (r"let mut ", r"println!", r"vec!", r"-> Self\b", r"-> Result<", r"-> Option<"),
    "ruby": (r"attr_accessor\b", r"attr_reader\b", r"do \|\w+\|"),
    "shell": (r"${",),
    "php": (r"<?php",),
    "html": (r"<!DOCTYPE html", r"<html", r"</div>", r"</body>", r"</p>", r"</span>", r"</table>"),
    "xml": (r"<?xml ",),
}
_LINE_BY_WORD: dict[str, list[tuple[str, re.Pattern]]] = {}
for _lang, _sigs in _LINE.items():
    for _words, _pattern in _sigs:
        for _w in _words.split():
            _LINE_BY_WORD.setdefault(_w, []).append((_lang, re.compile(_pattern)))


def _floating(pattern: str) -> tuple[re.Pattern, str]:
    """The compiled signature, and its literal prefix: the regex runs only where that substring occurs."""
    if "\\" not in pattern and "(" not in pattern and "[" not in pattern:  # a plain string
        return re.compile(re.escape(pattern)), pattern
    return re.compile(pattern), re.split(r"[\\.^$*+?{}\[\]|()]", pattern, maxsplit=1)[0]


_FLOATING_RE = [(lang, *_floating(p)) for lang, pats in _FLOATING.items() for p in pats]
_FIRST_WORD = re.compile(r"[#\w]+:?")
_STRONG = {"php", "xml"}  # one signature is enough: the marker is unambiguous
CONTENT_SAMPLE = 4096  # characters of a document looked at
MIN_SYNTAX = 0.01  # share of code punctuation below which text with no code line is prose


def language_of_content(text: str) -> str:
    """A cheap, deterministic guess from the text: the shebang line, else the language with the most distinct
    syntax signatures (at least two, and more than any language of another family); 'prose' otherwise."""
    sample = text[:CONTENT_SAMPLE]
    m = _SHEBANG.match(sample)
    if m:
        return _SHEBANG_LANGUAGE.get(m.group(1), "shell")
    found: set[re.Pattern] = set()
    scores = dict.fromkeys([*_LINE, *_FLOATING], 0)
    for line in sample.splitlines():
        line = line.strip()
        word = _FIRST_WORD.match(line)
        for lang, rx in _LINE_BY_WORD.get(word.group(0), ()) if word else ():
            if rx not in found and rx.match(line):
                found.add(rx)
                scores[lang] += 1
    if not found and sum(map(sample.count, "{}();=<>$")) < MIN_SYNTAX * len(sample):
        return "prose"  # no code line and almost no code punctuation: not worth the floating signatures
    for lang, rx, anchor in _FLOATING_RE:
        if anchor in sample and rx.search(sample):
            scores[lang] += 1
    best = max(scores, key=lambda lang: scores[lang])  # first listed wins a tie within the dict order
    if scores[best] < (1 if best in _STRONG else 2):
        return "prose"
    rival = max((s for lang, s in scores.items() if family_of(lang) != family_of(best)), default=0)
    return best if scores[best] > rival else "prose"


def extension_of(language: str) -> str:
    """The usual file extension of a language (`.py` for python), `.txt` when none: names a produced record so
    that reading it back by its file name gives the same language."""
    return next((ext for ext, lang in _EXTENSIONS.items() if lang == language), ".txt")
