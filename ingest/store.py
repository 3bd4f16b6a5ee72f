"""The only module that talks to Chroma: an embedded PersistentClient under the
index folder by default, or a Chroma server when ASSISTANT_CHROMA_HOST is set.

Each ingest writes a new collection and the manifest then points at it, so a failed
run never touches the collection in use. Telemetry is off and no collection ever gets
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


def write_collection(client, name: str, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict], documents: Sequence[str]) -> None:
    """Create ``name`` afresh (cosine space) and store the given vectors in batches."""
    existing = {c.name if hasattr(c, "name") else c for c in client.list_collections()}
    if name in existing:
        client.delete_collection(name)
    collection = client.create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
    for start in range(0, len(ids), BATCH):
        stop = start + BATCH
        collection.add(
            ids=list(ids[start:stop]),
            embeddings=vectors[start:stop].tolist(),
            metadatas=list(metadatas[start:stop]),
            documents=list(documents[start:stop]),
        )


def open_collection(client, name: str):
    try:
        return client.get_collection(name, embedding_function=None)
    except Exception:  # NotFoundError in 1.x, ValueError in older clients
        raise IndexUnusable(f"the Chroma collection '{name}' is missing; run 'python -m ingest' again") from None


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
