"""HTML and XHTML to text: markup, entities, scripts and styles gone, block structure kept as paragraphs.

Parsed by selectolax's Lexbor engine (MIT; an HTML5 parser, so broken markup parses as browsers parse it).
Each block element (p, div, h1-h6, li, blockquote, tr, ...) becomes a paragraph of one line, paragraphs are
separated by a blank line, `<br>` is a line break, and `<pre>` keeps its lines. Whitespace inside a
paragraph is one space, as the browser renders it: a reflowed copy and the original read the same.
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


def is_html(path: Path) -> bool:
    return path.name.lower().endswith(HTML_SUFFIXES)


def read_html(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    """The file as the plain-file reader reads it (limits, decoding), then its markup to text."""
    for item in read_file(path, opts, input_name):
        if isinstance(item, Document):
            item.text, item.language = html_to_text(item.text), "prose"
            item.meta["format"] = "html"
        yield item


def html_to_text(markup: str, keep_title: bool = True) -> str:
    """The text a reader sees, paragraph by paragraph (the `<title>` first, when keep_title)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
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
