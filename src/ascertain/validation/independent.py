"""Independent creation: short real functions written for the same task by different projects.

Independent implementations of the same small task are functions and methods of 11–34 lines with the same
name in different distributions of this machine's installed packages (and the standard library): two
projects' `strtobool`, `__eq__` or `parse_args`. Each pair of them is a negative (not copied). Copies are not
independent: vendored trees are left out by path, and a pair of projects in which any same-name function is
near-identical (difflib ratio of the token sequences ≥ 0.9) is treated as related (code flows between them,
e.g. a fork) and none of its pairs is used. A pair is also left out, on its own evidence (`relation`, the
first rule that holds), when the two functions
  - come from one project lineage (names equal without digits and separators: httpx and httpx2);
  - say that either derives from other code ("copied/adapted/taken/borrowed/derived/inspired and simplified
    from", "backport", "from CPython");
  - have either side's file import the other's module, or name it (`from json.decoder import ...`);
  - share a comment, docstring or string line of at least MIN_SHARED_PROSE_WORDS words (prose written
    independently does not coincide word for word);
  - share a line of code of at least MIN_SHARED_LINE_CHARS characters (whitespace collapsed);
  - have files whose headers name the same copyright holder.
On the tasks of `validate --short-works` (seed 11) these rules leave out about 70 of 1,665 pairs besides
the 401 of related projects: uvicorn's asyncio helpers, pip's distutils functions, sklearn's `_logsumexp`
("inspired and simplified from scipy"), cfnlint's `_decode_uXXXX` (its file imports json.decoder), sympy's
and torch's multipledispatch `_toposort`. Positives are known transformations (layout, comments, renames
and their combination, validation/transforms.py) of the same functions.

Tasks (names) are split by a seed into a tuning half, on which thresholds may be chosen, and a held-out half,
on which the figures are reported.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import io
import itertools
import random
import re
import textwrap
import tokenize as pytokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ascertain.cmi.sample import candidate_files
from ascertain.text.tokenize import tokenize

# vendored or bundled copies of other projects' code are not independent work
VENDORED = re.compile(r"vendor|_distutils|/extern/|externals|array_api_compat|array_api_extra|third_party"
                      r"|_lib/_uarray|/_compat/numpy|/site-packages/[^/]*/_?backports?/", re.IGNORECASE)
_DEF = re.compile(r"^( {0,4})(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
NEAR_IDENTICAL = 0.9  # difflib ratio of two functions' token sequences above which one derives from the other
# evidence that two same-name functions are related (one derives from the other, or both from one ancestor):
# prose written independently does not coincide word for word, nor do long lines of code
MIN_SHARED_PROSE_WORDS = 5  # a comment, docstring or string line of at least this many words, in both
MIN_SHARED_LINE_CHARS = 60  # a line of code (whitespace collapsed) of at least this many characters, in both
PROVENANCE = re.compile(r"\b(?:copied|adapted|taken|borrowed|ported|derived|vendored|backported|lifted"
                        r"|(?:inspired|simplified|modified|translated)(?:\s+and\s+\w+)?)\s+from\b"
                        r"|\bbased\s+on\s+(?:the\s+)?(?:code|implementation|version)\b|\bbackport(?:ed|s)?\b"
                        r"|\bfrom\s+cpython\b", re.IGNORECASE)
_HOLDER = re.compile(r"copyright\s*(?:\(c\)|©)?\s*(?:[\d,\s\-–]+)?(?:by\s+)?([A-Za-z][^\n]{3,60})", re.IGNORECASE)
LENGTH_BUCKETS = ((11, 16), (17, 22), (23, 28), (29, 34))


@dataclass(frozen=True)
class Function:
    task: str  # the function's name: the task it performs
    package: str
    path: str
    line: int
    text: str  # dedented source, decorators included

    @property
    def lines(self) -> int:
        return self.text.count("\n")


def _block(src: str, lines: list[str], m: re.Match) -> tuple[int, int]:
    """Line range [a, e) of the def at match m: its decorators, its body up to the next line at its indent."""
    indent = len(m.group(1))
    first = src.count("\n", 0, m.start())
    a = first
    while a > 0 and lines[a - 1].startswith(" " * indent + "@"):
        a -= 1
    b = first + 1
    while b < len(lines) and (not lines[b].strip() or lines[b].lstrip().startswith("#")
                              or len(lines[b]) - len(lines[b].lstrip()) > indent):
        b += 1
    while b > a and (not lines[b - 1].strip() or lines[b - 1].lstrip().startswith("#")):
        b -= 1
    return a, b


def functions_in(src: str, package: str, path: str, min_lines: int = 11, max_lines: int = 34) -> list[Function]:
    """Top-level functions and methods (indent 0 or 4) of min_lines..max_lines lines that parse alone."""
    lines = src.splitlines()
    out = []
    for m in _DEF.finditer(src):
        if len(m.group(1)) not in (0, 4):
            continue
        a, b = _block(src, lines, m)
        if not min_lines <= b - a <= max_lines:
            continue
        text = textwrap.dedent("\n".join(lines[a:b]) + "\n")
        try:
            if len(ast.parse(text).body) != 1:
                continue
        except (SyntaxError, ValueError):
            continue  # a block the line scan cut wrongly (a string at column 0): not used
        out.append(Function(m.group(2), package, path, a + 1, text))
    return out


def mine_functions(packages: set[str] | None = None, min_lines: int = 11, max_lines: int = 34
                   ) -> dict[str, list[Function]]:
    """{task: functions of that name} for names found in at least two packages (stable order)."""
    by_task: dict[str, list[Function]] = defaultdict(list)
    for package, path in candidate_files():
        if path.suffix != ".py" or VENDORED.search(str(path)) or (packages and package not in packages):
            continue
        try:
            src = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for f in functions_in(src, package, str(path), min_lines, max_lines):
            if not f.task.startswith("test"):
                by_task[f.task].append(f)
    return {t: fs for t, fs in sorted(by_task.items()) if len({f.package for f in fs}) >= 2}


def token_ratio(a: str, b: str) -> float:
    """difflib's similarity of the two token sequences (layout ignored), independent of ascertain's measure."""
    ta, tb = tokenize(a, "python", kinds=False).norm, tokenize(b, "python", kinds=False).norm
    return difflib.SequenceMatcher(None, ta, tb, autojunk=False).ratio()


_WORD = re.compile(r"[a-z0-9]+")


def _prose_lines(src: str) -> set[str]:
    """Normalized lines of comments, docstrings and strings of at least MIN_SHARED_PROSE_WORDS words."""
    out = set()
    try:
        toks = list(pytokenize.generate_tokens(io.StringIO(src).readline))
    except (pytokenize.TokenError, SyntaxError, IndentationError):
        return out
    for t in toks:
        if t.type in (pytokenize.COMMENT, pytokenize.STRING):
            for line in t.string.splitlines():
                words = _WORD.findall(line.lower())
                if len(words) >= MIN_SHARED_PROSE_WORDS:
                    out.add(" ".join(words))
    return out


def _code_lines(src: str) -> set[str]:
    """Lines of code (comments and docstring lines excluded), whitespace collapsed, of MIN_SHARED_LINE_CHARS+."""
    out = set()
    for line in src.splitlines():
        s = " ".join(line.split())
        if len(s) >= MIN_SHARED_LINE_CHARS and not s.startswith(("#", '"', "'")):
            out.add(s)
    return out


@functools.cache
def licence_holders(path: str) -> frozenset[str]:
    """Copyright holders named in the first 40 lines of the function's file (normalized words)."""
    head = "\n".join(_file_text(path).splitlines()[:40])
    out = set()
    for m in _HOLDER.finditer(head):
        words = [w for w in _WORD.findall(m.group(1).lower()) if w not in _HOLDER_NOISE]
        if words:
            out.add(" ".join(words[:4]))
    return frozenset(out)


_HOLDER_NOISE = {"all", "rights", "reserved", "the", "c", "and", "contributors", "its", "affiliates", "inc",
                 "notice", "holders", "holder", "owner", "owners", "see", "license", "licence", "authors"}


def lineage(package: str) -> str:
    """A project's name without version digits and separators: `httpx2` and `httpx`, `psycopg2` and `psycopg`
    are one lineage (a fork or a renamed major version)."""
    return re.sub(r"[\d_\-.]+|(?:py|python)$", "", package.lower()) or package.lower()


def module_of(path: str) -> str:
    """The dotted module a file is imported as (`json.decoder`, `scipy.special._logsumexp`)."""
    parts = Path(path).with_suffix("").parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + 1:]
            break
    else:  # the standard library: what follows lib/pythonX.Y
        i = next((k for k, x in enumerate(parts) if re.fullmatch(r"python\d+\.\d+", x)), None)
        parts = parts[i + 1:] if i is not None else parts[-1:]
    parts = parts[:-1] if parts and parts[-1] == "__init__" else parts
    return ".".join(parts)


@functools.cache
def _file_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def refers_to(a: Function, b: Function) -> bool:
    """Does a's file import b's module, or a's function name b's module (`from json.decoder import ...`,
    "simplified from scipy.special._logsumexp")? Then a was written with b's code at hand."""
    mod = module_of(b.path)
    if "." not in mod:
        return False
    head, _, leaf = mod.rpartition(".")
    imports = re.compile(rf"^\s*(?:from\s+{re.escape(mod)}\s+import|import\s+{re.escape(mod)}\b"
                         rf"|from\s+{re.escape(head)}\s+import\s+[^\n]*\b{re.escape(leaf)}\b)", re.MULTILINE)
    return bool(imports.search(_file_text(a.path))) or mod in a.text


def relation(a: Function, b: Function) -> str | None:
    """Why two same-name functions of different projects are evidently related (not independent), or None:
    the first rule that holds, in this order."""
    if lineage(a.package) == lineage(b.package):
        return "same project lineage"
    if PROVENANCE.search(a.text) or PROVENANCE.search(b.text):
        return "a side says it derives from other code"
    if refers_to(a, b) or refers_to(b, a):
        return "a side imports or names the other's module"
    if _prose_lines(a.text) & _prose_lines(b.text):
        return "shared comment, docstring or message line"
    if _code_lines(a.text) & _code_lines(b.text):
        return "identical long line of code"
    if licence_holders(a.path) & licence_holders(b.path):
        return "same copyright holder"
    return None


@dataclass
class IndependentSet:
    pairs: list[tuple[Function, Function]]  # independent implementations of the same task
    split: dict[str, str]  # task -> "tuning" | "held-out"
    by_task: dict[str, list[Function]]  # one function per package, the pairs' and the same-task references
    related: set[frozenset[str]]  # package pairs left out (code flows between them)
    dropped_pairs: int
    why_related: dict[str, int] = field(default_factory=dict)  # rule -> candidate pairs it left out


def build_independent_set(seed: int = 11, max_pairs_per_task: int = 4, packages: set[str] | None = None,
                          mined: dict[str, list[Function]] | None = None, max_tasks: int | None = None,
                          clean: bool = True) -> IndependentSet:
    """Pairs of independent implementations; `max_tasks` tasks at most (a seeded sample of the names).
    `clean`: pairs with evident relatedness of their own (`relation`) are left out too."""
    rng = random.Random(seed)
    mined = mined if mined is not None else mine_functions(packages)
    if max_tasks is not None and len(mined) > max_tasks:
        mined = {t: mined[t] for t in sorted(rng.sample(sorted(mined), max_tasks))}
    by_task: dict[str, list[Function]] = {}
    candidates: list[tuple[Function, Function, float]] = []
    for task, fs in mined.items():
        per_pkg: dict[str, list[Function]] = defaultdict(list)
        for f in fs:
            per_pkg[f.package].append(f)
        one = [rng.choice(per_pkg[p]) for p in sorted(per_pkg)]
        by_task[task] = one
        combos = list(itertools.combinations(one, 2))
        rng.shuffle(combos)
        candidates += [(a, b, token_ratio(a.text, b.text)) for a, b in combos[:max_pairs_per_task]]
    related = {frozenset((a.package, b.package)) for a, b, r in candidates if r >= NEAR_IDENTICAL}
    why: dict[frozenset[str], str] = {p: "near-identical same-name function" for p in related}
    same_text: dict[tuple[str, str], set[str]] = defaultdict(set)  # any identical same-name function relates
    for task, fs in mined.items():
        for f in fs:
            same_text[task, " ".join(tokenize(f.text, "python", kinds=False).norm)].add(f.package)
    for pkgs in same_text.values():
        for p in itertools.combinations(sorted(pkgs), 2):
            why.setdefault(frozenset(p), "identical same-name function")
    related |= set(why)
    pairs: list[tuple[Function, Function]] = []
    left_out: dict[str, int] = defaultdict(int)
    for a, b, _ in candidates:  # projects related as wholes; then the pair's own evidence (`relation`)
        key = frozenset((a.package, b.package))
        rule = why.get(key) or (relation(a, b) if clean else None)
        if rule:
            left_out[rule] += 1
        else:
            pairs.append((a, b))
    tasks = sorted(by_task)
    rng.shuffle(tasks)
    split = {t: "tuning" if i % 2 == 0 else "held-out" for i, t in enumerate(tasks)}
    return IndependentSet(pairs, split, by_task, related, len(candidates) - len(pairs),
                          dict(sorted(left_out.items())))


def same_task_reference(s: IndependentSet, a: Function, b: Function) -> list[Function]:
    """Other implementations of the task, from projects related to neither side: what an expert would gather."""
    return [f for f in s.by_task[a.task] if f.package not in (a.package, b.package)
            and frozenset((f.package, a.package)) not in s.related
            and frozenset((f.package, b.package)) not in s.related]


def file_name(f: Function) -> str:
    digest = hashlib.sha256(f"{f.path}:{f.line}".encode()).hexdigest()[:8]
    return f"{f.task[:40]}-{f.package[:20]}-{digest}.py"


def bucket(lines: int) -> str:
    return next((f"{lo}-{hi}" for lo, hi in LENGTH_BUCKETS if lo <= lines <= hi), "other")


def write_functions(dest: Path, fs: list[Function]) -> dict[Function, str]:
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    for f in fs:
        p = dest / file_name(f)
        p.write_text(f.text, encoding="utf-8")
        out[f] = str(p)
    return out
