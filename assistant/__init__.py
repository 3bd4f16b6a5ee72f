"""The project assistant's public surface.

    from assistant import Assistant, Answer, Citation, Turn, Settings

``Assistant(settings)`` answers questions over one index; ``Answer`` and ``Citation``
are what it returns (the CLI/API contract); ``Turn`` is one earlier message. The error
classes are re-exported too. Importing this package loads no model and opens no index.
"""
from assistant.errors import (
    AssistantError,
    BadHistory,
    EmptyQuestion,
    IndexMissing,
    IndexUnusable,
    LLMConfigError,
    ModelError,
    QuestionTooLong,
)
from assistant.models import Answer, Citation, Turn
from assistant.service import Assistant
from ingest import Settings

__all__ = [
    "Assistant", "Answer", "Citation", "Turn", "Settings",
    "AssistantError", "BadHistory", "EmptyQuestion", "IndexMissing", "IndexUnusable", "LLMConfigError",
    "ModelError", "QuestionTooLong",
]
