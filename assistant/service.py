"""The assistant: load the index and the model once, then answer questions.

``Assistant.ask(question, history)`` routes a question to the participant records
(people and roles) or to hybrid retrieval over the report (everything else), and
returns an :class:`Answer` with verified citations, or an honest abstention.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant import answer as compose
from assistant import lexicon
from assistant.errors import MAX_QUESTION_CHARS, BadHistory, EmptyQuestion, IndexUnusable, QuestionTooLong
from assistant.models import Answer, Turn
from assistant.people import People
from assistant.query import Query, normalise, parse
from assistant.retrieve import Retriever
from ingest.keyword import analyze
from ingest.participants import Participant
from ingest.settings import Settings

# Measured on the evaluation set (tests/eval/questions.yaml, see scripts/calibrate.py):
# an answer needs a best sentence this similar to the question, or this much of the
# question's weighted terms in the passage.
MIN_DENSE = 0.90
MIN_COVERAGE = 0.5
MIN_DENSE_WITH_COVERAGE = 0.80
TYPE_CREDIT = 0.15
SECOND_SENTENCE_GAP = 0.02
SENTENCE_PASSAGES = 8
FOLLOWUP_OPENERS = ("og ", "hva med ", "enn ", "hvem andre", "også ", "samme ")


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


class Assistant:
    """Answers questions over one index; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        from ingest import store
        from ingest.embedding import load_embedder
        from ingest.index import load_current

        started = time.perf_counter()
        _one_thread_per_query()
        self.settings = settings
        index_dir = Path(settings.index_dir)
        manifest, generation = load_current(index_dir)
        if manifest.embed_model != settings.embed_model:
            raise IndexUnusable(
                f"the index in {index_dir} was built with the model '{manifest.embed_model}', "
                f"not '{settings.embed_model}'; run 'python -m ingest' again"
            )
        collection = store.open_collection(store.connect(settings, index_dir), manifest.collection)
        self.generation = generation
        self.retriever = Retriever(generation, collection, load_embedder(settings))
        self.people = People(generation.participants, generation.periods)
        self.llm = None
        if settings.llm_backend != "none":
            from assistant.llm import LLMAnswerer

            self.llm = LLMAnswerer(settings)
        self.retriever.embed_query("oppvarming")  # the first encode is slow; pay it at start-up
        self.load_seconds = time.perf_counter() - started

    # --- public API -----------------------------------------------------------------

    def participants(self) -> list[Participant]:
        return list(self.generation.participants)

    def stream(self, question: str, history: Sequence[Turn | dict] | None = None) -> Iterator[Answer]:
        """Partial answers, then the final one (the offline path yields only the final one)."""
        evidence = self.evidence(question, history)
        if self.llm is None:
            yield evidence.offline
        else:
            yield from self.llm.stream(evidence, self.generation.chunks)

    def ask(self, question: str, history: Sequence[Turn | dict] | None = None) -> Answer:
        """The answer to ``question`` given the conversation so far (oldest turn first)."""
        evidence = self.evidence(question, history)
        if self.llm is None:
            return evidence.offline
        return self.llm.answer(evidence, self.generation.chunks)

    def evidence(self, question: str, history: Sequence[Turn | dict] | None = None) -> Evidence:
        """The offline answer and the passages behind it, for a language model to phrase."""
        started = time.perf_counter()
        question = validate_question(question)
        turns = _turns(history)
        query = parse(question)
        context = self._context_names(turns)
        previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
        followup = previous is not None and _is_followup(query)
        standalone = f"{previous} {question}" if followup else question

        t0 = time.perf_counter()
        result = self.people.answer(query, context)
        if result is None and followup:
            result = self.people.answer(parse(standalone), context)
        cites = compose.Citations(self.generation.chunks)
        if result is not None:
            if result.abstained or not result.lines:
                text = compose.NO_MATCH_PEOPLE if result.no_match else compose.ABSTAIN_TEXT
                answer = self._finish(question, text, True, cites, started, t0, t0)
                return Evidence(question, standalone, turns, [], answer)
            text = compose.render_people(result, self.generation.chunks, cites)
            if not compose.fits(text):
                cites = compose.Citations(self.generation.chunks)
                text = compose.render_people(_shorten(result), self.generation.chunks, cites)
            answer = self._finish(question, text, False, cites, started, t0, time.perf_counter())
            return Evidence(question, standalone, turns, cites.positions(), answer, people=True)

        text, abstained, t1, passages = self._general(standalone, cites)
        answer = self._finish(question, text, abstained, cites, started, t0, t1)
        return Evidence(question, standalone, turns, passages, answer)

    # --- internals ------------------------------------------------------------------

    def _general(self, question: str, cites: compose.Citations) -> tuple[str, bool, float, list[int]]:
        retriever = self.retriever
        vector = retriever.embed_query(question)
        normalised = normalise(question)
        hits = retriever.search(normalised, vector, top=SENTENCE_PASSAGES)
        t1 = time.perf_counter()
        passages = [h.position for h in hits]
        terms = content_terms(normalised)
        sentences = retriever.sentences(hits, vector, terms, normalised)
        if not sentences:
            return compose.ABSTAIN_TEXT, True, t1, passages
        best = sentences[0]
        coverage = retriever.passage_coverage(terms, best.position)
        if not _answerable(best.dense, coverage, best.typed, bool(terms)):
            return compose.ABSTAIN_TEXT, True, t1, passages
        chosen = [best]
        for other in sentences[1:3]:
            if other.score >= best.score - SECOND_SENTENCE_GAP and other.coverage > 0:
                chosen.append(other)
        chosen.sort(key=lambda s: (s.position, s.start))
        parts = []
        for sentence in chosen:
            raw = sentence.text(self.generation.chunks)
            n = cites.cite(sentence.position, raw)
            parts.append(compose.with_marker(_standalone(raw, self.generation.chunks[sentence.position].section), f"[{n}]"))
        text = " ".join(parts)
        if not compose.fits(text) and len(parts) == 1:
            text = compose.shorten(text)
        if not compose.fits(text) and len(parts) > 1:
            cites.reset()  # too long together: the best sentence alone
            raw = best.text(self.generation.chunks)
            n = cites.cite(best.position, raw)
            text = compose.with_marker(_standalone(raw, self.generation.chunks[best.position].section), f"[{n}]")
        cited = cites.positions()
        return text, False, t1, cited + [p for p in passages if p not in cited]

    def _context_names(self, turns: list[Turn]) -> list[str]:
        """People named in the latest turn that names anyone (the assistant's answer first)."""
        for turn in reversed(turns):
            names = self.people.names_in(turn.content)
            if names:
                return names
        return []

    def _finish(self, question, text, abstained, cites, started, t0, t1) -> Answer:
        end = time.perf_counter()
        return Answer(
            question=question,
            answer=text,
            abstained=abstained,
            citations=[] if abstained else cites.build(),
            timings_ms={
                "retrieve": round((t1 - t0) * 1000, 2),
                "answer": round((end - t1) * 1000, 2),
                "total": round((end - started) * 1000, 2),
            },
        )


def _one_thread_per_query() -> None:
    """One torch thread per encode. Measured on this 2-core machine (scripts/bench_query.py):
    a single query embedding takes ~30 ms with one thread, but 80 ms to nearly a second with
    two as soon as anything else runs (a second request, another process), because the
    threads spin-wait for each other; concurrent UI requests then use the cores instead."""
    import torch

    torch.set_num_threads(1)


@lru_cache(maxsize=1)
def _generic_stems() -> frozenset[str]:
    return frozenset(s for w in lexicon.GENERIC_WORDS for s in analyze(w))


def content_terms(text: str) -> list[str]:
    """The question's terms that name its subject, without question-shaped words."""
    generic = _generic_stems()
    return [t for t in analyze(text) if t not in generic]


def _answerable(dense: float, coverage: float, typed: bool, has_terms: bool) -> bool:
    """Enough evidence: the passage covers the question's terms (a sentence of the asked-for
    kind counts for some), or the question has only question-shaped words and the sentence
    is of the asked-for kind, or the sentence is very close in meaning."""
    if dense >= MIN_DENSE:
        return True
    if dense < MIN_DENSE_WITH_COVERAGE:
        return False
    if not has_terms:
        return typed
    return coverage + TYPE_CREDIT * typed >= MIN_COVERAGE


def _standalone(sentence: str, section: str) -> str:
    """A list fragment ('A, B, C') reads as an answer only with its heading in front."""
    sentence = sentence.strip()
    if sentence.endswith((".", "!", "?")):
        return sentence
    heading = section.split(" > ")[-1]
    return f"{heading}: {sentence}."


def _shorten(result):
    """The same people with names only, for lists too long to answer concisely."""
    from assistant.people import Line, PeopleResult

    lines = tuple(Line(line.text.split(" (")[0], line.records) for line in result.lines)
    return PeopleResult(result.intro, lines, result.abstained, result.bullet)


def _is_followup(q: Query) -> bool:
    return q.followup_one or q.followup_many or q.text.startswith(FOLLOWUP_OPENERS) or len(q.stems) <= 1


def validate_question(question: object) -> str:
    """The question stripped, or EmptyQuestion / QuestionTooLong."""
    if not isinstance(question, str) or not question.strip():
        raise EmptyQuestion()
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(len(question))
    return question


def _turns(history: Sequence[Turn | dict] | None) -> list[Turn]:
    if not history:
        return []
    try:
        return [t if isinstance(t, Turn) else Turn.model_validate(t) for t in history]
    except Exception:
        raise BadHistory("history must be a list of {\"role\": \"user\"|\"assistant\", \"content\": \"...\"} objects") from None
