"""Read the corpus folder into sections: every supported format becomes Markdown (tables
as Markdown tables, in document order), then llama-index's MarkdownNodeParser splits it by
heading, keeping the heading path. A PDF is read page by page (ingest.pdf); its section
paths end in the page, «side N».

Supported: Markdown, plain text, HTML, PDF, DOCX, participant YAML files, and spreadsheets
(.xlsx, .ods, .csv; ingest.sheets), whose participant lists become records and whose other
sheets become table documents, LibreOffice text (.odt) and PowerPoint (.pptx; ingest.office),
one section per slide.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import CorpusError
from ingest.participants import ParticipantFile, load_participants
from ingest.settings import Settings
from ingest.sheets import SHEET_SUFFIXES, Workbook, read_workbook

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | SHEET_SUFFIXES | {".pdf", ".docx", ".odt", ".pptx", ".yaml", ".yml"}
# The corpus folder's own settings (the project's name), not material: never ingested.
CONFIG_FILE = "assistent.toml"


@dataclass(frozen=True)
class Section:
    """A heading and the text under it, up to the next heading."""

    document: str
    path: tuple[str, ...]
    text: str
    position: int

    @property
    def heading(self) -> str:
        return " > ".join(self.path)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # path relative to the corpus folder, with forward slashes
    sha256: str


def list_corpus(corpus_dir: Path) -> tuple[list[SourceFile], list[str]]:
    """The supported files under ``corpus_dir`` (sorted) and the names of skipped ones."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist; pass --corpus DIR or set ASSISTANT_CORPUS_DIR")
    files, skipped = [], []
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(corpus_dir).as_posix()
        if any(part.startswith(".") for part in path.relative_to(corpus_dir).parts) or rel == CONFIG_FILE:
            continue
        if path.suffix.lower() not in SUPPORTED:
            skipped.append(rel)
            continue
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise CorpusError(f"{path}: cannot be read ({exc.strerror})") from None
        files.append(SourceFile(path=path, name=rel, sha256=digest))
    if not files:
        raise CorpusError(f"corpus folder {corpus_dir} holds no supported files ({', '.join(sorted(SUPPORTED))})")
    return files, skipped


def read_participants(source: SourceFile) -> ParticipantFile:
    return load_participants(source.path)


def read_sheets(source: SourceFile) -> Workbook:
    """A spreadsheet's participant records and table sections (see ingest.sheets)."""
    return read_workbook(source.path, source.name)


def read_sections(source: SourceFile, settings: Settings | None = None) -> list[Section]:
    """Turn one document into its sections; raise CorpusError naming the file on bad input.
    (A spreadsheet's sections are its table rows; its participant records come from read_sheets.)
    Only a scanned PDF uses ``settings`` (ingest.ocr); without them they are read from the
    environment, for a script or test that reads one file."""
    if source.path.suffix.lower() == ".pdf":
        return _pdf_sections(source, settings if settings is not None else Settings())
    if source.path.suffix.lower() in SHEET_SUFFIXES:
        return read_sheets(source).sections
    if source.path.suffix.lower() == ".pptx":
        from ingest.office import pptx_sections

        sections = pptx_sections(source.path, source.name)
        if not sections:
            raise CorpusError(f"{source.path}: holds no text")
        return sections
    markdown = to_markdown(source.path)
    if not markdown.strip():
        raise CorpusError(f"{source.path}: holds no text")
    return split_sections(markdown, source.name)


def to_markdown(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text = _read_text(path)
        return text if suffix != ".txt" else _plain_to_markdown(text)
    if suffix in HTML_SUFFIXES:
        return _html_to_markdown(_read_text(path))
    if suffix == ".docx":
        return _docx_to_markdown(path)
    if suffix == ".odt":
        from ingest.office import odt_to_markdown

        return odt_to_markdown(path)
    raise CorpusError(f"{path}: unsupported file type '{suffix}'")


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        raise CorpusError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from None


def _plain_to_markdown(text: str) -> str:
    """A plain-text file has no markup: its first short line, if any, is the title."""
    lines = text.strip().splitlines()
    if lines and len(lines[0]) <= 100 and not lines[0].rstrip().endswith((".", ":")):
        return f"# {lines[0].strip()}\n\n" + "\n".join(lines[1:])
    return text


def markdown_table(rows: list[list[str]]) -> str:
    """Rows of cell texts as a Markdown table; the first row is the header."""
    width = max(len(row) for row in rows)
    cells = [[" ".join(c.split()).replace("|", "\\|") for c in row] + [""] * (width - len(row)) for row in rows]
    lines = [cells[0], ["---"] * width, *cells[1:]]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _html_to_markdown(html: str) -> str:
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    class Converter(MarkdownConverter):
        # A '|' inside a cell would end the cell in the Markdown table.
        def convert_td(self, el, text, parent_tags):
            return super().convert_td(el, text.replace("|", "\\|"), parent_tags)

        def convert_th(self, el, text, parent_tags):
            return super().convert_th(el, text.replace("|", "\\|"), parent_tags)

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer"]):
        tag.decompose()
    body = soup.body or soup
    # A table whose first row is plain cells still gets that row as its header.
    return Converter(heading_style="ATX", bullets="-", strip=["a", "img"], table_infer_header=True).convert(str(body))


def page_label(page: int) -> str:
    """The last part of a PDF section's path: the page, so that a citation names it."""
    return f"side {page}"


def _pdf_sections(source: SourceFile, settings: Settings) -> list[Section]:
    """One section per page (and per heading on it): the path ends in «side N» so a
    citation names the page, under the headings the PDF's font sizes show."""
    from ingest.pdf import read_pdf

    pdf = read_pdf(source.path, settings)
    title = _clean_heading(pdf.title or Path(source.name).stem)
    sections: list[Section] = []
    for block in pdf.blocks:
        headings = [h for h in map(_clean_heading, block.headings) if h and h.casefold() != title.casefold()]
        path = (title, *headings, page_label(block.page))
        if sections and sections[-1].path == path:  # text on both sides of the title heading
            sections[-1] = Section(source.name, path, f"{sections[-1].text}\n\n{block.text}", sections[-1].position)
        else:
            sections.append(Section(document=source.name, path=path, text=block.text, position=len(sections)))
    return sections


# A Word file is a zip archive; python-docx unpacks its parts in memory. A real report with
# pictures unpacks to tens of MB (the XML parts compress 2-30x: heias-program.docx's styles
# 29x), so more than this, or an XML part that shrank more than MAX_DOCX_RATIO times, is a
# zip bomb rather than a document.
MAX_DOCX_UNPACKED = 256 * 2**20
MAX_DOCX_RATIO = 100
_RATIO_CHECK_FROM = 10 * 2**20  # small parts may compress very well (empty styles) without harm


def check_archive(path: Path, kind: str = "Word document") -> None:
    """Refuse a zip-based document (Word, Excel, OpenDocument, PowerPoint) that is not a zip
    archive (damaged) or that would unpack to a zip bomb, before any library opens it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorpusError(f"{path}: not a readable {kind} ({exc.__class__.__name__}); is the file damaged?") from None
    total = sum(p.file_size for p in parts)
    bomb = next((p for p in parts if p.file_size > _RATIO_CHECK_FROM
                 and p.file_size > MAX_DOCX_RATIO * max(p.compress_size, 1)), None)
    if total > MAX_DOCX_UNPACKED or bomb is not None:
        part = bomb or max(parts, key=lambda p: p.file_size)
        raise CorpusError(
            f"{path}: unpacks to {total // 2**20} MB ({part.filename}: {part.file_size // 2**20} MB from "
            f"{part.compress_size // 2**10} KB); looks like a zip bomb, not a {kind}, so it was not opened"
        )


def _docx_to_markdown(path: Path) -> str:
    """Paragraphs and tables in document order: Word's heading styles become Markdown
    headings, list paragraphs list items, tables Markdown tables."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    check_archive(path)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise CorpusError(f"{path}: not a readable Word document ({exc.__class__.__name__}); is the file damaged?") from None
    has_title = any(_style(p) == "title" for p in document.paragraphs)
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_docx_table(block))
            continue
        text = block.text.strip()
        if not text:
            continue
        style = _style(block)
        level = re.match(r"heading (\d)", style)
        if style == "title":
            lines.append(f"# {text}")
        elif level:
            lines.append("#" * min(int(level.group(1)) + (1 if has_title else 0), 6) + f" {text}")
        elif "list" in style:
            lines.append(f"- {text}")
        else:
            lines.append(text)
    return "\n\n".join(lines)


def _style(paragraph) -> str:
    return (paragraph.style.name or "").lower() if paragraph.style is not None else ""


def _docx_table(table) -> list[str]:
    """A Word table as one Markdown table; a one-column table (a text box drawn as a
    table) as its paragraphs."""
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    rows = [row for row in rows if any(c.strip() for c in row)]
    if not rows:
        return []
    if max(len(row) for row in rows) == 1:
        return [" ".join(row[0].split()) for row in rows]
    return [markdown_table(rows)]


def split_sections(markdown: str, document: str) -> list[Section]:
    """Split Markdown by heading with llama-index's parser; each section knows its heading path."""
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    nodes = MarkdownNodeParser(include_metadata=True, include_prev_next_rel=False).get_nodes_from_documents(
        [Document(text=markdown)]
    )
    sections: list[Section] = []
    title = Path(document).stem
    for node in nodes:
        text = node.get_content().strip()
        parents = [p for p in node.metadata.get("header_path", "/").strip("/").split("/") if p]
        heading = re.match(r"^(#{1,6})\s+(.*)$", text.splitlines()[0]) if text else None
        if heading:
            path = (*parents, _clean_heading(heading.group(2)))
            text = text[heading.end():].strip()
        else:
            path = tuple(parents) or (title,)
        if text:
            sections.append(Section(document=document, path=path, text=text, position=len(sections)))
    return sections


def _clean_heading(text: str) -> str:
    return re.sub(r"[*_`]+", "", text).strip().rstrip(":")


def project_name(corpus_dir: Path) -> str | None:
    """The project's name from the corpus folder's ``assistent.toml`` ([prosjekt] navn), if any;
    a missing or unreadable file means no name (the texts then say «prosjektmaterialet»)."""
    import tomllib

    try:
        with open(Path(corpus_dir) / CONFIG_FILE, "rb") as fh:
            name = tomllib.load(fh).get("prosjekt", {}).get("navn")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return name.strip() if isinstance(name, str) and name.strip() else None
