"""Read a PDF into blocks of text, each knowing its page and the headings above it,
so that a citation can name the page («side 3»).

pypdf has no table extraction, so tables are found in its layout-mode text: two or more
lines whose cells (runs of text set apart by two or more spaces) stand in the same
columns become a Markdown table. Headings are lines set in a larger font than the body
text. Lines of a paragraph that the PDF wrapped are joined again, and a header or footer
repeated on the pages is dropped.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import CorpusError
from ingest.settings import Settings

# A heading is set at least this much larger than the body text (the size most characters
# have): Word's default Heading 3 is 12 pt over 11 pt text, as are the smallest headings of
# the guide in tests/data/tillegg (18/14/12 pt over 11 pt).
HEADING_SCALE = 1.05
MAX_HEADING_CHARS = 150
# Cells of a table row stand two or more spaces apart in layout-mode text; prose has one.
_CELL = re.compile(r"\S+(?: \S+)*")
_LIST_ITEM = re.compile(r"^(?:[•▪◦·\-–*]|\d+[.)])\s")
_LIST_MARK = re.compile(r"^(?:[•▪◦·\-–*]|\d+[.)]|[a-z][.)])$")  # Word sets a list's mark a tab before its text
# Cells longer than this on average are prose side by side (a page in two columns), not a
# table; such a page is read in pypdf's plain mode, which keeps a column's lines together.
MAX_CELL_CHARS = 40


@dataclass(frozen=True)
class PdfBlock:
    """Text under one run of headings on one page."""

    headings: tuple[str, ...]
    page: int
    text: str


@dataclass(frozen=True)
class PdfText:
    title: str | None
    blocks: list[PdfBlock]


@dataclass(frozen=True)
class _Page:
    number: int
    lines: list[str]  # layout-mode lines, indentation kept (it places a table's columns)
    headings: dict[str, int]  # a heading line's text -> its level (1 = largest font)


def read_pdf(path: Path, settings: Settings) -> PdfText:
    """The PDF's title (from its metadata) and its text blocks in reading order, scanned pages
    read by OCR as ``settings`` say; raise CorpusError with one line for a damaged or encrypted
    PDF, or one with no text even by OCR."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # its warnings would repeat our one-line error
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            _decrypt(reader, path, DependencyError)
        title = reader.metadata.title if reader.metadata else None
        pages = _read_pages(reader)
        scanned = {page.number: reader.pages[page.number - 1] for page in pages if not any(l.strip() for l in page.lines)}
        if scanned:
            pages = _with_ocr(path, pages, scanned, settings)
    except CorpusError:
        raise
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise CorpusError(f"{path}: not a readable PDF ({exc.__class__.__name__}); is the file damaged?") from None
    if not any(line.strip() for page in pages for line in page.lines):
        raise CorpusError(f"{path}: holds no text, not even by OCR of its pages")
    return PdfText(title=(title or "").strip() or None, blocks=_blocks(_drop_running_lines(pages)))


def _with_ocr(path: Path, pages: list[_Page], scanned: dict, settings: Settings) -> list[_Page]:
    """Pages without a text layer read by OCR (ingest.ocr); a PDF that also has text pages keeps
    them when no OCR engine is installed."""
    from ingest.ocr import OcrUnavailable, ocr_pages

    try:
        texts = ocr_pages(path, scanned, settings)
    except OcrUnavailable:
        if len(scanned) == len(pages):
            raise
        return pages
    return [_Page(p.number, texts[p.number].splitlines(), {}) if p.number in texts else p for p in pages]


def _decrypt(reader, path: Path, dependency_error: type[Exception]) -> None:
    """Open a PDF that is encrypted without a password to open it (only to edit or print);
    one that needs a password is refused."""
    try:
        opened = reader.decrypt("")
    except dependency_error:  # AES without the optional 'cryptography' package
        opened = False
    if not opened:
        raise CorpusError(f"{path}: the PDF is encrypted (password-protected); save a copy without the password and add that")


def _read_pages(reader) -> list[_Page]:
    fragments_per_page = []
    chars_by_size: Counter[float] = Counter()
    pages = []
    for number, page in enumerate(reader.pages, 1):
        fragments: list[tuple[str, float]] = []

        def visit(text, cm, tm, font, size, fragments=fragments):
            text = " ".join(text.split())
            if text:
                scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]) or 1.0
                fragments.append((text, round(size * scale * 2) / 2))

        page.extract_text(visitor_text=visit)
        for text, size in fragments:
            chars_by_size[size] += len(text)
        fragments_per_page.append(fragments)
        pages.append((number, _layout_lines(page)))
    body = chars_by_size.most_common(1)[0][0] if chars_by_size else 0.0
    heading_sizes = sorted({s for s in chars_by_size if s >= body * HEADING_SCALE}, reverse=True)
    result = []
    for (number, lines), fragments in zip(pages, fragments_per_page):
        headings = {
            text: heading_sizes.index(size) + 1
            for text, size in fragments
            if size in heading_sizes and len(text) <= MAX_HEADING_CHARS and re.search(r"[^\W\d_]", text)
        }
        result.append(_Page(number, lines, headings))
    return result


def _layout_lines(page) -> list[str]:
    try:
        lines = [line.rstrip() for line in (page.extract_text(extraction_mode="layout") or "").splitlines()]
    except Exception:  # layout mode is young and trips on some fonts; the plain text still reads
        lines = []
    text = [line for line in lines if line.strip()]
    side_by_side = [line for line in text if _is_prose_row(_cells(line))]
    if not text or len(side_by_side) >= 0.3 * len(text):
        lines = [line.rstrip() for line in (page.extract_text() or "").splitlines()]
    return lines


def _is_prose_row(cells: list[tuple[int, int, str]]) -> bool:
    return len(cells) >= 2 and sum(len(text) for _, _, text in cells) / len(cells) > MAX_CELL_CHARS


def _edge_lines(lines: list[str], n: int = 2) -> list[str]:
    text = [line for line in lines if line.strip()]
    return text[:n] + text[-n:]


def _running_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()))


def _drop_running_lines(pages: list[_Page]) -> list[_Page]:
    """Without a header or footer that repeats (page numbers aside) at the top or bottom of
    most pages: «side 2 av 3» is not part of the text."""
    if len(pages) < 2:
        return pages
    seen = Counter(key for page in pages for key in {_running_key(line) for line in _edge_lines(page.lines)})
    running = {key for key, n in seen.items() if n >= max(2, (len(pages) + 1) // 2)}
    result = []
    for page in pages:
        edges = set(_edge_lines(page.lines))
        lines = [line for line in page.lines if not (line in edges and _running_key(line) in running)]
        result.append(_Page(page.number, lines, page.headings))
    return result


def _blocks(pages: list[_Page]) -> list[PdfBlock]:
    """Walk the pages in order, keeping the heading path; text is cut into a block at
    every heading and every page break."""
    from ingest.sources import markdown_table

    blocks: list[PdfBlock] = []
    stack: list[tuple[int, str]] = []
    for page in pages:
        items: list[str | None] = []  # a line of text, a Markdown table, or None for a paragraph break
        after_heading = False

        def flush() -> None:
            text = _reflow(items)
            if text:
                blocks.append(PdfBlock(tuple(h for _, h in stack), page.number, text))
            items.clear()

        i = 0
        while i < len(page.lines):
            line = " ".join(page.lines[i].split())
            level = page.headings.get(line)
            if not line:
                items.append(None)
                i += 1
            elif level is not None:
                flush()
                if after_heading and stack and stack[-1][0] == level:  # a heading wrapped over two lines
                    stack[-1] = (level, f"{stack[-1][1]} {line}")
                else:
                    stack = [h for h in stack if h[0] < level] + [(level, line)]
                after_heading = True
                i += 1
            else:
                after_heading = False
                rows, i_next = _table_at(page.lines, i)
                if rows:
                    items.extend([None, markdown_table(rows), None])
                    i = i_next
                else:
                    items.append(line)
                    i += 1
        flush()
    return blocks


def _cells(line: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _CELL.finditer(line)]


def _table_at(lines: list[str], start: int) -> tuple[list[list[str]], int]:
    """The table that begins at ``lines[start]`` (its rows of cells and the index after it),
    or no rows. Rows may stand a blank line apart; every column must share a stretch of
    the line across all rows, whether the cells are left, right or centre aligned."""
    first = _cells(lines[start])
    if len(first) < 2 or _is_prose_row(first):
        return [], start
    rows = [first]
    spans = [(s, e) for s, e, _ in first]  # the stretch each column shares across rows so far
    i = start + 1
    end = i
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            if i - end > 1:
                break
            continue
        cells = _cells(lines[i])
        if len(cells) != len(first) or _is_prose_row(cells):
            break
        shared = [(max(s, cs), min(e, ce)) for (s, e), (cs, ce, _) in zip(spans, cells)]
        if any(s >= e for s, e in shared):
            break
        rows.append(cells)
        spans = shared
        i += 1
        end = i
    if len(rows) < 2 or (len(first) == 2 and all(_LIST_MARK.match(row[0][2]) for row in rows)):  # a list
        return [], start
    return [[text for _, _, text in row] for row in rows], end


def _reflow(items: list[str | None]) -> str:
    """Paragraphs as text: a line the PDF wrapped (the one before it does not end a
    sentence and it goes on in lower case) is joined to the one before."""
    paragraphs: list[list[str]] = [[]]
    for item in items:
        if item is None:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        lines = paragraphs[-1]
        if (lines and not lines[-1].startswith("|") and not item.startswith("|")
                and not lines[-1].endswith((".", "!", "?", ":", ";")) and item[0].islower()
                and not _LIST_ITEM.match(item)):
            lines[-1] = f"{lines[-1]} {item}"
        else:
            lines.append(item)
    return "\n\n".join("\n".join(lines) for lines in paragraphs if lines).strip()
