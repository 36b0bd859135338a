"""Copies of a book in the forms a training corpus holds them, for tests, the demo and benchmarks/books.py.

  books3_record   a Books3-like record: distributor header and footer removed, paragraphs reflowed to one
                  line each, curly quotes and apostrophes, em dashes, emphasis marks gone
  render_pdf      a typeset PDF (reportlab): running heads, page numbers, words hyphenated at line ends
  render_epub     an EPUB 3 (zipfile): one XHTML document per chapter, in the spine's order
  split_book      two different "books" from one text, each wrapped in the same distributor's header and
                  license (unrelated works that share a publisher's text)
  excerpt_book    chapters a..b of a Gutenberg book, in its whole header and footer
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

from ascertain.text.book_boilerplate import GUTENBERG_END, GUTENBERG_START

CHAPTER = re.compile(r"^(?:Chapter|CHAPTER)\s+[\dIVXLC]+\.?\s*$", re.MULTILINE)


def body_of(text: str) -> str:
    """The book without a Gutenberg header and footer."""
    start = GUTENBERG_START.search(text)
    a = start.end() if start else 0
    end = GUTENBERG_END.search(text, a)
    return text[a:end.start() if end else len(text)].strip("\r\n") + "\n"


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n[ \t\r]*\n", text) if p.strip()]


def curly(p: str) -> str:
    """Typographer's quotes, apostrophes and dashes, as e-book publishers set them."""
    p = re.sub(r'"(?=\w|[_\'(\[])', "\u201c", p)
    p = p.replace('"', "\u201d")
    p = re.sub(r"(?<=\w)'", "\u2019", p)
    p = re.sub(r"'(?=\w)", "\u2018", p).replace("'", "\u2019")
    return p.replace("--", "\u2014")


def books3_record(text: str) -> str:
    """Header and footer stripped, one paragraph per line, curly quotes, no `_emphasis_` marks."""
    return "\n".join(curly(p.replace("_", "")) for p in paragraphs(body_of(text))) + "\n"


def chapters(text: str) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) of each chapter of the body; text before the first heading is a front part."""
    body = body_of(text)
    heads = list(CHAPTER.finditer(body))
    out: list[tuple[str, list[str]]] = []
    if not heads or heads[0].start() > 0:
        out.append(("", paragraphs(body[:heads[0].start()] if heads else body)))
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        out.append((h.group().strip(), paragraphs(body[h.end():end])))
    return [(h, ps) for h, ps in out if h or ps]


def render_pdf(text: str, path: Path, title: str, author: str, keep_distributor: bool = False) -> int:
    """Typeset the book body (curly quotes, justified, hyphenated) with a running head (the title on even
    pages, the author on odd ones) and a page number at the foot of every page; returns the page count.
    keep_distributor: the Gutenberg header first and its footer (license) last, as Gutenberg's PDFs have."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    body = ParagraphStyle("body", fontName="Times-Roman", fontSize=10, leading=12.5, alignment=4,
                          firstLineIndent=4 * mm, hyphenationLang="", embeddedHyphenation=1,
                          uriWasteReduce=0.3)
    head = ParagraphStyle("head", parent=body, fontName="Times-Bold", fontSize=13, alignment=1, spaceAfter=6 * mm)

    def furniture(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Times-Italic", 8)
        canvas.drawCentredString(A5[0] / 2, A5[1] - 10 * mm, title if doc.page % 2 == 0 else author)
        canvas.setFont("Times-Roman", 8)
        canvas.drawCentredString(A5[0] / 2, 8 * mm, str(doc.page))
        canvas.restoreState()

    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, firstLineIndent=0, alignment=0)
    start, end = GUTENBERG_START.search(text), GUTENBERG_END.search(text)
    front = paragraphs(text[:start.end()]) if keep_distributor and start else []
    back = paragraphs(text[end.start():]) if keep_distributor and end else []
    story: list = [Paragraph(html.escape(p), small) for p in front]
    for heading, ps in chapters(text):
        if heading:
            story += [PageBreak(), Paragraph(html.escape(heading), head)]
        story += [Paragraph(_hyphenate(html.escape(curly(p.replace("_", "")), quote=False)), body) for p in ps]
        story.append(Spacer(1, 2 * mm))
    if back:
        story += [PageBreak(), *(Paragraph(html.escape(p), small) for p in back)]
    doc = SimpleDocTemplate(str(path), pagesize=A5, topMargin=18 * mm, bottomMargin=16 * mm,
                            leftMargin=16 * mm, rightMargin=16 * mm, title=title, author=author,
                            invariant=1)  # invariant: no timestamp or random id, the same bytes every run
    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return doc.page


def _hyphenate(p: str) -> str:
    """Soft hyphens in long words, so that the typesetter breaks them at line ends (rendered as `-`)."""
    return re.sub(r"\b([a-z]{4,})([a-z]{4,})\b", lambda m: m.group(1) + "\u00ad" + m.group(2), p)


def render_epub(text: str, path: Path, title: str, author: str, front_matter: list[str] | None = None) -> int:
    """An EPUB 3 with one XHTML document per chapter (stored in spine order); returns the chapter count."""
    parts = chapters(text)
    if front_matter:
        parts.insert(0, ("", front_matter))
    items = []
    for i, (heading, ps) in enumerate(parts, 1):
        h = f"<h2>{html.escape(heading)}</h2>\n" if heading else ""
        body = "\n".join(f"<p>{html.escape(curly(p.replace('_', '')), quote=False)}</p>" for p in ps)
        items.append((f"text/part{i:03d}.xhtml", "<?xml version='1.0' encoding='utf-8'?>\n<html xmlns="
                      f"\"http://www.w3.org/1999/xhtml\"><head><title>{html.escape(title)}</title></head>"
                      f"<body>{h}{body}</body></html>\n"))
    manifest = "".join(f'<item id="p{i}" href="{name}" media-type="application/xhtml+xml"/>'
                       for i, (name, _) in enumerate(items))
    spine = "".join(f'<itemref idref="p{i}"/>' for i in range(len(items)))
    opf = ("<?xml version='1.0' encoding='utf-8'?>\n<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" "
           "unique-identifier=\"id\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
           f"<dc:identifier id=\"id\">urn:ascertain:{html.escape(title)}</dc:identifier>"
           f"<dc:title>{html.escape(title)}</dc:title><dc:creator>{html.escape(author)}</dc:creator>"
           f"<dc:language>en</dc:language></metadata><manifest>{manifest}</manifest><spine>{spine}</spine>"
           "</package>\n")
    container = ("<?xml version='1.0'?>\n<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:"
                 "container\"><rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/"
                 "oebps-package+xml\"/></rootfiles></container>\n")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype", (1980, 1, 1, 0, 0, 0)), "application/epub+zip")
        for name, data in [("META-INF/container.xml", container), ("OEBPS/content.opf", opf),
                           *((f"OEBPS/{n}", d) for n, d in items)]:
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return len(items)


def split_book(text: str) -> tuple[str, str]:
    """Two different books: the first and second half of the body, each in the whole original header and
    footer (the same distributor's license text around unrelated works)."""
    start = GUTENBERG_START.search(text)
    end = GUTENBERG_END.search(text, start.end() if start else 0)
    if not (start and end):
        raise ValueError("needs a text with a Gutenberg header and footer")
    body = text[start.end():end.start()]
    cut = re.compile(r"\r?\n\r?\n").search(body, len(body) // 2).start()
    head, foot = text[:start.end()], text[end.start():]
    return head + body[:cut] + "\n\n" + foot, head + "\n" + body[cut:] + foot


def excerpt_book(text: str, first: int, last: int) -> str:
    """Chapters first..last (1-based, inclusive) of a Gutenberg book, in its whole header and footer."""
    start = GUTENBERG_START.search(text)
    end = GUTENBERG_END.search(text, start.end() if start else 0)
    if not (start and end):
        raise ValueError("needs a text with a Gutenberg header and footer")
    heads = list(CHAPTER.finditer(text, start.end(), end.start()))
    if not 1 <= first <= last <= len(heads):
        raise ValueError(f"chapters {first}..{last} not in 1..{len(heads)}")
    stop = heads[last].start() if last < len(heads) else end.start()
    return text[:start.end()] + "\n\n" + text[heads[first - 1].start():stop] + text[end.start():]
