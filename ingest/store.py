"""The only module that talks to Chroma: an embedded PersistentClient under the
index folder by default, or a Chroma server when ASSISTANT_CHROMA_HOST is set.

One collection per index folder holds the passages of every document version in use
(see ``ingest.index``): an ingest upserts only new and changed documents' rows, and
deletes rows no generation uses after the manifest swap, so a failed run never touches
what the generation in use retrieves. Telemetry is off and no collection ever gets
Chroma's default embedding function (it would download a model): vectors come from us.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.errors import IndexUnusable
from ingest.settings import Settings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

BATCH = 1000


def connect(settings: Settings, index_dir: Path):
    """A Chroma client: the server named in the settings, else the embedded store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError subclasses
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(index_dir / "chroma")
        raise IndexUnusable(f"cannot open the Chroma store at {where}: {str(exc).splitlines()[0]}") from None


def ensure_collection(client, name: str):
    """The index's collection (cosine space), created on first use."""
    return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)


def upsert(collection, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict], documents: Sequence[str]) -> None:
    """Store passages; re-running after an interrupted ingest overwrites its leftovers."""
    for start in range(0, len(ids), BATCH):
        stop = start + BATCH
        collection.upsert(
            ids=list(ids[start:stop]),
            embeddings=np.asarray(vectors[start:stop], dtype=np.float32),
            metadatas=list(metadatas[start:stop]),
            documents=list(documents[start:stop]),
        )


def delete_other_documents(collection, keep: Sequence[str]) -> None:
    """Drop the rows of document versions no longer in use (replaced, removed or left by a failed run)."""
    collection.delete(where={"doc_key": {"$nin": list(keep)}})


def open_collection(client, name: str):
    try:
        return client.get_collection(name, embedding_function=None)
    except Exception:  # NotFoundError in 1.x, ValueError in older clients
        raise IndexUnusable(f"the Chroma collection '{name}' is missing; run 'python -m ingest' again") from None


def live_filter(doc_keys: Sequence[str]):
    """A llama-index filter that keeps retrieval to one generation's document versions."""
    from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

    return MetadataFilters(filters=[MetadataFilter(key="doc_key", value=list(doc_keys), operator=FilterOperator.IN)])


def vector_store(collection):
    """The collection as a llama-index vector store, for retrieval."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    return ChromaVectorStore(chroma_collection=collection)


def drop_stale_collections(client, prefix: str, keep: str) -> None:
    """Remove this index's collections other than ``keep`` (left by earlier or interrupted runs)."""
    for item in client.list_collections():
        name = item.name if hasattr(item, "name") else item
        if name.startswith(prefix) and name != keep:
            client.delete_collection(name)
