"""Re-synchronise string and comment delimiters in a fragment cut out of a larger file.

A copy of part of a file (a model output, an excerpt pasted into another file) can start or end inside a
docstring or a block comment. A parser then reads the fragment with its delimiters paired the wrong way
round: the code between two docstrings becomes one string literal and the docstring's prose becomes code.
At the identifiers level a string keeps its words, so renamed identifiers inside the inverted region no
longer match and a renamed partial copy is missed.

The repair blanks (replaces with spaces, so every offset stays where it was) the one unpaired delimiter
whose removal leaves the parse with the fewest bytes in syntax errors, a few rounds at most. A text that
parses cleanly is left as it is, so whole files are unaffected; only the tokens of the stray fragment
(the docstring's tail) end up in a syntax error, where they keep their text.
"""

from __future__ import annotations

import functools
import re

from tree_sitter import Query, QueryCursor

# delimiters that open and close multi-line strings or comments, per grammar
_DELIMITERS = {
    "python": rb"\"\"\"|'''",
    "java": rb"\"\"\"|/\*|\*/",
    "javascript": rb"`|/\*|\*/",
    "typescript": rb"`|/\*|\*/",
    "go": rb"`|/\*|\*/",
    "c": rb"/\*|\*/",
    "cpp": rb"/\*|\*/",
    "rust": rb"/\*|\*/",
}
# then, once strings are paired, brackets: a fragment that ends inside a call leaves one unclosed
_BRACKETS = rb"[][(){}]"
MAX_ROUNDS = 3  # delimiters blanked at most per kind (a fragment has two ends; a third for a nested comment)
MAX_TRIES = 8  # delimiters, and brackets, tried per text and round: the nearest to its first syntax error
BEAM = 2  # texts kept per round (at most 3 rounds × 2 texts × 16 parses)
MAX_BYTES = 256 << 10  # larger texts are taken as parsed (whole files, not fragments; bounded cost)


def error_bytes(tree) -> int:
    """Bytes under ERROR nodes and missing tokens the parser had to assume."""
    return _measure(tree)[0]


def _measure(tree) -> tuple[int, int]:
    """(bytes in syntax errors, bytes in strings and comments). A syntax error's bytes are those the parser
    could not place: an ERROR node's span less the well-formed statements it wraps (tree-sitter may wrap a
    whole file in one ERROR around a single stray token); a string inside an ERROR (typically one left open
    to the end) counts as error too."""
    errors, stack = 0, [tree.root_node]
    while stack:  # only along the paths that hold errors
        node = stack.pop()
        if node.is_missing:
            errors += 1
        elif node.type == "ERROR":
            placed = 0
            for c in node.children:
                if c.type == "ERROR" or (c.child_count and "string" not in c.type):
                    placed += c.end_byte - c.start_byte
                    if c.has_error:
                        stack.append(c)
            errors += node.end_byte - node.start_byte - placed
        elif node.has_error:
            stack.extend(node.children)
    quoted, reach = 0, -1
    for node in sorted(QueryCursor(_quoted_query(tree.language)).captures(tree.root_node).get("q", []),
                       key=lambda n: (n.start_byte, -n.end_byte)):
        if node.start_byte >= reach:  # outermost only: an f-string's inner strings are inside it
            quoted += node.end_byte - node.start_byte
            reach = node.end_byte
    return errors, quoted


@functools.cache
def _quoted_query(language) -> Query:
    """Every string and comment node of a grammar, one capture (run in the library, not node by node)."""
    kinds = sorted({language.node_kind_for_id(i) for i in range(language.node_kind_count)
                    if language.node_kind_is_named(i) and language.node_kind_is_visible(i)})
    kinds = [k for k in kinds if ("string" in k or "comment" in k) and k.isidentifier()]
    return Query(language, "[" + " ".join(f"({k})" for k in kinds) + "] @q")


def _first_error(tree) -> int:
    node = tree.root_node
    while True:
        bad = next((c for c in node.children if c.has_error or c.type == "ERROR" or c.is_missing), None)
        if bad is None or bad.type == "ERROR" or bad.is_missing:
            return (bad or node).start_byte
        node = bad


def resync(data: bytes, parser, language: str):
    """(text with stray delimiters blanked, its parse tree); the input and its tree when it parses cleanly.

    A small beam search: each round tries blanking, in each of the best texts so far, the delimiters and
    brackets nearest its first syntax error, and keeps the BEAM texts of lowest cost: bytes in syntax errors
    plus bytes in strings and comments (so that swallowing broken code into one long string never counts as
    a repair; a fragment's stray delimiter has already swallowed code, which the right blank gives back).
    A beam, not one greedy step: a fragment cut at both ends needs two blanks, and the first alone can cost
    more than a wrong one."""
    tree = parser.parse(data)
    strings = _DELIMITERS.get(language)
    if strings is None or len(data) > MAX_BYTES or not tree.root_node.has_error:
        return data, tree
    best = _state(data, tree)
    beam = [best]
    for _ in range(MAX_ROUNDS):
        grown = []
        for _cost, errors, text, t in beam:
            if not errors:
                continue
            first = _first_error(t)
            for pattern in (strings, _BRACKETS):
                found = [(m.start(), m.end()) for m in re.finditer(pattern, text)]
                for a, b in sorted(found, key=lambda s: abs(s[0] - first))[:MAX_TRIES]:
                    candidate = text[:a] + b" " * (b - a) + text[b:]
                    grown.append(_state(candidate, parser.parse(candidate, _edited(t, text, a, b))))
        if not grown:
            break
        beam = sorted(grown, key=lambda s: s[0])[:BEAM]
        best = min(best, beam[0], key=lambda s: s[0])
    return best[2], best[3]


def _edited(tree, text: bytes, a: int, b: int):
    """A copy of tree told that bytes a..b changed (same length), so the parser re-reads only what they reach."""
    row = text.count(b"\n", 0, a)
    col = a - (text.rfind(b"\n", 0, a) + 1)
    edited = tree.copy()
    edited.edit(start_byte=a, old_end_byte=b, new_end_byte=b, start_point=(row, col),
                old_end_point=(row, col + b - a), new_end_point=(row, col + b - a))
    return edited


def _state(data: bytes, tree) -> tuple[int, int, bytes, object]:
    errors, quoted = _measure(tree)
    return errors + quoted, errors, data, tree
