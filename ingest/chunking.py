"""Split sections into passages that fit the embedding model's window, and turn
participant records into short passages of their own.

Each chunk keeps its document, heading path, position and a stable id; each knows
its sentences, so the assistant can quote the one that answers.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ingest.participants import ParticipantFile
from ingest.sources import Section

CHUNK_TOKENS = 320  # well under the 512-token window, leaving room for the heading and prompt
CHUNK_OVERLAP = 40


@dataclass(frozen=True)
class Chunk:
    """A passage as stored and cited: the source text under one heading path."""

    id: str
    document: str
    section: str
    position: int
    text: str
    kind: str = "text"  # "text" or "participant"
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def embed_text(self) -> str:
        """What is embedded and keyword-indexed: the heading path gives the passage its context."""
        return f"{self.section}\n\n{self.text}"

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(self.embed_text.encode()).hexdigest()


# The last part of a PDF section's path: the page the text is on (ingest.sources.page_label).
_PAGE = re.compile(r"^side \d+$")


def last_heading(section: str) -> str:
    """The innermost heading of a section path. A PDF's page («… > Besøk > side 2») says
    where the text is, not what it is about, so it is passed over («Besøk»)."""
    parts = section.split(" > ")
    while len(parts) > 1 and _PAGE.match(parts[-1]):
        parts.pop()
    return parts[-1]


def stable_id(*parts: object) -> str:
    return hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()[:20]


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”»)]?\s+(?=[\"“«(]?[A-ZÆØÅ0-9])")
# Norwegian abbreviations that end in a period without ending the sentence.
_ABBREVIATIONS = {
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "des",
    "ca", "nr", "kap", "jf", "bl.a", "f.eks", "m.m", "mv", "osv", "dvs", "evt", "ev", "pr", "st", "kl", "tlf",
}


# A Markdown table: its rows, and the rule under its header row.
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|(?:\s*:?-{3,}:?\s*\|)+\s*$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in a passage: lines (list items, table rows) and
    sentence ends. A table row is one sentence; the rule under a table's header is none."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        if _TABLE_ROW.match(line.group()):
            if not _TABLE_RULE.match(line.group()):
                spans.append(_trim(text, line.start(), line.end()))
            continue
        start = line.start()
        for end_match in _SENTENCE_END.finditer(line.group()):
            end = line.start() + end_match.start()
            if _last_word(text[start:end]).lower().rstrip(".") in _ABBREVIATIONS:
                continue
            if text[start:end].strip():
                spans.append(_trim(text, start, end))
            start = line.start() + end_match.end()
        if text[start:line.end()].strip():
            spans.append(_trim(text, start, line.end()))
    return spans


def _last_word(text: str) -> str:
    words = text.split()
    return words[-1].lstrip("(\"“«") if words else ""


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t-•*":
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_sections(sections: Iterable[Section], count_tokens: Callable[[str], list]) -> list[Chunk]:
    """Sections that fit become one chunk; longer ones are split on sentence boundaries."""
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(
        chunk_size=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP, tokenizer=count_tokens, paragraph_separator="\n\n"
    )
    chunks: list[Chunk] = []
    for section in sections:
        heading = section.heading
        budget_text = f"{heading}\n\n{section.text}"
        # Every word is at least one token: a section with more words cannot fit, no need to count.
        if len(budget_text.split()) <= CHUNK_TOKENS and len(count_tokens(budget_text)) <= CHUNK_TOKENS:
            pieces = [section.text]
        elif not any(_TABLE_ROW.match(line) for line in section.text.splitlines()):
            pieces = splitter.split_text(section.text)
        else:
            pieces = _split_with_tables(section.text, splitter.split_text, count_tokens)
        for i, piece in enumerate(pieces):
            chunks.append(
                Chunk(
                    id=stable_id(section.document, heading, section.position, i),
                    document=section.document,
                    section=heading,
                    position=len(chunks),
                    text=piece.strip(),
                )
            )
    return chunks


def _split_with_tables(text: str, split_prose: Callable[[str], list[str]], count_tokens: Callable[[str], list]) -> list[str]:
    """Pieces of a long section that holds Markdown tables: prose is split on sentences,
    a table between rows, each piece of it under the table's header row again. The end
    of one block and the start of the next share a piece when they fit together."""
    pieces: list[tuple[int, str]] = []
    for n, (is_table, block) in enumerate(_blocks(text)):
        parts = _split_table(block, split_prose, count_tokens) if is_table else split_prose(block)
        for part in parts:
            if pieces and pieces[-1][0] != n and len(count_tokens(f"{pieces[-1][1]}\n\n{part}")) <= CHUNK_TOKENS:
                pieces[-1] = (n, f"{pieces[-1][1]}\n\n{part}")
            else:
                pieces.append((n, part))
    return [piece for _, piece in pieces]


def _blocks(text: str) -> list[tuple[bool, str]]:
    """The text as runs of prose and of table rows, in order: (is_table, text)."""
    blocks: list[tuple[bool, list[str]]] = []
    for line in text.splitlines():
        is_table = bool(_TABLE_ROW.match(line))
        if blocks and blocks[-1][0] == is_table:
            blocks[-1][1].append(line)
        else:
            blocks.append((is_table, [line]))
    return [(is_table, "\n".join(lines).strip("\n")) for is_table, lines in blocks if "".join(lines).strip()]


def _split_table(table: str, split_prose: Callable[[str], list[str]], count_tokens: Callable[[str], list]) -> list[str]:
    """Whole rows per piece, as many as fit, each piece starting with the header row."""
    lines = table.splitlines()
    head = lines[:2] if len(lines) > 2 and _TABLE_RULE.match(lines[1]) else []
    pieces: list[str] = []
    rows: list[str] = []
    for row in lines[len(head):]:
        if len(count_tokens("\n".join([*head, row]))) > CHUNK_TOKENS:  # one row longer than a piece
            if rows:
                pieces.append("\n".join([*head, *rows]))
                rows = []
            pieces.extend(split_prose(row))
        elif rows and len(count_tokens("\n".join([*head, *rows, row]))) > CHUNK_TOKENS:
            pieces.append("\n".join([*head, *rows]))
            rows = [row]
        else:
            rows.append(row)
    if rows or not pieces:
        pieces.append("\n".join([*head, *rows]))
    return pieces


def participant_chunks(data: ParticipantFile, document: str) -> list[Chunk]:
    """One short passage per record, its fields kept as metadata."""
    chunks = []
    for i, person in enumerate(data.participants):
        meta = {k: v for k, v in person.model_dump().items() if isinstance(v, str) and v}
        chunks.append(
            Chunk(
                id=stable_id(document, person.id),
                document=document,
                section=person.section,
                position=i,
                text=person.describe(),
                kind="participant",
                meta=meta,
            )
        )
    return chunks
