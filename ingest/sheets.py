"""Spreadsheets (.xlsx, .ods, .csv) as the ingest reads them: a sheet whose header row names
people and roles in Norwegian (Navn, Rolle, Stilling, …) becomes participant records, exactly
like a participant YAML file, each cited by its sheet and row; any other sheet becomes a table
document, one section per row («Kolonne: verdi; …») under the sheet's name.

Every problem is one line naming the file, sheet, row and column, and what to fix.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ingest.errors import CorpusError
from ingest.participants import Participant, Period, month_index

SHEET_SUFFIXES = {".xlsx", ".ods", ".csv"}
# The first bytes of an OLE compound file: an encrypted .xlsx (Office wraps the encrypted
# package in one) or an old binary .xls, neither of which openpyxl reads.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")

# Header names (lower case, punctuation dropped) -> the participant field they fill.
HEADERS = {
    "name": {"navn", "fullt navn", "deltaker", "deltakar", "person", "medlem", "name"},
    "role": {"rolle", "rolle i prosjektet", "prosjektrolle", "funksjon", "oppgave", "role"},
    "title": {"stilling", "stillingstittel", "tittel", "title"},
    "unit": {"enhet", "avdeling", "seksjon", "virksomhet", "unit"},
    "organisation": {"organisasjon", "kommune", "arbeidsgiver", "institusjon", "etat", "organisation"},
    "start": {"fra", "fra dato", "fom", "fra og med", "start", "startdato", "oppstart", "begynte"},
    "end": {"til", "til dato", "tom", "til og med", "slutt", "sluttdato", "avsluttet", "sluttet"},
    "period": {"periode", "tidsrom", "tidsperiode"},
    "note": {"merknad", "merknader", "kommentar", "notat", "note"},
}
_FIELD = {variant: field for field, variants in HEADERS.items() for variant in variants}

MONTHS = {"januar": 1, "februar": 2, "mars": 3, "april": 4, "mai": 5, "juni": 6, "juli": 7, "august": 8,
          "september": 9, "oktober": 10, "november": 11, "desember": 12}
_MONTH = {**MONTHS, **{name[:3]: n for name, n in MONTHS.items()}, "sept": 9}
# A season as Norwegian reports use it: the months it is read as (kept in period_note).
SEASONS = {"våren": (1, 6), "vår": (1, 6), "sommeren": (6, 8), "sommer": (6, 8),
           "høsten": (8, 12), "høst": (8, 12), "vinteren": (1, 3), "vinter": (1, 3)}
_MONTH_NAMES = list(MONTHS)
_OPEN_END = {"", "pågår", "dd", "nå", "i dag", "fortsatt", "løpende"}
# Splits «mars 2024 – juni 2025», «2022-2024», «mai 2023 til juni 2024»; never «2024-03».
_RANGE = re.compile(r"\s*(?:[–—]|\s-\s|\btil\b|\bt\.?o\.?m\.?|(?<=\d{4})-(?=\D|\d{4}\b))\s*")


class SheetError(CorpusError):
    """A spreadsheet that cannot be used. ``problem`` says what kind, so the UI can say it in
    Norwegian: "encrypted", "damaged", "header" (no header row), "date" (``value`` unreadable),
    "name" (a row without a name); ``sheet``, ``row`` and ``column`` (a letter) say where."""

    def __init__(self, message: str, problem: str, *, sheet: str | None = None, row: int | None = None,
                 column: str | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.problem, self.sheet, self.row, self.column, self.value = problem, sheet, row, column, value


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[tuple[int, list[object]]]  # (row number as the program shows it, cell values)


@dataclass(frozen=True)
class Workbook:
    """What one spreadsheet file holds: participant records, table sections, and notes on how
    it was read (a CSV in a legacy encoding)."""

    people: list[Participant]
    period: Period | None  # the span the records' dates cover, None without dates
    sections: list  # list[ingest.sources.Section]
    notes: tuple[str, ...] = ()


def is_sheet(path: Path) -> bool:
    return path.suffix.lower() in SHEET_SUFFIXES


def read_workbook(path: Path, name: str) -> Workbook:
    """Read ``path`` (cited as ``name``) into participant records and table sections."""
    from ingest.sources import Section

    sheets, notes = _load(path)
    people: list[Participant] = []
    sections: list[Section] = []
    for sheet in sheets:
        rows = [(n, cells) for n, cells in sheet.rows if any(_text(c) for c in cells)]
        if not rows:
            continue
        header_row, header = rows[0]
        labels = [_text(c) for c in header]
        _check_header(path, sheet, header_row, header, labels)
        columns = {_FIELD.get(_key(label)): i for i, label in reversed(list(enumerate(labels))) if label}
        if "name" in columns and ({"role", "title"} & columns.keys()):
            people.extend(_participants(path, name, sheet, rows[1:], columns, labels))
            continue
        for number, cells in rows[1:]:
            pairs = [f"{label}: {_text(cell)}" for label, cell in zip(labels, cells) if label and _text(cell)]
            extra = [_text(cell) for label, cell in zip(labels, cells) if not label and _text(cell)]
            text = "; ".join(pairs + extra)
            if text:
                sections.append(Section(name, (sheet.name, f"rad {number}"), text, len(sections)))
    if not people and not sections:
        raise CorpusError(f"{path}: holds no rows below a header row")
    return Workbook(people, _period(people), sections, notes)


# --- reading the cells ------------------------------------------------------------------------------


def _load(path: Path) -> tuple[list[Sheet], tuple[str, ...]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path)
    head = path.read_bytes()[:8]
    kind = "Excel workbook" if suffix == ".xlsx" else "OpenDocument spreadsheet"
    if head == _OLE_MAGIC:
        if _ENCRYPTION_INFO in path.read_bytes() or suffix != ".xlsx":
            raise SheetError(f"{path}: the {kind} is password-protected; save a copy without the password and add that",
                             "encrypted")
        raise SheetError(f"{path}: an old binary Excel file (.xls) named .xlsx; save it as .xlsx and add that", "damaged")
    from ingest.sources import check_archive

    check_archive(path, kind)
    try:
        return (_xlsx(path) if suffix == ".xlsx" else _ods(path)), ()
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, AttributeError) as exc:
        raise SheetError(f"{path}: not a readable {kind} ({exc.__class__.__name__}); is the file damaged?",
                         "damaged") from None


def _xlsx(path: Path) -> list[Sheet]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise ValueError(str(exc)) from None
    try:
        return [Sheet(ws.title, [(n, list(row)) for n, row in enumerate(ws.iter_rows(min_row=1, values_only=True), 1)])
                for ws in book.worksheets]
    finally:
        book.close()


def _ods(path: Path) -> list[Sheet]:
    from odf import teletype
    from odf.opendocument import load
    from odf.table import CoveredTableCell, Table, TableCell, TableRow

    document = load(str(path))
    sheets = []
    for table in document.spreadsheet.getElementsByType(Table):
        rows, number = [], 0
        for row in table.getElementsByType(TableRow):
            cells: list[object] = []
            for cell in row.childNodes:
                if cell.qname not in (TableCell().qname, CoveredTableCell().qname):
                    continue
                kind = cell.getAttribute("valuetype")
                if kind in ("float", "percentage", "currency"):
                    value: object = float(cell.getAttribute("value"))
                elif kind == "date":
                    value = dt.datetime.fromisoformat(cell.getAttribute("datevalue"))
                else:
                    value = "\n".join(teletype.extractText(p) for p in cell.childNodes if p.qname[1] == "p")
                cells.extend([value] * int(cell.getAttribute("numbercolumnsrepeated") or 1))
            while cells and not _text(cells[-1]):  # a row is padded with empty cells to the sheet's width
                cells.pop()
            repeat = int(row.getAttribute("numberrowsrepeated") or 1)
            for _ in range(repeat if cells else 0):
                number += 1
                rows.append((number, cells))
            number += 0 if cells else repeat
        sheets.append(Sheet(table.getAttribute("name"), rows))
    return sheets


def _csv(path: Path) -> tuple[list[Sheet], tuple[str, ...]]:
    """A CSV is one sheet named after the file; UTF-8 first, then Windows-1252 (what Excel
    writes in Norway), with a note saying so."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise CorpusError(f"{path}: looks like a binary file, not a CSV")
    notes: tuple[str, ...] = ()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            encoding, text = "latin-1", data.decode("latin-1")
        notes = (f"{path.name}: not UTF-8; read as {'Windows-1252' if encoding == 'cp1252' else 'Latin-1'}",)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [(n, list(row)) for n, row in enumerate(csv.reader(io.StringIO(text), dialect), 1)]
    return [Sheet(path.stem, rows)], notes


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}".replace(".", ",")
    return " ".join(str(value).split())


def _key(label: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", label.casefold()).split())


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _where(path: Path, sheet: Sheet, row: int, column: int | None = None, label: str = "") -> str:
    place = f"{path}: " + ("" if path.suffix.lower() == ".csv" else f"sheet '{sheet.name}', ") + f"row {row}"
    return place + (f", column {_letter(column)}" + (f" ({label})" if label else "") if column is not None else "")


def _check_header(path: Path, sheet: Sheet, number: int, cells: list[object], labels: list[str]) -> None:
    """The first row with text must name the columns: a date or a number (other than a year,
    a common column name in tables of figures) there means the sheet starts with data."""
    for i, (cell, label) in enumerate(zip(cells, labels)):
        year = re.fullmatch(r"(19|20)\d\d", label) is not None
        if label and not year and (isinstance(cell, (int, float, dt.date)) or re.fullmatch(r"[\d\s.,:/%-]+", label)):
            raise SheetError(
                f"{_where(path, sheet, number, i)}: the sheet has no header row (the first row holds the value "
                f"'{label}'); add a row above the data naming each column (e.g. Navn, Rolle, Fra, Til)",
                "header", sheet=sheet.name, row=number, column=_letter(i), value=label)


# --- participant records ---------------------------------------------------------------------------------


def _participants(path: Path, name: str, sheet: Sheet, rows, columns: dict, labels: list[str]) -> list[Participant]:
    people = []
    for number, cells in rows:
        def cell(field: str) -> str:
            i = columns.get(field)
            return _text(cells[i]) if i is not None and i < len(cells) else ""

        person = cell("name")
        if not person:
            i = columns["name"]
            raise SheetError(f"{_where(path, sheet, number, i, labels[i])}: the name is missing; fill it in or "
                             "delete the row", "name", sheet=sheet.name, row=number, column=_letter(i))
        start = end = None
        notes: list[str] = []
        wording = cell("period")
        if wording:
            start, end = _span(wording, path, sheet, number, columns["period"], labels, notes)
        for field in ("start", "end"):
            raw = cells[columns[field]] if field in columns and columns[field] < len(cells) else None
            if _text(raw):
                value = _date(raw, end=field == "end", notes=notes)
                if value is None:
                    _bad_date(path, sheet, number, columns[field], labels, _text(raw))
                start, end = (value, end) if field == "start" else (start, value)
        if not wording and (cell("start") or cell("end")):
            wording = (f"{cell('start')} – {cell('end')}" if cell("start") and cell("end") else
                       f"fra {cell('start')}" if cell("start") else f"til {cell('end')}")
        role = cell("role") or cell("title") or "deltaker"
        record = {
            "id": _slug(f"{name}-{sheet.name}-{number}"), "name": person, "role": role,
            "title": cell("title") or None, "unit": cell("unit") or None, "organisation": cell("organisation") or None,
            "period": wording or None, "start": start, "end": end, "period_note": "; ".join(notes) or None,
            "note": cell("note") or None, "section": f"{sheet.name} > rad {number}", "document": name,
        }
        try:
            people.append(Participant(**record))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise SheetError(f"{_where(path, sheet, number)}: field '{err['loc'][0]}': {err['msg']}", "field",
                             sheet=sheet.name, row=number) from None
        if start and end and month_index(start, end=False) > month_index(end, end=True):
            i = columns.get("end", columns.get("period"))
            raise SheetError(f"{_where(path, sheet, number, i, labels[i])}: the end {end} is before the start {start}; "
                             "correct the dates", "date", sheet=sheet.name, row=number, column=_letter(i))
    period = _period(people)
    return [p.model_copy(update={"project": period}) for p in people]


def _bad_date(path: Path, sheet: Sheet, number: int, column: int, labels: list[str], value: str):
    raise SheetError(
        f"{_where(path, sheet, number, column, labels[column])}: cannot read the date '{value}'; write it like "
        "'mars 2024', '03.2024', '1.3.2024', '2024' or 'høsten 2022'",
        "date", sheet=sheet.name, row=number, column=_letter(column), value=value)


def _span(wording: str, path: Path, sheet: Sheet, number: int, column: int, labels: list[str],
          notes: list[str]) -> tuple[str | None, str | None]:
    """A «Periode» cell as (start, end): «mars 2024 – juni 2025», «2022–2024», «fra mars 2024»,
    «til 2023», or one date («høsten 2022», «2024») that is both start and end."""
    text = wording.strip().casefold()
    one = _date(text, end=False, notes=[])
    if one is not None:
        return one, _date(text, end=True, notes=notes)
    if m := re.fullmatch(r"(?:fra|f\.?o\.?m\.?)\s+(.+)", text):
        start = _date(m.group(1), end=False, notes=notes)
        if start is None:
            _bad_date(path, sheet, number, column, labels, wording)
        return start, None
    if m := re.fullmatch(r"(?:til|t\.?o\.?m\.?)\s+(.+)", text):
        end = _date(m.group(1), end=True, notes=notes)
        if end is None:
            _bad_date(path, sheet, number, column, labels, wording)
        return None, end
    parts = _RANGE.split(text, maxsplit=1)
    if len(parts) == 2:
        first, last = parts[0].removeprefix("fra ").strip(), parts[1].strip()
        start = _date(first, end=False, notes=notes)
        end = None if last in _OPEN_END else _date(last, end=True, notes=notes)
        if start is not None and (end is not None or last in _OPEN_END):
            return start, end
    _bad_date(path, sheet, number, column, labels, wording)


def _date(value: object, *, end: bool, notes: list[str]) -> str | None:
    """«mars 2024», «03.2024», «1.3.2024», «2024-03», «2024», «høsten 2022» or a date cell as
    YYYY or YYYY-MM; a season's months are noted. None when it cannot be read."""
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value) if 1900 <= value <= 2100 else None
    text = " ".join(str(value).casefold().replace("ca.", "").split()).strip(" .")
    year = month = None
    if m := re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-\d{1,2})?", text):
        year, month = m.group(1), m.group(2)
    elif m := re.fullmatch(r"\d{1,2}\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})", text):
        month, year = m.group(1), m.group(2)
    elif m := re.fullmatch(r"(\d{1,2})\s?[./]\s?(\d{4})", text):
        month, year = m.group(1), m.group(2)
    elif m := re.fullmatch(r"([a-zæøå]+)\.?\s+(\d{4})", text):
        word, year = m.group(1), m.group(2)
        if word in _MONTH:
            month = str(_MONTH[word])
        elif word in SEASONS:
            first, last = SEASONS[word]
            note = f"«{text}» er lest som {_MONTH_NAMES[first - 1]}–{_MONTH_NAMES[last - 1]} {year}"
            if note not in notes:
                notes.append(note)
            month = str(last if end else first)
        else:
            return None
    else:
        return None
    if len(year) == 2:
        year = f"20{year}"
    if not 1900 <= int(year) <= 2100 or (month is not None and not 1 <= int(month) <= 12):
        return None
    return f"{year}-{int(month):02d}" if month else year


def _period(people: list[Participant]) -> Period | None:
    """The span the records' dates cover: a sheet has no project period of its own."""
    starts = [d for p in people for d in (p.start, p.end) if d]
    if not starts:
        return None
    first = min(starts, key=lambda d: month_index(d, end=False))
    last = max(starts, key=lambda d: month_index(d, end=True))
    return Period(start=first, end=last)


def _slug(text: str) -> str:
    text = text.casefold().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "rad"
