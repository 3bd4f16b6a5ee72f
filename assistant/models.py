"""The typed objects the assistant hands to the CLI and the UI: an answer with its
numbered citations, serialised exactly as ../shared/CONTRACT.md describes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Turn(BaseModel):
    """One earlier message in the conversation."""

    model_config = ConfigDict(frozen=True)
    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    """The passage behind an ``[n]`` marker; ``quote`` is the sentence that supports the claim."""

    model_config = ConfigDict(frozen=True)
    n: int
    document: str
    section: str
    text: str = Field(description="The cited passage itself: a section or less.")
    chunk_id: str
    quote: str = Field("", description="The supporting sentence(s) within text, for highlighting.")


class Answer(BaseModel):
    """What the user sees: bokmål text with [n] markers, the citations, and timings."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    confidence: Literal["høy", "middels", "lav"] | None = Field(
        None, description="How sure the assistant is that the cited material answers the question."
    )
    notice: str | None = Field(None, description="A visible note, e.g. that the language model was unavailable.")
    backend: str = "offline"

    def contract(self) -> dict:
        """The JSON object of the CLI and API contract."""
        return self.model_dump(exclude_none=True)


@dataclass
class Evidence:
    """What an answer rests on: the question made standalone, the passages (chunk
    positions, cited ones first) and the offline answer, which is also the fallback."""

    question: str
    standalone: str
    history: list[Turn]
    passages: list[int]
    offline: Answer
    people: bool = False
