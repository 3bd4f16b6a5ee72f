"""People and tables in spreadsheets: a sheet whose header row names people and roles in
Norwegian becomes participant records like a participant YAML (dates as people write them,
their wording kept), cited by sheet and row; any other sheet is a table document, one
«Kolonne: verdi; …» section per row; bad sheets are refused with one line saying where."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.errors import CorpusError
from ingest.sheets import SheetError, _date, read_workbook

PEOPLE = [
    ["Navn", "ROLLE", "Stilling", "Avdeling", "Kommune", "Fra", "Til", "Merknad"],
    ["Kari Nordmann", "Prosjektleder", "Bibliotekar", "Hovedbiblioteket", "Testby kommune", "mars 2024", "03.2025", None],
    ["Ola Nordmann", "Styringsgruppe", "Rådgiver", None, "Testby kommune", dt.datetime(2024, 1, 15), "høsten 2024",
     "Sluttet da prosjektet ble omorganisert"],
    ["Per Hansen", "Referansegruppe", None, None, None, "2024", None, None],
]
VISITS = [
    ["Filial", "Måned", "Besøk"],
    ["Sentrum", "februar", 5200],
    ["Nordby", "mars", 4117],
]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


def write_ods(path: Path, sheets: dict[str, list[list]]) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for title, rows in sheets.items():
        table = Table(name=title)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text="" if value is None else str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        document.spreadsheet.addElement(table)
    document.save(str(path))


@pytest.mark.parametrize("written, end, expected", [
    ("mars 2024", False, "2024-03"), ("03.2024", False, "2024-03"), ("1.3.2024", False, "2024-03"),
    ("2024", False, "2024"), ("høsten 2022", False, "2022-08"), ("høsten 2022", True, "2022-12"),
    ("Sept. 2023", False, "2023-09"), ("2024-05-02", False, "2024-05"), (dt.datetime(2023, 6, 1), False, "2023-06"),
    ("snart", False, None), ("13.2024", False, None),
])
def test_dates_as_people_write_them(written, end, expected):
    """Month names, numeric forms, years, seasons and date cells become YYYY or YYYY-MM; nonsense is None."""
    assert expected == _date(written, end=end, notes=[])


def test_participant_sheet_becomes_records_like_a_participant_yaml(tmp_path):
    """Headers in any case map to the record's fields; dates become start/end with the wording kept as period;
    a season is noted; each record is cited by sheet and row; the other sheet is a table document."""
    path = tmp_path / "folk.xlsx"
    write_xlsx(path, {"Deltakere": PEOPLE, "Besøk": VISITS})
    book = read_workbook(path, "folk.xlsx")
    kari, ola, per = book.people
    assert ("Kari Nordmann", "prosjektleder", "Bibliotekar", "Hovedbiblioteket", "Testby kommune") == (
        kari.name, kari.role, kari.title, kari.unit, kari.organisation)
    assert ("mars 2024 – 03.2025", "2024-03", "2025-03") == (kari.period, kari.start, kari.end)
    assert ("Deltakere > rad 2", "folk.xlsx", "folk-xlsx-deltakere-2") == (kari.section, kari.document, kari.id)
    assert ("2024-01", "2024-12", "«høsten 2024» er lest som august–desember 2024") == (ola.start, ola.end, ola.period_note)
    assert "Sluttet da prosjektet ble omorganisert" == ola.note
    assert ("fra 2024", "2024", None) == (per.period, per.start, per.end)
    assert ("2024-01", "2025-03") == (book.period.start, book.period.end)
    assert [(("Besøk", "rad 2"), "Filial: Sentrum; Måned: februar; Besøk: 5200"),
            (("Besøk", "rad 3"), "Filial: Nordby; Måned: mars; Besøk: 4117")] == [(s.path, s.text) for s in book.sections]


def test_ods_with_a_period_column(tmp_path):
    """An OpenDocument sheet with «Periode» («mai 2023 – pågår», «2022–2024») reads the same way."""
    path = tmp_path / "folk.ods"
    write_ods(path, {"Ark1": [["Fullt navn", "Funksjon", "Periode"], ["Kari Nordmann", "leder", "mai 2023 – pågår"],
                              ["Ola Nordmann", "medlem", "2022–2024"]], "Tall": VISITS})
    book = read_workbook(path, "folk.ods")
    assert [("Kari Nordmann", "mai 2023 – pågår", "2023-05", None, "Ark1 > rad 2"),
            ("Ola Nordmann", "2022–2024", "2022", "2024", "Ark1 > rad 3")] == [
        (p.name, p.period, p.start, p.end, p.section) for p in book.people]
    assert "Filial: Nordby; Måned: mars; Besøk: 4117" == book.sections[1].text


def test_csv_in_a_legacy_encoding_is_read_with_a_note(tmp_path):
    """A semicolon CSV saved by Excel in Windows-1252 is read, and a note says so."""
    path = tmp_path / "besøk.csv"
    path.write_bytes("Filial;Måned;Besøk\nNordby;mars;4117\nSkåre;april;980\n".encode("cp1252"))
    book = read_workbook(path, "besøk.csv")
    assert ("besøk.csv: not UTF-8; read as Windows-1252",) == book.notes
    assert [(("besøk", "rad 3"), "Filial: Skåre; Måned: april; Besøk: 980")] == [(s.path, s.text) for s in book.sections[1:]]


def _encrypted_xlsx(path: Path) -> None:
    """What Office writes for a password-protected workbook: an OLE container with an EncryptionInfo stream."""
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(512))


@pytest.mark.parametrize("name, make, problem, message", [
    ("folk.xlsx", lambda p: write_xlsx(p, {"Deltakere": [PEOPLE[0], ["Kari Nordmann", "leder", None, None, None, "snart"]]}),
     "date", "sheet 'Deltakere', row 2, column F (Fra): cannot read the date 'snart'; write it like 'mars 2024'"),
    ("folk.xlsx", lambda p: write_xlsx(p, {"Deltakere": [PEOPLE[0], PEOPLE[1], [None, "leder"]]}),
     "name", "sheet 'Deltakere', row 3, column A (Navn): the name is missing; fill it in or delete the row"),
    ("folk.csv", lambda p: p.write_text("Kari Nordmann;leder;1.3.2024\nOla Nordmann;medlem;2024\n"),
     "header", "row 1, column C: the sheet has no header row (the first row holds the value '1.3.2024'); add a row"),
    ("folk.xlsx", _encrypted_xlsx, "encrypted", "the Excel workbook is password-protected; save a copy without the password"),
    ("folk.ods", lambda p: p.write_bytes(b"PK\x03\x04 broken"), None,
     "not a readable OpenDocument spreadsheet (BadZipFile); is the file damaged?"),
], ids=["date", "name", "no-header", "encrypted", "corrupt"])
def test_bad_sheets_are_refused_with_one_line_saying_where(tmp_path, name, make, problem, message):
    """Each problem is one line naming the file (and sheet, row and column) and what to fix."""
    path = tmp_path / name
    make(path)
    with pytest.raises(CorpusError) as caught:
        read_workbook(path, name)
    assert f"{path}: {message}" == str(caught.value)[:len(f"{path}: {message}")]
    assert "\n" not in str(caught.value)
    assert problem == getattr(caught.value, "problem", None) if isinstance(caught.value, SheetError) else problem is None


def test_ingest_reads_people_and_table_rows_and_cites_the_row(tmp_path, model_dir):
    """Ingested, the sheet's people are participant records beside the YAML's, and a question about a
    number in a CSV finds the row that holds it first, named by sheet and row."""
    from assistant.service import Assistant
    from ingest.index import load_current
    from ingest.pipeline import ingest
    from tests.conftest import make_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rapport.md").write_text("# Rapport\n\nBiblioteket i Testby har to filialer, Sentrum og Nordby.\n")
    write_xlsx(corpus / "folk.xlsx", {"Deltakere": PEOPLE})
    (corpus / "besok.csv").write_bytes("Filial;Måned;Besøk\nSentrum;februar;5200\nNordby;mars;4117\n".encode("cp1252"))
    settings = make_settings(corpus, tmp_path / "index")
    summary = ingest(settings, progress=False)
    assert (2, 3, ("besok.csv: not UTF-8; read as Windows-1252",)) == (summary.documents, summary.participants, summary.notes)
    _, generation = load_current(settings.index_dir)
    assert {("folk.xlsx", "Deltakere > rad 3")} == {(c.document, c.section) for c in generation.chunks
                                                    if c.kind == "participant" and "Ola" in c.text}
    assistant = Assistant(settings)
    best = assistant.ranking("Hvor mange besøkte filialen Nordby i mars?").candidates[0]
    chunk = assistant.generation.chunks[best.position]
    assert ("besok.csv", "besok > rad 3", "Filial: Nordby; Måned: mars; Besøk: 4117") == (
        chunk.document, chunk.section, chunk.text[best.start:best.end])
