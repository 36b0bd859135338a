"""Normalization levels: which differences between an original and a copy matching ignores.

  exact        tokens as written (case kept); whitespace between tokens is not a token at any level
  layout       case-folded tokens: whitespace, line breaks and letter case ignored (the default)
  comments     layout, and comments dropped
  identifiers  comments dropped, every identifier one placeholder, every short literal (number, string of
               up to 6 tokens) one placeholder: renamed variables and changed constants still match
               (code, via tree-sitter); long strings keep their words
  prose        words only, case-folded: punctuation and quote style ignored
  book         prose, and words hyphenated across line ends joined, page numbers and running heads dropped
               (books from PDF, EPUB, HTML and plain text alike: text/book.py)
  auto         per document, by its language: `book` for prose, `layout` for code (an index of books and
               code side by side); the work is prepared the same way, so both sides meet at one level

A level's token stream keeps each token's offsets into the same text, so spans found at a coarse level are
measured at the exact level too: verbatim runs compare the tokens' text as written.
"""

from __future__ import annotations

import functools
import importlib

import numpy as np

from ascertain.fingerprint.vectorized import hash_tokens
from ascertain.text.book import book_stream
from ascertain.text.languages import family_of
from ascertain.text.string_resync import resync
from ascertain.text.tokenize import CODE, COMMENT, STRING, TokenStream

LEVELS = ("exact", "layout", "comments", "identifiers", "prose", "book", "auto")
DEFAULT_LEVEL = "layout"  # of a token stream, of `compare` and of model outputs; `corpus add` defaults to auto
CORPUS_LEVEL = "auto"
# a document's level as an index stores it (docs column `level`: a number, so a keyed index holds no word)
LEVEL_CODES = {"exact": 0, "layout": 1, "comments": 2, "identifiers": 3, "prose": 4, "book": 5}
CODE_LEVELS = {v: k for k, v in LEVEL_CODES.items()}
ID_HASH = np.uint64(0x9E3779B97F4A7C15)
LIT_HASH = np.uint64(0xC2B2AE3D27D4EB4F)
MAX_PLACEHOLDER_LITERAL = 6  # literals of more tokens keep them (docstrings, messages)

# tree-sitter grammar per language: (module, function returning the language)
_GRAMMARS = {
    "python": ("tree_sitter_python", "language"), "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"), "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"), "cpp": ("tree_sitter_cpp", "language"),
    "go": ("tree_sitter_go", "language"), "rust": ("tree_sitter_rust", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
}
_LITERAL = ("string", "number", "integer", "float", "char", "rune", "raw_string", "template_string",
            "interpreted_string", "heredoc", "true", "false", "none", "null", "nil", "concatenated_string")
_IDENT = ("identifier",)  # identifier, type_identifier, field_identifier, property_identifier, constant, ...


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    return level


@functools.cache
def parser_for(language: str):
    """A tree-sitter parser for the language, or None when no grammar is installed for it."""
    spec = _GRAMMARS.get(language)
    if spec is None:
        return None
    try:
        import tree_sitter

        mod = importlib.import_module(spec[0])
        return tree_sitter.Parser(tree_sitter.Language(getattr(mod, spec[1])()))
    except (ImportError, AttributeError, ValueError):
        return None


@functools.cache  # a grammar has a few hundred node kinds; this runs once per node
def _is_literal(kind: str) -> bool:
    return kind.endswith("_literal") or any(kind == t or kind.startswith(t + "_") for t in _LITERAL)


@functools.cache
def _is_identifier(kind: str) -> bool:
    return kind.endswith("identifier") or kind in {"constant", "self", "this"}


@functools.cache
def _is_statement(kind: str) -> bool:
    return kind.endswith(("_statement", "_definition", "_declaration"))


def syntax_ranges(text: str, language: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]],
                                                      list[tuple[int, int]]] | None:
    """(identifier, literal, comment) character ranges from a real parse; None if no grammar."""
    parser = parser_for(language)
    if parser is None:
        return None
    # a fragment that starts or ends inside a docstring or block comment is parsed with its delimiters
    # re-paired (text/string_resync.py); offsets are unchanged
    data, tree = resync(text.encode("utf-8", "surrogatepass"), parser, language)
    idents: list[tuple[int, int]] = []
    literals: list[tuple[int, int]] = []
    comments: list[tuple[int, int]] = []
    # (node, inside a syntax error): a word the parser could not place (typically a fragment cut out of a
    # string or a docstring) keeps its text rather than become a placeholder, unless it stands in a whole
    # statement or definition the parser recognised inside the error (a file wrapped in one ERROR node)
    stack = [(tree.root_node, False)]
    while stack:
        node, in_error = stack.pop()
        kind = node.type
        if "comment" in kind:
            comments.append((node.start_byte, node.end_byte))
            continue
        if _is_literal(kind) and node.is_named:
            literals.append((node.start_byte, node.end_byte))
            continue
        if kind == "ERROR":
            in_error = True
        elif in_error and _is_statement(kind) and not node.has_error:
            in_error = False
        if not node.child_count:
            if not in_error and _is_identifier(kind):
                idents.append((node.start_byte, node.end_byte))
            continue
        stack.extend((c, in_error) for c in reversed(node.children))
    if not data.isascii():  # tree-sitter counts bytes; token offsets count characters
        char_of = np.cumsum([0] + [len(ch.encode("utf-8", "surrogatepass")) for ch in text])
        def chars(r: list[tuple[int, int]]) -> list[tuple[int, int]]:
            return [(int(np.searchsorted(char_of, a)), int(np.searchsorted(char_of, b))) for a, b in r]

        idents, literals, comments = chars(idents), chars(literals), chars(comments)
    return idents, literals, comments


def _subset(ts: TokenStream, keep: np.ndarray, hashes: np.ndarray | None = None,
            ends: np.ndarray | None = None) -> TokenStream:
    return TokenStream(ts.text, ts.start[keep], ts.end[keep] if ends is None else ends, ts.line[keep],
                       ts.kind[keep], ts.hashes[keep] if hashes is None else hashes)


def _mark(ts: TokenStream, ranges: list[tuple[int, int]]) -> np.ndarray:
    """Index of the range each token falls in (-1: none)."""
    out = np.full(len(ts), -1, np.int64)
    for i, (a, b) in enumerate(ranges):
        lo, hi = np.searchsorted(ts.start, a), np.searchsorted(ts.start, b)
        out[lo:hi] = i
    return out


def resolved_level(level: str, language: str) -> str:
    """The level a document of `language` is indexed and matched at: `auto` is `book` for prose, `layout` for
    code and markup; any other level is itself."""
    if level == "auto":
        return "book" if family_of(language) == "prose" else "layout"
    return level


def level_stream(ts: TokenStream, level: str, language: str) -> TokenStream:
    """The token stream that matching at `level` compares (offsets stay in the original text)."""
    level = resolved_level(level, language)
    if level == "layout" or not len(ts):
        return ts
    if level == "exact":
        return TokenStream(ts.text, ts.start, ts.end, ts.line, ts.kind, hash_tokens(ts.raw))
    if level == "book":
        return book_stream(ts)
    if level == "prose":
        words = np.fromiter((t[:1].isalnum() or t[:1] == "_" for t in ts.raw), bool, len(ts))
        return _subset(ts, words.nonzero()[0])
    syntax = syntax_ranges(ts.text, language) if level == "identifiers" else None
    if syntax is None:  # comments level, or no grammar: the regex lexer's comment classes
        keep = (ts.kind != COMMENT).nonzero()[0]
        if level == "comments" or not len(keep):
            return _subset(ts, keep)
        return _placeholders_by_kind(_subset(ts, keep))
    idents, literals, comments = syntax
    in_comment = _mark(ts, comments) >= 0
    lit = _mark(ts, literals)
    ident = _mark(ts, idents) >= 0
    # a short literal (a number, a short string) becomes one placeholder token; a long one (a docstring, a
    # message) is prose and keeps its tokens, so text copied inside strings still matches word for word
    sizes = np.bincount(lit[lit >= 0], minlength=len(literals)) if len(literals) else np.zeros(0, np.int64)
    short = (lit >= 0) & (sizes[np.maximum(lit, 0)] <= MAX_PLACEHOLDER_LITERAL if len(literals) else False)
    first_of_lit = np.ones(len(ts), bool)
    first_of_lit[1:] = ~(short[1:] & (lit[1:] == lit[:-1]))
    keep = (~in_comment & first_of_lit).nonzero()[0]
    hashes = ts.hashes[keep].copy()
    ends = ts.end[keep].copy()
    k_lit = short[keep]
    hashes[k_lit] = LIT_HASH
    ends[k_lit] = [literals[i][1] for i in lit[keep][k_lit]]
    hashes[ident[keep] & ~(lit[keep] >= 0)] = ID_HASH
    return _subset(ts, keep, hashes, ends)


def _placeholders_by_kind(ts: TokenStream) -> TokenStream:
    """Without a grammar: words in code are identifiers, string tokens and numbers literals (approximate)."""
    raw = ts.raw
    is_word = np.array([bool(t[:1].isalpha() or t[:1] == "_") for t in raw], bool)
    is_num = np.array([t[:1].isdigit() for t in raw], bool)
    hashes = ts.hashes.copy()
    hashes[(ts.kind == CODE) & is_word] = ID_HASH
    hashes[(ts.kind == STRING) | is_num] = LIT_HASH
    return TokenStream(ts.text, ts.start, ts.end, ts.line, ts.kind, hashes)
