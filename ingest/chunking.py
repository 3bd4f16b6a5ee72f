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


def stable_id(*parts: object) -> str:
    return hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()[:20]


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”»)]?\s+(?=[\"“«(]?[A-ZÆØÅ0-9])")
# Norwegian abbreviations that end in a period without ending the sentence.
_ABBREVIATIONS = {
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "des",
    "ca", "nr", "kap", "jf", "bl.a", "f.eks", "m.m", "mv", "osv", "dvs", "evt", "ev", "pr", "st", "kl", "tlf",
}


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in a passage: lines (list items) and sentence ends."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
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
        pieces = [section.text] if len(count_tokens(budget_text)) <= CHUNK_TOKENS else splitter.split_text(section.text)
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
