"""Adding and removing material from the page: check one uploaded file with the same
readers ``python -m ingest`` uses, copy it into the corpus folder under a safe name,
ingest, and swap the new generation in (:mod:`ui.live`); list what the index holds.

Nothing from the client is trusted but the bytes: the name is reduced to a sanitised
base name, and a name already used by a different file is refused (remove the old one
first) rather than overwritten or renamed. A file is checked before it is copied into
the corpus folder, and removed again if the ingest fails, so a refused file leaves no
trace. No Gradio here; ui/library_tab.py is the page around it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from ingest.errors import AssistantError, CorpusError, IndexBusy
from ingest.index import Manifest
from ingest.ocr import OcrUnavailable
from ingest.participants import Participant, ParticipantFileError
from ingest.settings import Settings
from ingest.sheets import SHEET_SUFFIXES, SheetError
from ingest.sources import SUPPORTED, SourceFile, list_corpus, read_participants, read_sections, read_sheets
from ui.live import LiveAssistant

log = logging.getLogger(__name__)

# The limit: a 20 MB PDF is a few hundred pages, more than one upload should hold.
MAX_BYTES = 20 * 1024 * 1024
MAX_NAME_CHARS = 120
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Every kind ``python -m ingest`` reads, with the name the documents table shows for it.
KINDS = {
    ".md": "Markdown", ".markdown": "Markdown", ".txt": "Tekst", ".html": "HTML", ".htm": "HTML",
    ".pdf": "PDF", ".docx": "Word", ".odt": "LibreOffice-tekst", ".pptx": "PowerPoint",
    ".xlsx": "Regneark (Excel)", ".ods": "Regneark (LibreOffice)", ".csv": "Regneark (CSV)",
    ".yaml": "Deltakere (YAML)", ".yml": "Deltakere (YAML)",
}
BUSY = ("En annen innlesing av materialet pågår nå (fra kommandolinjen eller en annen app-server). "
        "Prøv igjen når den er ferdig.")
ACCEPTED = ("Markdown (.md), tekst (.txt), HTML, PDF (også skannet), Word (.docx), LibreOffice-tekst (.odt), "
            "PowerPoint (.pptx), regneark (.xlsx, .ods, .csv) eller en deltakerfil (.yaml)")
TEXT_KINDS = {".md", ".markdown", ".txt", ".html", ".htm", ".yaml", ".yml"}  # must be UTF-8 text
# Zip archives by format; a file that is not one is damaged (or misnamed) ...
ZIP_KINDS = {".docx": "et Word-dokument", ".odt": "et LibreOffice-dokument", ".pptx": "en PowerPoint-presentasjon",
             ".xlsx": "et Excel-regneark", ".ods": "et LibreOffice-regneark"}
# ... except an OLE file named .xlsx: a password-protected workbook (or an old .xls), which the
# sheet reader recognises and names.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# How each kind is named when it cannot be read: «<X> «navn» kan ikke leses …».
READ_AS = {".docx": "Word-dokumentet", ".odt": "LibreOffice-dokumentet", ".pptx": "PowerPoint-presentasjonen"}
DOCUMENT_COLUMNS = ["Navn", "Type", "Avsnitt", "Lagt til"]


class Refused(Exception):
    """A file or a removal that is not accepted; ``str()`` is the Norwegian sentence to show."""


@dataclass(frozen=True)
class Outcome:
    """What became of one uploaded file (or a removal), as ``/add_document`` reports it."""

    status: str  # "ok" | "error"
    document: str
    message: str

    def contract(self) -> dict:
        return {"status": self.status, "document": self.document, "message": self.message}


# --- who may change the material ---------------------------------------------------------


def closed_reason(settings: Settings, username: str | None = None) -> str | None:
    """Why uploads and removals are closed, in Norwegian, or None if they are open.

    On loopback the page is only reachable from this machine: open. Beyond loopback
    they need the login (``ASSISTANT_AUTH_USER``/``ASSISTANT_AUTH_PASSWORD``).
    """
    if settings.chroma_host:
        # Each app server over a shared Chroma index has its own (often empty) material folder;
        # an ingest from here would publish that folder as the whole index.
        return ("Denne appen er én av flere over en felles Chroma-server, så materiale legges til av den som "
                "drifter den: legg filene i materialmappen til innlesingsjobben og kjør python -m ingest.")
    has_auth = bool(settings.auth_user and settings.auth_password)
    if has_auth and username is None:
        return "Du må være logget inn for å legge til eller fjerne materiale."
    if settings.host in LOOPBACK or has_auth:
        return None
    return (f"Å legge til og fjerne materiale er stengt fordi appen er tilgjengelig fra andre maskiner "
            f"({settings.host}) uten innlogging. Den som drifter appen kan sette ASSISTANT_AUTH_USER og "
            "ASSISTANT_AUTH_PASSWORD og starte den på nytt, eller legge filene i materialmappen og kjøre "
            "python -m ingest.")


# --- names -----------------------------------------------------------------------------------


def safe_name(client_name: str) -> str:
    """The base name of ``client_name`` with anything but letters, digits, «.», «-» and «_»
    replaced, so it can never leave the corpus folder or hide in it («../../x.md» → «x.md»)."""
    base = PurePosixPath(str(client_name).replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[^\w.\-]+", "-", base).strip(".-_ ")
    base = re.sub(r"-{2,}", "-", base)
    stem, dot, suffix = base.rpartition(".")
    if dot and stem:
        base = f"{stem[:MAX_NAME_CHARS]}.{suffix.lower()}"
    if not base or not dot or not stem:
        raise Refused(f"Filnavnet «{client_name}» kan ikke brukes; gi fila et navn med endelse, for eksempel «notat.md».")
    return base


# --- checking one file --------------------------------------------------------------------------


def check_file(path: Path, name: str, settings: Settings) -> tuple[str, ...]:
    """Raise :class:`Refused` with a Norwegian sentence if ``path`` (to be stored as
    ``name`` in ``settings.corpus_dir``) would not be accepted by ``python -m ingest`` with
    these settings; reads it with the same readers.
    Returns notes (Norwegian) the user should see with an accepted file: a CSV read in a
    legacy encoding."""
    corpus_dir = Path(settings.corpus_dir)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise Refused(f"«{name}»: filtypen «{suffix}» støttes ikke. Last opp {ACCEPTED}.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise Refused(f"«{name}» er {size / 1024 / 1024:.1f} MB; grensen er {MAX_BYTES // 1024 // 1024} MB per fil.")
    if size == 0:
        raise Refused(f"«{name}» er tom.")
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if suffix == ".pdf" and b"%PDF-" not in head:
        raise Refused(f"«{name}» er ikke en PDF-fil, selv om navnet slutter på .pdf.")
    ole_workbook = suffix == ".xlsx" and head.startswith(OLE_MAGIC)
    if suffix in ZIP_KINDS and not ole_workbook and not zipfile.is_zipfile(path):
        raise Refused(f"«{name}» er ikke {ZIP_KINDS[suffix]} ({suffix}), selv om navnet slutter på {suffix}; "
                      "er fila skadet?")
    if suffix in TEXT_KINDS:
        _check_text(path, name)
    if suffix == ".csv" and b"\x00" in path.read_bytes():
        raise Refused(f"«{name}» ser ut som en binærfil, ikke en CSV-fil.")

    # The readers name the file in their messages: give them the name it will have.
    with tempfile.TemporaryDirectory(prefix="opplasting-") as tmp:
        staged = Path(tmp) / name
        shutil.copyfile(path, staged)
        source = SourceFile(staged, name, _sha256(staged))
        if suffix in {".yaml", ".yml"}:
            try:
                people = read_participants(source).participants
            except ParticipantFileError as exc:
                raise Refused(_participant_problem(exc, source)) from None
            _check_new_ids(people, name, corpus_dir)
            return ()
        if suffix in SHEET_SUFFIXES:
            return _check_sheet(source, corpus_dir)
        try:
            sections = read_sections(source, settings)
        except OcrUnavailable:
            raise Refused(f"«{name}» er en skannet PDF uten tekstlag, og tekstgjenkjenning (Tesseract med norsk) er ikke "
                          "installert her; den som drifter assistenten kan installere den med apt-get install "
                          "tesseract-ocr tesseract-ocr-nor (make setup gjør det).") from None
        except CorpusError:
            sections = None
        except Exception:  # a crafted PDF/DOCX can trip the parsers in ways they do not map
            log.warning("reading the upload %s failed", name, exc_info=True)
            sections = None
        if sections:
            return ()
        if suffix == ".pdf":
            raise Refused(_pdf_problem(staged, name, settings.ocr_max_pages))
        if suffix in READ_AS:
            raise Refused(f"{READ_AS[suffix]} «{name}» kan ikke leses; er fila skadet? Den kan også være uten tekst.")
        raise Refused(f"«{name}» har ingen tekst.")


def _check_text(path: Path, name: str) -> None:
    data = path.read_bytes()
    if b"\x00" in data:
        raise Refused(f"«{name}» ser ut som en binærfil, ikke tekst.")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(f"«{name}» er ikke lagret som UTF-8. Lagre fila med tegnkoding UTF-8 og prøv igjen.") from None


def _pdf_problem(path: Path, name: str, limit: int) -> str:
    """Why the PDF at ``path`` could not be read, in Norwegian; ``limit`` is the most scanned pages
    OCR reads. The reader's error does not say which kind it is, so the file is looked at again:
    only on this failure path."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:  # AES without 'cryptography': the ingest cannot open it either
                opened = False
            if not opened:
                return f"PDF-en «{name}» er passordbeskyttet. Lagre en kopi uten passord og last opp den."
        if len(reader.pages) > limit:
            scanned = sum(1 for page in reader.pages if not (page.extract_text() or "").strip())
            if scanned > limit:
                return (f"PDF-en «{name}» har {scanned} skannede sider, flere enn grensen på {limit} for "
                        "tekstgjenkjenning. Del den opp, eller be den som drifter assistenten øke "
                        "ASSISTANT_OCR_MAX_PAGES.")
    except Exception:  # damaged: said below
        pass
    return (f"PDF-en «{name}» kan ikke leses: fila er skadet, eller den har ingen tekst som kan hentes ut, "
            "heller ikke med tekstgjenkjenning.")


def _check_sheet(source: SourceFile, corpus_dir: Path) -> tuple[str, ...]:
    """Read a spreadsheet as the ingest does; its notes (a legacy encoding) in Norwegian."""
    name = source.name
    try:
        book = read_sheets(source)
    except SheetError as exc:
        raise Refused(_sheet_problem(exc, source)) from None
    except CorpusError as exc:
        raise Refused(f"Regnearket «{name}» kan ikke brukes (på engelsk: {_in_english(exc, source)}).") from None
    except Exception:  # a crafted workbook can trip the parsers in ways they do not map
        log.warning("reading the upload %s failed", name, exc_info=True)
        raise Refused(f"Regnearket «{name}» kan ikke leses; er fila skadet?") from None
    _check_new_ids(book.people, name, corpus_dir)
    if not book.notes:
        return ()
    encoding = _legacy_encoding(source.path.read_bytes())
    return (f"Fila var ikke lagret som UTF-8 og er lest som {encoding}; se etter at æ, ø og å er riktige.",)


def _legacy_encoding(data: bytes) -> str:
    """The encoding the sheet reader falls back to for a CSV that is not UTF-8 (ingest.sheets)."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "Latin-1"
    return "Windows-1252"


def _sheet_problem(exc: SheetError, source: SourceFile) -> str:
    """The sheet reader's finding, said in Norwegian with the sheet, row and column it names."""
    name = source.name
    csv = PurePosixPath(name).suffix.lower() == ".csv"  # one sheet, named after the file
    where = (f"«{name}»" + (f", ark «{exc.sheet}»" if exc.sheet and not csv else "")
             + (f", rad {exc.row}" if exc.row else "") + (f", kolonne {exc.column}" if exc.column else ""))
    if exc.problem == "encrypted":
        return f"«{name}» er passordbeskyttet. Lagre en kopi uten passord og last opp den."
    if exc.problem == "damaged":
        return (f"«{name}» kan ikke leses som regneark; er fila skadet? En gammel Excel-fil (.xls) må lagres som "
                ".xlsx først.")
    if exc.problem == "header":
        return (f"{where}: arket har ingen overskriftsrad (første rad har verdien «{exc.value}»). Legg inn en rad "
                "øverst med navnet på hver kolonne, for eksempel Navn, Rolle, Fra, Til.")
    if exc.problem == "date" and exc.value:
        return (f"{where}: datoen «{exc.value}» kan ikke leses. Skriv den som «mars 2024», «03.2024», «1.3.2024», "
                "«2024» eller «høsten 2022».")
    if exc.problem == "date":
        return f"{where}: sluttdatoen er før startdatoen; rett datoene."
    if exc.problem == "name":
        return f"{where}: navnet mangler. Fyll det inn, eller slett raden."
    return f"{where} har en feil (på engelsk: {_in_english(exc, source)})."


def _in_english(exc: CorpusError, source: SourceFile) -> str:
    """The reader's own (English) message for a finding no Norwegian sentence covers, naming the
    file as the user does instead of by its staged path."""
    return str(exc).replace(str(source.path), source.name)


def _check_new_ids(people: list[Participant], name: str, corpus_dir: Path) -> None:
    """Refuse records whose id a participant file already in the corpus uses."""
    if not people:
        return
    taken = _participant_ids(corpus_dir)
    clash = next((p.id for p in people if p.id in taken), None)
    if clash:
        raise Refused(f"Id-en «{clash}» i «{name}» finnes allerede i «{taken[clash]}»; hver post må ha sin egen id.")


def _participant_problem(exc: ParticipantFileError, source: SourceFile) -> str:
    """The ingest's finding about a participant file, said in Norwegian."""
    name = source.name
    if exc.problem == "yaml":
        return f"«{name}» er ikke gyldig YAML{f' (linje {exc.line})' if exc.line else ''}."
    if exc.problem == "kind":
        return f"«{name}» er ikke en deltakerfil: den må ha «kind: participants» og en liste «participants»."
    if exc.problem == "duplicate":
        return f"Deltakerfila «{name}» har id-en «{exc.value}» to ganger; hver post må ha sin egen id."
    return f"Deltakerfila «{name}» har en feil (på engelsk: {_in_english(exc, source)})."


def _participant_ids(corpus_dir: Path) -> dict[str, str]:
    """Participant ids already in the corpus folder, with the file each is in."""
    taken: dict[str, str] = {}
    try:
        files, _ = list_corpus(corpus_dir)
    except CorpusError:
        return taken
    for source in files:
        suffix = source.path.suffix.lower()
        if suffix not in {".yaml", ".yml"} | SHEET_SUFFIXES:
            continue
        try:
            people = read_participants(source).participants if suffix in {".yaml", ".yml"} else read_sheets(source).people
        except CorpusError:
            continue  # the ingest names that file's own problem
        taken.update({p.id: source.name for p in people})
    return taken


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- adding and removing ------------------------------------------------------------------------


def add_files(live: LiveAssistant, uploads: list[tuple[Path, str]],
              progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Check each ``(path, client name)``, copy the accepted ones into the corpus folder,
    ingest once and swap; returns when the new material can be asked about.

    If the ingest fails, the copied files are removed again and every one is refused.
    """
    corpus_dir = Path(live.settings.corpus_dir)
    outcomes: dict[int, Outcome] = {}
    copied: dict[int, Path] = {}
    notes: dict[int, tuple[str, ...]] = {}
    with live.changing():
        for i, (path, client_name) in enumerate(uploads):
            name = str(client_name)
            try:
                name = safe_name(client_name)
                notes[i] = check_file(Path(path), name, live.settings)
                target = corpus_dir / name
                if target.exists():
                    if _sha256(target) != _sha256(Path(path)):
                        raise Refused(f"Det finnes allerede et dokument som heter «{name}». Fjern det først, "
                                      "eller gi fila et annet navn.")
                    outcomes[i] = Outcome("ok", name, f"«{name}» finnes allerede i materialet, med samme innhold.")
                    continue
                _copy_into(Path(path), target)
                copied[i] = target
            except Refused as exc:
                outcomes[i] = Outcome("error", name, str(exc))
        if copied:
            try:
                live.reingest(progress)
            except AssistantError as exc:
                for target in copied.values():
                    target.unlink(missing_ok=True)
                detail = str(exc).replace(str(corpus_dir) + os.sep, "")
                for i, target in copied.items():
                    message = (f"Fila er ikke lagt til. {BUSY}" if isinstance(exc, IndexBusy) else
                               f"Materialet kunne ikke leses inn, så fila er ikke lagt til (på engelsk: {detail}).")
                    outcomes[i] = Outcome("error", target.name, message)
                copied = {}
            except Exception:
                for target in copied.values():
                    target.unlink(missing_ok=True)
                raise
        manifest = _manifest(live.settings)
        for i, target in copied.items():
            entry = manifest.files.get(target.name) if manifest else None
            what = ""
            if entry is not None:
                what = (f" ({entry.chunks} {'deltakerpost' if entry.chunks == 1 else 'deltakerposter'})"
                        if entry.kind == "participants" else f" ({entry.sections} avsnitt)")
            said = " ".join((f"«{target.name}» er lagt til{what} og kan spørres om nå.", *notes.get(i, ())))
            outcomes[i] = Outcome("ok", target.name, said)
    return [outcomes[i] for i in range(len(uploads))]


def _copy_into(source: Path, target: Path) -> None:
    """Copy under a hidden name first (the ingest skips dot files), then rename: a concurrent
    ``python -m ingest`` never reads half a file."""
    partial = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def remove_document(live: LiveAssistant, name: str, progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Remove ``name`` from the corpus folder and the index; the last text document stays."""
    corpus_dir = Path(live.settings.corpus_dir).resolve()
    with live.changing():
        manifest = _manifest(live.settings)
        files = manifest.files if manifest else {}
        target = (corpus_dir / name).resolve()
        if name not in files or corpus_dir not in target.parents or not target.is_file():
            return Outcome("error", name, f"Fant ikke «{name}» i materialet.")
        texts = [n for n, e in files.items() if e.kind == "document" and n != name]
        if files[name].kind == "document" and not texts:
            return Outcome("error", name, "Det siste dokumentet kan ikke fjernes: materialet må ha minst ett dokument "
                                          "med tekst.")
        aside = target.with_name(f".{target.name}.fjernet")
        os.replace(target, aside)
        try:
            live.reingest(progress)
        except AssistantError as exc:
            os.replace(aside, target)
            if isinstance(exc, IndexBusy):
                return Outcome("error", name, f"«{name}» er ikke fjernet. {BUSY}")
            return Outcome("error", name, f"«{name}» kunne ikke fjernes (på engelsk: {exc}).")
        except Exception:
            os.replace(aside, target)
            raise
        aside.unlink(missing_ok=True)
    return Outcome("ok", name, f"«{name}» er fjernet fra materialet.")


# --- what the index holds --------------------------------------------------------------------------


def _manifest(settings: Settings) -> Manifest | None:
    try:
        return Manifest.read(Path(settings.index_dir))
    except AssistantError:
        return None


def document_rows(settings: Settings) -> list[list[str]]:
    """One row per file in the index: name, type, sections (records for participant files), when added."""
    manifest = _manifest(settings)
    if manifest is None:
        return []
    rows = []
    for name, entry in sorted(manifest.files.items(), key=lambda item: item[0].casefold()):
        kind = KINDS.get(PurePosixPath(name).suffix.lower(), "")
        content = (f"{entry.chunks} {'post' if entry.chunks == 1 else 'poster'}" if entry.kind == "participants"
                   else str(entry.sections))
        try:
            added = datetime.fromtimestamp((Path(settings.corpus_dir) / name).stat().st_mtime).strftime("%d.%m.%Y %H:%M")
        except OSError:
            added = ""
        rows.append([name, kind, content, added])
    return rows


def removable(settings: Settings) -> list[str]:
    """The names a user can pick to remove: every file in the index."""
    manifest = _manifest(settings)
    return sorted(manifest.files, key=str.casefold) if manifest else []
