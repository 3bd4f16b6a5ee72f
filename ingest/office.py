"""LibreOffice text documents (.odt) and PowerPoint presentations (.pptx) as the ingest reads
them: an ODT becomes Markdown with its heading levels, lists and tables (then split by heading
like every document); a presentation becomes one section per slide, «Lysbilde N: tittel»,
holding the slide's text, its tables as Markdown tables, and the speaker's notes.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from ingest.errors import CorpusError


def odt_to_markdown(path: Path) -> str:
    """Headings (text:h with their outline level), paragraphs, list items and tables in
    document order."""
    from odf.opendocument import load

    from ingest.sources import check_archive

    check_archive(path, "OpenDocument text")
    try:
        document = load(str(path))
        lines: list[str] = []
        _odt_blocks(document.text, lines)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, OSError) as exc:
        raise CorpusError(f"{path}: not a readable OpenDocument text ({exc.__class__.__name__}); is the file damaged?") from None
    return "\n\n".join(lines)


def _odt_blocks(element, lines: list[str], in_list: bool = False) -> None:
    from odf import teletype

    from ingest.sources import markdown_table

    for node in element.childNodes:
        tag = getattr(node, "qname", (None, None))[1]
        if tag == "h":
            text = " ".join(teletype.extractText(node).split())
            level = int(node.getAttribute("outlinelevel") or 1)
            if text:
                lines.append("#" * min(level, 6) + f" {text}")
        elif tag == "p":
            text = " ".join(teletype.extractText(node).split())
            if text:
                lines.append(f"- {text}" if in_list else text)
        elif tag in ("list", "list-item", "list-header"):
            _odt_blocks(node, lines, in_list=True)
        elif tag == "table":
            rows = [[" ".join(teletype.extractText(cell).split()) for cell in row.childNodes
                     if getattr(cell, "qname", (None, None))[1] == "table-cell"]
                    for row in _table_rows(node)]
            rows = [row for row in rows if any(row)]
            if rows and max(len(r) for r in rows) > 1:
                lines.append(markdown_table(rows))
            elif rows:
                lines.extend(row[0] for row in rows)
        elif tag in ("section", "index-body", "table-of-content"):
            _odt_blocks(node, lines, in_list)


def _table_rows(table) -> list:
    rows = []
    for node in table.childNodes:
        tag = getattr(node, "qname", (None, None))[1]
        if tag == "table-row":
            rows.append(node)
        elif tag in ("table-header-rows", "table-rows", "table-row-group"):
            rows.extend(_table_rows(node))
    return rows


def pptx_sections(path: Path, name: str) -> list:
    """One section per slide with text: path (presentation title, «Lysbilde N: tittel»)."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    from ingest.sources import Section, check_archive

    check_archive(path, "PowerPoint presentation")
    try:
        deck = Presentation(str(path))
        title = (deck.core_properties.title or "").strip() or Path(name).stem
        sections: list[Section] = []
        for number, slide in enumerate(deck.slides, 1):
            heading_shape = slide.shapes.title
            heading = " ".join(heading_shape.text_frame.text.split()) if heading_shape is not None and heading_shape.has_text_frame else ""
            parts = _shape_texts(slide.shapes, skip=heading_shape.shape_id if heading_shape is not None else None)
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                text = "\n".join(line.strip() for line in (notes.text if notes is not None else "").splitlines() if line.strip())
                if text:
                    parts.append(f"Notater: {text}")
            label = f"Lysbilde {number}: {heading}" if heading else f"Lysbilde {number}"
            text = "\n\n".join(parts) or heading
            if text:
                sections.append(Section(name, (title, label), text, len(sections)))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, OSError) as exc:
        raise CorpusError(f"{path}: not a readable PowerPoint presentation ({exc.__class__.__name__}); "
                          "is the file damaged?") from None
    return sections


def _shape_texts(shapes, skip: int | None) -> list[str]:
    """The text of a slide's shapes in their order: a text frame's paragraphs (indented ones as
    list items), a table as a Markdown table, a group's shapes in turn."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    from ingest.sources import markdown_table

    parts: list[str] = []
    for shape in shapes:
        if shape.shape_id == skip:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            parts.extend(_shape_texts(shape.shapes, skip))
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[" ".join(cell.text.split()) for cell in row.cells] for row in shape.table.rows]
            rows = [row for row in rows if any(row)]
            if rows:
                parts.append(markdown_table(rows))
        elif shape.has_text_frame:
            lines = [("- " if p.level else "") + " ".join("".join(r.text for r in p.runs).split())
                     for p in shape.text_frame.paragraphs]
            text = "\n".join(line for line in lines if line.strip("- "))
            if text:
                parts.append(text)
    return parts
