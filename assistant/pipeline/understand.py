"""Stage 1, understand: the question validated and parsed, and a follow-up («Og hvem overtok?») read
together with the question before it."""
from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache

from assistant import lexicon
from assistant.errors import MAX_QUESTION_CHARS, BadHistory, EmptyQuestion, QuestionTooLong
from assistant.models import Turn
from assistant.pipeline.case import Case
from assistant.query import Query, parse
from ingest import analyze

FOLLOWUP_OPENERS = ("og ", "hva med ", "enn ", "hvem andre", "også ", "samme ")


def understand(question: str, turns: list[Turn], started: float | None = None) -> Case:
    """A Case for one (already validated) standalone question part."""
    query = parse(question)
    standalone, followup = standalone_question(question, turns, query)
    return Case(question, turns, query, standalone, followup, time.perf_counter() if started is None else started)


def standalone_question(question: str, turns: list[Turn], query: Query | None = None) -> tuple[str, bool]:
    """The question with the previous one in front when it leans on it (a follow-up)."""
    previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
    followup = previous is not None and is_followup(query or parse(question))
    return (f"{previous} {question}" if followup else question), followup


def is_followup(q: Query) -> bool:
    return q.followup_one or q.followup_many or q.text.startswith(FOLLOWUP_OPENERS) or len(q.stems) <= 1


def validate_question(question: object) -> str:
    """The question stripped, or EmptyQuestion / QuestionTooLong."""
    if not isinstance(question, str) or not question.strip():
        raise EmptyQuestion()
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(len(question))
    return question


def turns_of(history: Sequence[Turn | dict] | None) -> list[Turn]:
    """The conversation so far as Turns, or BadHistory."""
    if not history:
        return []
    try:
        return [t if isinstance(t, Turn) else Turn.model_validate(t) for t in history]
    except Exception:
        raise BadHistory("history must be a list of {\"role\": \"user\"|\"assistant\", \"content\": \"...\"} objects") from None


@lru_cache(maxsize=1)
def generic_stems() -> frozenset[str]:
    return frozenset(s for w in lexicon.GENERIC_WORDS for s in analyze(w))


def content_terms(text: str) -> list[str]:
    """The question's terms that name its subject, without question-shaped words."""
    generic = generic_stems()
    return [t for t in analyze(text) if t not in generic]
