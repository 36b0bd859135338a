"""Known transformations of real Python files: the labelled copies `ascertain validate` measures against.

Each transformation is what a model or a person does to a copied file: rename identifiers (one consistent
map), reformat (indentation, spacing, blank lines), strip comments, strip the copyright/license header,
reorder top-level functions and classes, insert unrelated lines. All work on Python's own tokenizer, so
the result is still valid Python with the same token structure except where the edit says otherwise.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import random
import re
import tokenize

_KEEP = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | {"self", "cls"}


def _tokens(src: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(src).readline))


def _replace(src: str, edits: list[tuple[tuple[int, int], tuple[int, int], str]]) -> str:
    """Apply (start(row, col), end(row, col), new text) edits, rows 1-based."""
    lines = src.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(rc: tuple[int, int]) -> int:
        return offsets[rc[0] - 1] + rc[1]

    out, last = [], 0
    for start, end, new in sorted(edits, key=lambda e: pos(e[0])):
        a, b = pos(start), pos(end)
        out.append(src[last:a])
        out.append(new)
        last = b
    out.append(src[last:])
    return "".join(out)


def rename(src: str, rng: random.Random, share: float = 0.6) -> str:
    """Rename a share of the file's own identifiers, each to one new name everywhere."""
    toks = _tokens(src)
    names = sorted({t.string for t in toks if t.type == tokenize.NAME and t.string not in _KEEP})
    chosen = [n for n in names if rng.random() < share]
    new = {n: f"{rng.choice(['val', 'item', 'obj', 'tmp', 'data', 'res', 'node', 'arg'])}_{i}"
           for i, n in enumerate(chosen)}
    return _replace(src, [(t.start, t.end, new[t.string]) for t in toks
                          if t.type == tokenize.NAME and t.string in new])


def scattered_edits(src: str, rng: random.Random, share: float = 0.05) -> str:
    """Replace about `share` of the names, each occurrence on its own (no consistent map): no long run
    survives, as in a near-duplicate edited here and there."""
    toks = _tokens(src)
    return _replace(src, [(t.start, t.end, rng.choice(["value", "item", "result", "data", "temp"]))
                          for t in toks if t.type == tokenize.NAME and t.string not in _KEEP
                          and rng.random() < share * 2])  # names are about half of the tokens


def strip_comments(src: str, rng: random.Random | None = None) -> str:
    toks = _tokens(src)
    return _replace(src, [(t.start, t.end, "") for t in toks if t.type == tokenize.COMMENT])


def add_comments(src: str, rng: random.Random, every: int = 4) -> str:
    """A comment line (same indentation) before about every `every`-th statement line."""
    words = ["check", "the", "value", "first", "then", "handle", "result", "input", "case", "here", "return"]
    starts, fresh = set(), True  # rows where a logical line (a statement) begins
    for t in _tokens(src):
        if t.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            fresh = fresh or t.type == tokenize.NEWLINE
            continue
        if fresh:
            starts.add(t.start[0])
        fresh = False
    out = []
    for i, line in enumerate(src.splitlines(keepends=True), 1):
        if i in starts and rng.random() < 1 / every:
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}# {' '.join(rng.choice(words) for _ in range(rng.randint(2, 6)))}\n")
        out.append(line)
    return "".join(out)


_HEADER = re.compile(r"copyright|licen[sc]e|\(c\)|©|spdx|all rights reserved|author", re.IGNORECASE)


def strip_cmi(src: str, rng: random.Random | None = None) -> str:
    """Drop comment lines that carry CMI (notices, license headers, authors)."""
    out = []
    in_notice = False
    for line in src.splitlines(keepends=True):
        s = line.strip()
        if s.startswith("#") and (_HEADER.search(s) or (in_notice and s != "")):
            in_notice = True
            continue
        in_notice = False
        out.append(line)
    return "".join(out)


def reformat(src: str, rng: random.Random) -> str:
    """Indentation 4 → 2 (or tabs), spaces inside brackets and around commas, blank lines added."""
    return "".join(reformat_lines(src, rng))


def reformat_lines(src: str, rng: random.Random) -> list[str]:
    """`reformat`, one chunk per line of `src` (the line and any blank line added after it), so that lines
    a..b of the original can be taken from the reformatted text."""
    toks = _tokens(src)
    edits = []
    for t in toks:
        if t.type == tokenize.OP and t.string == "," or t.type == tokenize.OP and t.string in "([{":
            edits.append((t.end, t.end, " "))
    src = _replace(src, edits)
    unit = rng.choice(["  ", "\t"])
    out = []
    for i, line in enumerate(src.splitlines(keepends=True)):
        stripped = line.lstrip(" ")
        depth = (len(line) - len(stripped)) // 4
        extra = (len(line) - len(stripped)) % 4
        chunk = unit * depth + " " * extra + stripped
        if stripped.strip() and i % 7 == 6 and not stripped.rstrip().endswith(("\\", ",", "(")):
            chunk += "\n"
        out.append(chunk)
    return out


def _top_level_blocks(src: str) -> tuple[str, list[str]]:
    """(head: everything before the first def/class, [top-level def/class blocks with their decorators])."""
    lines = src.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"(?:def |class |async def |@)", line)
              and not (i > 0 and lines[i - 1].startswith("@"))]
    if not starts:
        return src, []
    head = "".join(lines[:starts[0]])
    bounds = starts + [len(lines)]
    return head, ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def reorder(src: str, rng: random.Random) -> str:
    head, blocks = _top_level_blocks(src)
    if len(blocks) < 2:
        return src
    order = list(range(len(blocks)))
    while order == sorted(order):
        rng.shuffle(order)
    return head + "".join(blocks[i] if blocks[i].endswith("\n") else blocks[i] + "\n" for i in order)


def _names(node: ast.AST) -> tuple[set[str], set[str]]:
    """(names a statement reads, names it binds or mutates), attributes by their base name."""
    reads, writes = set(), set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (writes if isinstance(n.ctx, ast.Store | ast.Del) else reads).add(n.id)
        elif isinstance(n, ast.Attribute | ast.Subscript) and isinstance(n.ctx, ast.Store | ast.Del):
            base = n.value
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                writes.add(base.id)
        elif isinstance(n, ast.Call):  # a call may change its receiver or arguments
            f = n.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                writes.add(f.value.id)
    return reads, writes


_MOVABLE = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom, ast.Expr)


def reorder_statements(src: str, rng: random.Random, share: float = 1.0) -> str:
    """Swap adjacent independent simple statements (assignments, imports, calls on one line each) in every
    block: the declaration-order change of plagiarism studies, inside a function as well as at top level.
    Two statements are independent when neither reads or binds what the other binds (nor is a docstring)."""
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return src
    lines = src.splitlines(keepends=True)
    swaps: list[tuple[ast.stmt, ast.stmt]] = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            i = 0
            while i + 1 < len(body):
                a, b = body[i], body[i + 1]
                if (isinstance(a, _MOVABLE) and isinstance(b, _MOVABLE) and a.lineno == a.end_lineno
                        and b.lineno == b.end_lineno and b.lineno == a.lineno + 1 and not _docstring(a)
                        and _independent(a, b) and rng.random() < share):
                    swaps.append((a, b))
                    i += 2
                else:
                    i += 1
    for a, b in swaps:
        ia, ib = a.lineno - 1, b.lineno - 1
        lines[ia], lines[ib] = _with_indent(lines[ib], lines[ia]), _with_indent(lines[ia], lines[ib])
    return "".join(lines)


def _docstring(s: ast.stmt) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)


def _independent(a: ast.stmt, b: ast.stmt) -> bool:
    ra, wa = _names(a)
    rb, wb = _names(b)
    return not (wa & (rb | wb) or wb & ra)


def _with_indent(line: str, like: str) -> str:
    """`line` at the indentation of `like` (two adjacent statements of one block share it anyway)."""
    return like[:len(like) - len(like.lstrip())] + line.lstrip()


def insert_lines(src: str, rng: random.Random, donor: str, every: int = 8) -> str:
    """Insert a line of unrelated code (same indentation as the next line) every `every` lines or so."""
    donor_lines = [line.strip() for line in donor.splitlines() if line.strip() and not line.strip().startswith("#")
                   and len(line.strip()) < 100 and _complete(line.strip())]
    if not donor_lines:
        return src
    out = []
    lines = src.splitlines(keepends=True)
    # only where a new logical line starts (never inside brackets or a multi-line string)
    starts = {t.end[0] + 1 for t in _tokens(src) if t.type == tokenize.NEWLINE}
    last = 0
    for i, line in enumerate(lines):
        if (i - last >= every and (i + 1) in starts and line.strip()
                and not re.match(r"\s*(?:else|elif|except|finally|case)\b|\s*[)\]}]", line)
                and not lines[i - 1].lstrip().startswith("@")):
            last = i
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}{rng.choice(donor_lines)}\n")
        out.append(line)
    return "".join(out)


def _complete(line: str) -> bool:
    """A statement that stands alone (not a block header, not half of a bracketed expression)."""
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return False
    return len(tree.body) == 1 and not isinstance(tree.body[0], (ast.FunctionDef, ast.ClassDef, ast.If))


def partial(counts: list[int], rng: random.Random, share: float, min_tokens: int = 20) -> tuple[int, int, int]:
    """A contiguous run of whole lines holding about `share` of the work's tokens: (first, end, tokens).

    `counts` holds the tokens of each line that count (the work's own expression, outside notices).
    """
    total = sum(counts)
    want = max(min_tokens, int(round(share * total)))
    if want >= total:
        return 0, len(counts), total
    starts = list(range(len(counts)))
    rng.shuffle(starts)
    for a in starts[:50]:
        n, b = 0, a
        while b < len(counts) and n < want:
            n += counts[b]
            b += 1
        if n >= want:
            return a, b, n
    return 0, len(counts), total


def lines_of(src: str, a: int, b: int) -> str:
    return "".join(src.splitlines(keepends=True)[a:b])


def embed(part: str, host: str, rng: random.Random) -> str:
    """The copied part placed inside an unrelated real file, between two of its top-level statements."""
    lines = host.splitlines(keepends=True)
    try:
        body = ast.parse(host).body
        cuts = sorted({min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", []))]) - 1 for n in body}
                      | {len(lines)})
    except (SyntaxError, ValueError):
        cuts = [len(lines)]
    at = rng.choice(cuts)
    if not part.endswith("\n"):
        part += "\n"
    return "".join(lines[:at]) + part + "".join(lines[at:])
