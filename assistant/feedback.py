"""Users' ratings of answers: a small SQLite store (``ASSISTANT_FEEDBACK_DB``) and the
export that turns them into evaluation cases (``python -m assistant feedback export``).

Each rating keeps what a maintainer needs to reproduce the answer: the question, the
conversation before it, the answer JSON with its citations, and the index generation.
The UI calls this from several threads at once, so every operation opens its own
connection; WAL mode lets readers (the export) run while the app writes.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.errors import MAX_QUESTION_CHARS, BadFeedback, FeedbackUnavailable
from assistant.models import Answer, Turn

Rating = Literal["up", "down"]
RATINGS: tuple[str, ...] = ("up", "down")
MAX_COMMENT_CHARS = 4000
# Several app threads may write at once; SQLite serialises writers, so wait for the lock
# rather than fail (a rating is a single small row: milliseconds).
BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       TEXT NOT NULL,            -- UTC, ISO 8601
    question   TEXT NOT NULL,
    history    TEXT NOT NULL,            -- JSON: [{"role": ..., "content": ...}], oldest first
    answer     TEXT NOT NULL,            -- JSON: the answer object of the contract, with citations
    rating     TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment    TEXT NOT NULL DEFAULT '',
    generation TEXT                      -- the index generation that answered, if known
)
"""


class Feedback(BaseModel):
    """One stored rating."""

    model_config = ConfigDict(frozen=True)
    id: int
    time: str
    question: str
    history: list[Turn]
    answer: Answer
    rating: Rating
    comment: str = ""
    generation: str | None = None

    def case(self) -> dict:
        """This rating as an evaluation case (tests/eval/*.yaml), with ``expect``/``abstain``
        left for a maintainer to fill in."""
        return {
            "id": self.id,
            "question": self.question,
            "history": [t.model_dump() for t in self.history],
            "answer": self.answer.answer,
            "rating": self.rating,
            "comment": self.comment,
            "expect": [],
            "abstain": None,
            # Context for whoever writes expect/source; the scorer ignores these keys.
            "abstained": self.answer.abstained,
            "citations": [{"n": c.n, "document": c.document, "section": c.section, "text": c.text}
                          for c in self.answer.citations],
            "time": self.time,
            "generation": self.generation,
        }


def check_rating(rating: object) -> Rating:
    if rating not in RATINGS:
        raise BadFeedback("rating", f"the rating must be 'up' or 'down', not {rating!r}")
    return rating  # type: ignore[return-value]


def check_comment(comment: object) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise BadFeedback("comment", "the comment must be text")
    if len(comment) > MAX_COMMENT_CHARS:
        raise BadFeedback("comment", f"the comment is {len(comment)} characters; the limit is {MAX_COMMENT_CHARS}")
    return comment.strip()


def parse_answer(answer: str | dict | Answer) -> Answer:
    """The answer object from its JSON text (as ``/ask`` returns it), or BadFeedback."""
    if isinstance(answer, Answer):
        return answer
    try:
        data = json.loads(answer) if isinstance(answer, str) else answer
        return Answer.model_validate(data)
    except json.JSONDecodeError as exc:
        raise BadFeedback("answer", f"the answer is not JSON ({exc.msg})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "the object"
        raise BadFeedback("answer", f"the answer is not an answer object from /ask ({where}: {err['msg']})") from None


def parse_history(history: object) -> list[Turn]:
    if history in (None, ""):
        return []
    try:
        data = json.loads(history) if isinstance(history, str) else history
        if not isinstance(data, list):
            raise ValueError
        return [Turn.model_validate(t) for t in data]
    except (ValueError, ValidationError):
        raise BadFeedback("history", 'the history must be a list of {"role": "user"|"assistant", "content": ...}') from None


def check_question(question: object) -> str:
    text = question.strip() if isinstance(question, str) else ""
    if not text:
        raise BadFeedback("question", "the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadFeedback("question", f"the question is {len(text)} characters; the limit is {MAX_QUESTION_CHARS}")
    return text


class FeedbackStore:
    """The ratings database at ``path``; the file and its folder are created on the first write."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # --- writing ---------------------------------------------------------------------

    def add(self, question: str, answer: Answer | str | dict, rating: str, comment: str | None = "",
            history: Sequence[Turn | dict] | str | None = None, generation: str | None = None) -> int:
        """Store one rating after checking every field; returns its id. Nothing is stored on bad input."""
        question = check_question(question)
        parsed = parse_answer(answer)
        rating = check_rating(rating)
        comment = check_comment(comment)
        turns = parse_history([t.model_dump() if isinstance(t, Turn) else t for t in history]
                              if isinstance(history, (list, tuple)) else history)
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            question,
            json.dumps([t.model_dump() for t in turns], ensure_ascii=False),
            json.dumps(parsed.contract(), ensure_ascii=False),
            rating,
            comment,
            generation,
        )
        with self._connect(create=True) as db:
            cursor = db.execute(
                "INSERT INTO feedback (time, question, history, answer, rating, comment, generation) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            return int(cursor.lastrowid)

    def update(self, feedback_id: int, *, rating: str | None = None, comment: str | None = None) -> bool:
        """Change the rating and/or the comment of a stored row; False if there is no such row."""
        changes: dict[str, str] = {}
        if rating is not None:
            changes["rating"] = check_rating(rating)
        if comment is not None:
            changes["comment"] = check_comment(comment)
        if not changes:
            return False
        assignments = ", ".join(f"{column} = ?" for column in changes)  # column names are ours, not input
        with self._connect(create=True) as db:
            cursor = db.execute(f"UPDATE feedback SET {assignments} WHERE id = ?", (*changes.values(), feedback_id))
            return cursor.rowcount == 1

    def remove(self, feedback_id: int) -> bool:
        """Forget a rating (the user took it back); False if there was none."""
        with self._connect(create=True) as db:
            return db.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,)).rowcount == 1

    # --- reading ---------------------------------------------------------------------

    def get(self, feedback_id: int) -> Feedback | None:
        rows = self._select("WHERE id = ?", (feedback_id,))
        return rows[0] if rows else None

    def all(self, rating: str | None = None) -> list[Feedback]:
        """Every stored rating, oldest first (only ``rating`` ones if given); none if the file does not exist."""
        if rating is not None:
            return self._select("WHERE rating = ? ORDER BY id", (check_rating(rating),))
        return self._select("ORDER BY id", ())

    def _select(self, where: str, params: tuple) -> list[Feedback]:
        if not self.path.exists():
            return []
        with self._connect(create=False) as db:
            rows = db.execute(
                f"SELECT id, time, question, history, answer, rating, comment, generation FROM feedback {where}", params
            ).fetchall()
        return [
            Feedback(id=r[0], time=r[1], question=r[2], history=json.loads(r[3]), answer=json.loads(r[4]),
                     rating=r[5], comment=r[6], generation=r[7])
            for r in rows
        ]

    # --- connection --------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection]:
        """A fresh connection in one transaction (one per operation: Gradio calls us from
        many threads); any SQLite or file-system failure becomes FeedbackUnavailable."""
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                with db:  # commit on success, roll back on error
                    yield db
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackUnavailable(f"cannot use the ratings database {self.path} ({exc}); "
                                      "set ASSISTANT_FEEDBACK_DB to a writable file") from None


def export_yaml(records: Sequence[Feedback]) -> str:
    """The ratings as a YAML list of evaluation cases (see :meth:`Feedback.case`)."""
    return yaml.safe_dump([r.case() for r in records], allow_unicode=True, sort_keys=False, width=100)
