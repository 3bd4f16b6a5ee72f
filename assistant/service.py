"""The assistant: load the index and the models once, then answer questions.

``Assistant.ask(question, history)`` runs the answer pipeline (:mod:`assistant.pipeline`): understand
the question, look the answer up in the participant records when it is about people in roles, else
gather candidates from text and records, rerank them with the trained cross-encoder, decide from the
calibrated score whether and how surely to answer, and compose the answer with verified citations,
or an honest abstention. A question of several parts is answered part by part and merged.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant import answer as words
from assistant.answerers import Answerer, answerer_for
from assistant.decide import Decision
from assistant.errors import IndexUnusable
from assistant.models import Answer, Evidence, Turn
from assistant.people import People, PeopleResult
from assistant.pipeline import Pool, Ranking, Tools
from assistant.pipeline.compose import from_records, from_text
from assistant.pipeline.decide import decide
from assistant.pipeline.gather import gather
from assistant.pipeline.lookup import lookup
from assistant.pipeline.rerank import rerank, standing_out
from assistant.pipeline.understand import standalone_question, turns_of, understand, validate_question
from assistant.query import split_parts
from assistant.rank import Calibration
from assistant.reranker import Reranker
from assistant.retrieve import Retriever
from assistant.tuning import QUERY_THREADS, RERANK_POOL, RERANK_THREADS
from ingest import Index, Participant, Settings

__all__ = ["Assistant", "Pool", "Ranking", "validate_question"]

log = logging.getLogger(__name__)


class Assistant:
    """Answers questions over one index; safe to share between threads."""

    def __init__(self, settings: Settings, answerer: Answerer | None = None, decision: Decision | None = None,
                 *, reranker: Reranker | None | bool = True) -> None:
        """``reranker``: True loads the built one (a missing or damaged model is an error, never a quiet
        fall-back); False ranks by the feature model alone, for fitting that model (scripts/fit.py)."""
        from assistant.language import Expander

        started = time.perf_counter()
        self.settings = settings
        index = Index.open(settings)
        generation = index.generation
        self.generation = generation
        self.generation_id = index.manifest.generation
        self.retriever = Retriever(index, Index.embedder(settings, threads=QUERY_THREADS))
        self.people = People(generation.participants, generation.periods)
        self.expander = Expander(generation.keyword.vocabulary() if generation.keyword else set(), settings.thesaurus)
        self.decision = decision if decision is not None else _load_decision(settings)
        self.answerer = answerer if answerer is not None else answerer_for(settings)
        if reranker is True:
            self.reranker, self.calibration = Reranker(settings.reranker_dir, threads=RERANK_THREADS), Calibration.load()
        else:
            self.reranker, self.calibration = (reranker or None), Calibration.load() if reranker else Calibration.neutral()
        self.tools = Tools(generation, self.retriever, self.people, self.expander, self.decision, self.reranker,
                           self.calibration)
        self.retriever.embed_query("oppvarming")  # the first encode is slow; pay it at start-up
        self.load_seconds = time.perf_counter() - started

    # --- public API -----------------------------------------------------------------

    def participants(self) -> list[Participant]:
        return list(self.generation.participants)

    def stream(self, question: str, history: Sequence[Turn | dict] | None = None) -> Iterator[Answer]:
        """Partial answers, then the final one (the offline answerer yields only the final one)."""
        yield from self.answerer.stream(self.evidence(question, history), self.generation.chunks)

    def ask(self, question: str, history: Sequence[Turn | dict] | None = None) -> Answer:
        """The answer to ``question`` given the conversation so far (oldest turn first)."""
        return self.answerer.answer(self.evidence(question, history), self.generation.chunks)

    def evidence(self, question: str, history: Sequence[Turn | dict] | None = None) -> Evidence:
        """The offline answer and the passages behind it, for a language model to phrase."""
        started = time.perf_counter()
        question = validate_question(question)
        turns = turns_of(history)
        parts = split_parts(question)
        if len(parts) == 1:
            return self._single(question, turns, started)
        evidences: list[Evidence] = []
        for part in parts:  # a later part may lean on an earlier one («…, og hvor mange var de?»)
            context = turns + [t for e in evidences[-1:] for t in (Turn(role="user", content=e.question),
                                                                    Turn(role="assistant", content=e.offline.answer))]
            evidences.append(self._single(part, context, time.perf_counter()))
        merged = words.merge([e.offline for e in evidences], self.generation.chunks)
        end = time.perf_counter()
        answer = merged.model_copy(update={
            "question": question,
            "timings_ms": {**merged.timings_ms, "total": round((end - started) * 1000, 2)},
        })
        passages = [p for e in evidences for p in e.passages]
        return Evidence(question, question, turns, list(dict.fromkeys(passages)), answer,
                        people=all(e.people for e in evidences))

    def _single(self, question: str, turns: list[Turn], started: float) -> Evidence:
        """One question part through the stages."""
        case = understand(question, turns, started)
        case.looked_up = time.perf_counter()
        case.records = lookup(self.tools, case)
        if case.records is not None:
            if not (case.records.abstained or not case.records.lines):
                if case.query.yes_no:
                    case.records = self.people.yes_no(case.query, case.records)
                elif not case.query.count:
                    case.records = standing_out(self.tools, case.standalone, case.records)
                if case.records.bullet:  # the text's own words about the group may follow the list
                    case.ranking = self.ranking(case.standalone)
            return from_records(self.tools, case)
        case.ranking = self.ranking(case.standalone)
        return from_text(self.tools, case)

    # --- the stages one by one (scripts, training and tests read them) ----------------

    def gather(self, question: str, limit: int | None = RERANK_POOL) -> Pool:
        """The candidates the reranker reads (:func:`assistant.pipeline.gather.gather`)."""
        return gather(self.tools, question, limit)

    def ranking(self, question: str) -> Ranking:
        """Candidates for a standalone question, best first by the trained reranker, with the calibrated
        probability that the best one answers and the confidence it gives (gather → rerank → decide)."""
        pool = self.gather(question, RERANK_POOL if self.reranker is not None else None)
        return decide(self.tools, pool, rerank(self.tools, pool))

    def standalone(self, question: str, turns: list[Turn]) -> tuple[str, bool]:
        """The question with the previous one in front when it leans on it (a follow-up)."""
        return standalone_question(question, turns)

    def records_answer(self, question: str, turns: list[Turn]) -> PeopleResult | None:
        """The participant records' answer, or None when the question goes to the material."""
        return lookup(self.tools, understand(question, turns))


def _load_decision(settings: Settings) -> Decision:
    from assistant.decide import MODEL_FILE

    try:
        decision = Decision.load(MODEL_FILE)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexUnusable(f"the fitted answer model {MODEL_FILE} cannot be read ({exc}); run 'make fit'") from None
    if decision.embed_model != Path(settings.embed_model).name:
        log.warning("the answer model was fitted for %s, not %s; run 'make fit' for best answers",
                    decision.embed_model, Path(settings.embed_model).name)
    return decision
