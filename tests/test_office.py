"""LibreOffice text and PowerPoint as municipalities keep them: an ODT is read with its
heading levels, lists and tables; a presentation is one section per slide, «Lysbilde N: tittel»,
with its notes; a damaged file is refused with one line."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import CorpusError
from ingest.sources import SourceFile, read_sections


def write_odt(path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    body = document.text
    body.addElement(H(outlinelevel=1, text="Arbeidsplan for Nordby"))
    body.addElement(P(text="Planen gjelder 2024 og 2025."))
    body.addElement(H(outlinelevel=2, text="Mål"))
    body.addElement(P(text="Målet er et felles inngangsparti for bibliotek og servicetorg."))
    items = List()
    for text in ("Meråpent bibliotek fra kl. 07.", "Felles skranke."):
        item = ListItem()
        item.addElement(P(text=text))
        items.addElement(item)
    body.addElement(items)
    body.addElement(H(outlinelevel=2, text="Fremdrift"))
    table = Table(name="Faser")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for row in (["Fase", "Periode"], ["Forprosjekt", "januar – april 2024"]):
        tr = TableRow()
        for value in row:
            cell = TableCell()
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    body.addElement(table)
    document.save(str(path))


def write_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "Orientering for kommunestyret"
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Resultater 2024"
    body = slide.placeholders[1].text_frame
    body.text = "Besøket økte med 20 prosent."
    sub = body.add_paragraph()
    sub.text = "Mest på lørdager."
    sub.level = 1
    slide.notes_slide.notes_text_frame.text = "Si at tallene er foreløpige."
    table_slide = deck.slides.add_slide(deck.slide_layouts[5])
    table_slide.shapes.title.text = "Utlån"
    table = table_slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for r, row in enumerate([["Filial", "Utlån"], ["Nordby", "3 870"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    deck.save(str(path))


def sections_of(path: Path) -> list[tuple[str, str]]:
    return [(s.heading, s.text) for s in read_sections(SourceFile(path, path.name, ""))]


def test_odt_keeps_its_heading_levels_lists_and_tables(tmp_path):
    """Headings nest by outline level; list items and a table sit under their own heading."""
    path = tmp_path / "plan.odt"
    write_odt(path)
    assert [
        ("Arbeidsplan for Nordby", "Planen gjelder 2024 og 2025."),
        ("Arbeidsplan for Nordby > Mål",
         "Målet er et felles inngangsparti for bibliotek og servicetorg.\n\n- Meråpent bibliotek fra kl. 07.\n\n- Felles skranke."),
        ("Arbeidsplan for Nordby > Fremdrift", "| Fase | Periode |\n| --- | --- |\n| Forprosjekt | januar – april 2024 |"),
    ] == sections_of(path)


def test_each_slide_is_a_section_titled_by_its_title_with_notes(tmp_path):
    """«Lysbilde N: tittel» under the presentation's title; body text, notes and a table as Markdown."""
    path = tmp_path / "orientering.pptx"
    write_pptx(path)
    assert [
        ("Orientering for kommunestyret > Lysbilde 1: Resultater 2024",
         "Besøket økte med 20 prosent.\n- Mest på lørdager.\n\nNotater: Si at tallene er foreløpige."),
        ("Orientering for kommunestyret > Lysbilde 2: Utlån", "| Filial | Utlån |\n| --- | --- |\n| Nordby | 3 870 |"),
    ] == sections_of(path)


@pytest.mark.parametrize("name, kind", [("plan.odt", "OpenDocument text"), ("orientering.pptx", "PowerPoint presentation")])
def test_a_zip_that_is_not_one_is_refused_with_one_line(tmp_path, name, kind):
    """A damaged ODT or PPTX (not a zip archive) gives one line naming the file and the kind."""
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 this is not the rest of a zip archive")
    with pytest.raises(CorpusError) as caught:
        read_sections(SourceFile(path, name, ""))
    assert f"{path}: not a readable {kind} (BadZipFile); is the file damaged?" == str(caught.value)
