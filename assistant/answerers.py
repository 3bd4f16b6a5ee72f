"""How the final answer is phrased from the evidence: one protocol, two implementations.

``OfflineAnswerer`` returns the offline answer as composed from the records and the
sentences (the default; no language model). ``assistant.llm.LLMAnswerer`` has a model
phrase it and verifies the result. ``Assistant`` is handed one of them.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from assistant.models import Answer, Evidence
from ingest import Chunk, Settings


class Answerer(Protocol):
    name: str

    def answer(self, evidence: Evidence, chunks: list[Chunk]) -> Answer: ...

    def stream(self, evidence: Evidence, chunks: list[Chunk]) -> Iterator[Answer]: ...


class OfflineAnswerer:
    """The offline answer as it stands."""

    name = "offline"

    def answer(self, evidence: Evidence, chunks: list[Chunk]) -> Answer:
        return evidence.offline

    def stream(self, evidence: Evidence, chunks: list[Chunk]) -> Iterator[Answer]:
        yield evidence.offline


def answerer_for(settings: Settings) -> Answerer:
    """The answerer the settings ask for (the LLM backend is imported only when chosen)."""
    if settings.llm_backend == "none":
        return OfflineAnswerer()
    from assistant.llm import LLMAnswerer

    return LLMAnswerer(settings)
