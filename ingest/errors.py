"""The errors users can cause, each with a one-line message that says what to do.

    AssistantError
     ├── CorpusError      bad material: names the file (and record/field)
     ├── IndexMissing     no index yet: run ingest
     ├── IndexUnusable    the index exists but cannot be used (model mismatch, corrupt)
     ├── IndexBusy        another ingest is updating the same index folder now
     ├── StoreUnavailable the Chroma server does not answer (down, unreachable, timed out)
     └── ModelError       the embedding model cannot be loaded

The CLI prints ``str(error)`` and exits non-zero; the UI shows it as ``gr.Error``.
"""
from __future__ import annotations


class AssistantError(Exception):
    """Base for errors caused by input or environment rather than bugs."""


class CorpusError(AssistantError):
    """A corpus file or folder cannot be ingested."""


class IndexMissing(AssistantError):
    """There is no index at the expected place."""

    def __init__(self, index_dir: object) -> None:
        super().__init__(
            f"no index found in {index_dir}: build it first with 'python -m ingest' (or 'make run')"
        )


class IndexUnusable(AssistantError):
    """An index exists but cannot be used as it is."""


class IndexBusy(AssistantError):
    """Another process is ingesting into the same index folder; try again when it has finished."""


class StoreUnavailable(AssistantError):
    """The Chroma server cannot be reached now; retrying later may succeed."""


class ModelError(AssistantError):
    """The embedding model cannot be loaded."""


class SettingsError(AssistantError, ValueError):
    """An ASSISTANT_* setting has a value it cannot take (the message names the variable)."""
