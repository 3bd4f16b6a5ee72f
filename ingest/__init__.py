"""Ingest: read the material in corpus/, chunk it, embed it, and write an index generation
(``python -m ingest``).

This module is also the small public face the query side (``assistant``) reads the index through:
``from ingest import Index, Settings, analyze``. Names are imported on first use, so importing
``ingest`` stays cheap (the chunker pulls in llama-index).
"""
from __future__ import annotations

import importlib

_PUBLIC = {
    # the index and what it holds
    "Index": "ingest.index", "Generation": "ingest.index", "Manifest": "ingest.index",
    "Chunk": "ingest.chunking", "last_heading": "ingest.chunking", "split_sentences": "ingest.chunking",
    "Participant": "ingest.participants", "Period": "ingest.participants", "month_index": "ingest.participants",
    "project_name": "ingest.sources",
    # the keyword side's Norwegian analysis, shared so questions are read as the material was
    "analyze": "ingest.keyword", "fold": "ingest.keyword", "stopwords": "ingest.keyword",
    # settings and errors
    "Settings": "ingest.settings", "DATA_DIR": "ingest.settings", "PROJECT_ROOT": "ingest.settings",
    "AssistantError": "ingest.errors", "IndexMissing": "ingest.errors", "IndexUnusable": "ingest.errors",
    "ModelError": "ingest.errors", "StoreUnavailable": "ingest.errors", "CorpusError": "ingest.errors",
    "IndexBusy": "ingest.errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'ingest' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
