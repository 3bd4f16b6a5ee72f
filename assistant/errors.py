"""Errors a question can cause; all derive from ingest's AssistantError, so the CLI and
UI translate them in one place (one line, no traceback)."""
from __future__ import annotations

from ingest import AssistantError, IndexMissing, IndexUnusable, ModelError, StoreUnavailable

__all__ = ["AssistantError", "IndexMissing", "IndexUnusable", "ModelError", "StoreUnavailable", "EmptyQuestion", "QuestionTooLong", "BadHistory", "LLMConfigError",
           "BadFeedback", "FeedbackUnavailable"]

MAX_QUESTION_CHARS = 2000


class EmptyQuestion(AssistantError):
    def __init__(self) -> None:
        super().__init__("the question is empty; type a question about the project")


class QuestionTooLong(AssistantError):
    def __init__(self, length: int) -> None:
        super().__init__(f"the question is {length} characters; the limit is {MAX_QUESTION_CHARS}")
        self.length = length


class BadHistory(AssistantError):
    """The conversation history is not a list of {role, content} turns."""


class LLMConfigError(AssistantError):
    """The language-model settings cannot work as given (or its package is missing)."""


class BadFeedback(AssistantError):
    """A rating that cannot be stored as given; ``field`` names the input at fault
    (question, answer, rating, comment or history)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class FeedbackUnavailable(AssistantError):
    """The ratings database cannot be opened or written (path, permissions, not a SQLite file)."""
