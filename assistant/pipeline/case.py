"""The objects the stages pass along: :class:`Case` (one question on its way), :class:`Pool` (what
gather found) and :class:`Ranking` (the candidates in order, with the decision), and :class:`Tools`
(what every stage reads)."""
from __future__ import annotations

from dataclasses import dataclass, field

from assistant.decide import Decision
from assistant.language import Expander
from assistant.models import Turn
from assistant.people import People, PeopleResult
from assistant.query import Query
from assistant.rank import NO_SCORE, Calibration
from assistant.reranker import Reranker
from assistant.reranker.reader import Span
from assistant.retrieve import Candidate, Hit, Retriever
from ingest import Chunk, Generation


@dataclass(frozen=True)
class Tools:
    """The index generation and the models, loaded once and shared by every question (thread-safe)."""

    generation: Generation
    retriever: Retriever
    people: People
    expander: Expander
    decision: Decision  # the feature model: first-stage order, and the decision when there is no reranker
    reranker: Reranker | None  # None: rank by the feature model alone (scripts/fit.py)
    calibration: Calibration

    @property
    def chunks(self) -> list[Chunk]:
        return self.generation.chunks


@dataclass
class Case:
    """One standalone question on its way through the stages; each stage fills in its part."""

    question: str
    turns: list[Turn]
    query: Query
    standalone: str  # the question with the previous one in front when it leans on it
    followup: bool
    started: float  # perf_counter when the question arrived
    looked_up: float = 0.0  # perf_counter when the stages after understanding began
    records: PeopleResult | None = None  # the records' answer; None: the text answers
    ranking: Ranking | None = None


@dataclass(frozen=True)
class Pool:
    """What gather found for a question: passages, candidate sentences and records (pre-ordered by
    the feature model, ``probability`` = its estimate), and the question's terms."""

    question: str
    hits: list[Hit]
    candidates: list[Candidate]
    terms: list[str]
    unknown: float  # share of the asked-about terms the material never uses
    norwegian: float  # share of the question's words a Norwegian dictionary knows


@dataclass(frozen=True)
class Ranking:
    """The candidates for a question, best first, with their scores and (after decide) the decision."""

    question: str
    hits: list[Hit]
    candidates: list[Candidate]
    terms: list[str]
    confidence: str | None = None  # «høy», «middels», or None: abstain
    unknown: float = 0.0  # share of the asked-about terms the material never uses (decide.Decision.confidence)
    probability: float = 0.0  # that the best candidate answers (calibrated)
    scores: list[float] = field(default_factory=list)  # the combined score of each candidate, best first
    rerank_text_best: float = NO_SCORE  # the reranker's highest logit of a text sentence (not a record)
    best_span: Span | None = None  # where the reader marks the answer in the best candidate (reranker text)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None
