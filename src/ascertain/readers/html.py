"""HTML and XHTML to text: markup, entities, scripts and styles gone, block structure kept as paragraphs.

Parsed by selectolax's Lexbor engine (MIT; an HTML5 parser, so broken markup parses as browsers parse it).
Each block element (p, div, h1-h6, li, blockquote, tr, ...) becomes a paragraph of one line, paragraphs are
separated by a blank line, `<br>` is a line break, and `<pre>` keeps its lines. Whitespace inside a
paragraph is one space, as the browser renders it: a reflowed copy and the original read the same.

Hostile markup costs linear time (issue 26): an HTML5 parser's work on an end tag grows with the depth of the
open elements, so markup nested deeper than MAX_DEPTH is flattened first by one linear scan (`bounded`):
tags past that depth are dropped, a block tag becoming a `<br>`; text is kept. A document with more than
`ReadOptions.max_markup_tags` tags is refused with a Skip (`MarkupBudget`), so no document costs more than a
fixed amount of parser work per tag. Ordinary pages nest a few dozen levels and are read unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.readers.files import read_file

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
DROP = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "head", "-comment"}
BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "title", "tr", "ul",
}
_SPACE = re.compile(r"\s+")
MAX_DEPTH = 256  # browsers cap the tree depth too (Blink at 512); no real page nests this deep
# never pushed on the parser's stack (void) or closed implicitly by a sibling (optional end tags)
_UNCOUNTED = {
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link",
    "meta", "param", "source", "track", "wbr", "p", "li", "dt", "dd", "rb", "rt", "rtc", "rp", "optgroup",
    "option", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption", "html", "head", "body",
}
_RAW_TEXT = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"}
_TAG_NAME = re.compile(r"</?([A-Za-z][^\s/>]*)")


class MarkupBudget(Exception):
    """A document has more tags than its work budget allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"markup of more than {limit:,} tags (the work budget of one document)")
        self.limit = limit


class TagBudget:
    """The tags one document may still have (an EPUB's spine items share one)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0


def bounded(markup: str, budget: TagBudget | None = None, max_depth: int = MAX_DEPTH) -> str:
    """The markup with every tag nested deeper than max_depth dropped (a block tag becomes `<br>`), found in
    one pass whose cost is linear in the length; MarkupBudget when the budget runs out. Unchanged when no tag is
    that deep, which is every ordinary page."""
    out: list[str] = []
    stack: list[str] = []  # the open elements the parser keeps, as far as tag names tell
    open_count: dict[str, int] = {}
    dropped: dict[str, int] = {}  # elements opened past max_depth and not yet closed
    done = pos = 0
    lower = None
    n = len(markup)
    while pos < n:
        i = markup.find("<", pos)
        if i < 0:
            break
        if markup.startswith("<!--", i):
            j = markup.find("-->", i + 4)
            pos = n if j < 0 else j + 3
            continue
        m = _TAG_NAME.match(markup, i)
        if m is None:
            pos = i + 1
            continue
        j = markup.find(">", m.end())
        if j < 0:
            break  # no tag can close after this point
        if budget is not None:
            budget.used += 1
            if budget.used > budget.limit:
                raise MarkupBudget(budget.limit)
        name, end_tag = m.group(1).lower(), markup[i + 1] == "/"
        pos = j + 1
        if name in _UNCOUNTED:
            continue
        drop = False
        if not end_tag:
            if len(stack) < max_depth:
                stack.append(name)
                open_count[name] = open_count.get(name, 0) + 1
            else:
                dropped[name] = dropped.get(name, 0) + 1
                drop = True
            if name in _RAW_TEXT and not drop:  # its content is text, not tags: skip to its end tag
                lower = lower if lower is not None else markup.lower()
                k = lower.find("</" + name, pos)
                pos = n if k < 0 else k
        elif dropped.get(name):
            dropped[name] -= 1
            drop = True
        elif open_count.get(name):
            while stack:  # as the parser does: close everything opened inside it
                top = stack.pop()
                open_count[top] -= 1
                if top == name:
                    break
        if drop:
            out.append(markup[done:i])
            out.append("<br>" if name in BLOCKS else "")
            done = pos
    if done == 0:
        return markup
    out.append(markup[done:])
    return "".join(out)


def is_html(path: Path) -> bool:
    return path.name.lower().endswith(HTML_SUFFIXES)


def read_html(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    """The file as the plain-file reader reads it (limits, decoding), then its markup to text."""
    for item in read_file(path, opts, input_name):
        if isinstance(item, Document):
            try:
                item.text, item.language = html_to_text(item.text, budget=TagBudget(opts.max_markup_tags)), "prose"
            except MarkupBudget as e:
                yield Skip(input_name, item.locator, f"{e} refused",
                           "split the page, or raise the budget (`corpus add --max-markup-tags`) if it is genuine")
                continue
            item.meta["format"] = "html"
        yield item


def html_to_text(markup: str, keep_title: bool = True, budget: TagBudget | None = None) -> str:
    """The text a reader sees, paragraph by paragraph (the `<title>` first, when keep_title); MarkupBudget
    when the markup has more tags than the budget has left."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(bounded(markup, budget))
    out: list[str] = []
    if keep_title:
        title = tree.css_first("head > title")
        if title is not None and title.text(deep=True).strip():
            out.append(_SPACE.sub(" ", title.text(deep=True)).strip())
            out.append("\n\n")
    root = tree.body or tree.root
    if root is None:
        return "".join(out)
    _walk(root, out)
    text = "".join(out)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)  # no spaces around line breaks
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text + "\n" if text else ""


def _walk(root, out: list[str]) -> None:
    """Depth first without recursion (hostile markup may nest thousands of levels deep)."""
    pre = 0
    node = root
    while node is not None:
        tag = node.tag
        descend = False
        if tag == "-text":
            t = node.text_content or ""
            out.append(t if pre else _SPACE.sub(" ", t))
        elif tag == "br":
            out.append("\n")
        elif tag not in DROP:
            if tag in BLOCKS:
                out.append("\n\n")
            if tag == "pre":
                pre += 1
            descend = node.child is not None
        if descend:
            node = node.child
            continue
        # leave this node and every ancestor that has no next sibling
        while node is not None:
            if node is not root and node.tag in BLOCKS:
                out.append("\n\n")
            if node.tag == "pre" and node is not root:
                pre -= 1
            if node is root:
                node = None
                break
            if node.next is not None:
                node = node.next
                break
            node = node.parent
