"""Read the corpus folder into sections: every supported format becomes Markdown,
then llama-index's MarkdownNodeParser splits it by heading, keeping the heading path.

Supported: Markdown, plain text, HTML, PDF, DOCX, and participant YAML files.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import CorpusError
from ingest.participants import ParticipantFile, is_participant_file, load_participants

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx", ".yaml", ".yml"}
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


def read_sections(source: SourceFile) -> list[Section]:
    """Turn one document into its sections; raise CorpusError naming the file on bad input."""
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
    if suffix == ".pdf":
        return _pdf_to_markdown(path)
    if suffix == ".docx":
        return _docx_to_markdown(path)
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


def _html_to_markdown(html: str) -> str:
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer"]):
        tag.decompose()
    body = soup.body or soup
    return markdownify(str(body), heading_style="ATX", bullets="-", strip=["a", "img"])


def _pdf_to_markdown(path: Path) -> str:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # its warnings would repeat our one-line error
    try:
        reader = PdfReader(path)
        title = (reader.metadata.title if reader.metadata else None) or path.stem
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise CorpusError(f"{path}: not a readable PDF ({exc.__class__.__name__}); is the file damaged?") from None
    if not any(p.strip() for p in pages):
        raise CorpusError(f"{path}: the PDF has no extractable text (a scanned PDF needs OCR first)")
    body = "\n\n".join(f"## Side {i}\n\n{text.strip()}" for i, text in enumerate(pages, 1) if text.strip())
    return f"# {title}\n\n{body}"


def _docx_to_markdown(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise CorpusError(f"{path}: not a readable Word document ({exc.__class__.__name__}); is the file damaged?") from None
    lines: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        level = re.match(r"heading (\d)", style)
        if style == "title":
            lines.append(f"# {text}")
        elif level:
            lines.append("#" * min(int(level.group(1)) + (1 if _has_title(document) else 0), 6) + f" {text}")
        elif "list" in style:
            lines.append(f"- {text}")
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append("- " + " | ".join(cell.text.strip() for cell in row.cells))
    return "\n\n".join(lines)


def _has_title(document) -> bool:
    return any((p.style.name or "").lower() == "title" for p in document.paragraphs if p.style is not None)


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
