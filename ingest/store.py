"""The only module that talks to Chroma: an embedded PersistentClient under the
index folder by default, or a Chroma server when ASSISTANT_CHROMA_HOST is set.

One collection per index folder holds the passages of every document version in use
(see ``ingest.index``): an ingest upserts only new and changed documents' rows, and
deletes rows no generation uses after the manifest swap, so a failed run never touches
what the generation in use retrieves. Telemetry is off and no collection ever gets
Chroma's default embedding function (it would download a model): vectors come from us.
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ingest.errors import IndexUnusable, StoreUnavailable
from ingest.settings import Settings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

BATCH = 1000
# chromadb's HTTP client waits forever by default. A request the server does not answer
# within this gives up, so a question fails with a message instead of hanging. The largest
# request is a 1,000-row page of vectors at start-up (~0.3 s on loopback).
HTTP_TIMEOUT = 10.0
CONNECT_TIMEOUT = 3.0
FETCH_THREADS = 4  # parallel pages when an app server loads the index from the server
RECORD_VECTOR = [1.0]  # generation records have no meaning as vectors; Chroma wants one anyway


def connect(settings: Settings, index_dir: Path):
    """A Chroma client: the server named in the settings, else the embedded store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb turns a refused connection into a bare ValueError
            raise unavailable(settings, exc) from None
        _set_timeout(client)
        return client
    try:
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError subclasses
        raise IndexUnusable(f"cannot open the Chroma store at {index_dir / 'chroma'}: {str(exc).splitlines()[0]}") from None


def _set_timeout(client) -> None:
    """Give the HTTP client's session a timeout (chromadb offers no setting for it)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(HTTP_TIMEOUT, connect=CONNECT_TIMEOUT)


def server_address(settings: Settings) -> str:
    return f"{settings.chroma_host}:{settings.chroma_port}"


def unavailable(settings: Settings | None, exc: BaseException) -> StoreUnavailable:
    reason = (str(exc).splitlines() or [""])[0] or exc.__class__.__name__
    where = f" at {server_address(settings)}" if settings is not None else ""
    return StoreUnavailable(
        f"cannot reach the Chroma server{where} ({reason}); "
        "start it, or check ASSISTANT_CHROMA_HOST and ASSISTANT_CHROMA_PORT"
    )


@contextlib.contextmanager
def reaching(settings: Settings | None = None) -> Iterator[None]:
    """Turn the HTTP client's transport failures (refused, reset, timed out) into StoreUnavailable."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise unavailable(settings, exc) from None


def ensure_collection(client, name: str):
    """The index's collection (cosine space), created on first use."""
    return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)


def upsert(collection, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict],
           documents: Sequence[str] | None = None) -> None:
    """Store passages (or sentences, without documents); re-running after an interrupted ingest
    overwrites its leftovers."""
    for start in range(0, len(ids), BATCH):
        stop = start + BATCH
        collection.upsert(
            ids=list(ids[start:stop]),
            embeddings=np.asarray(vectors[start:stop], dtype=np.float32),
            metadatas=list(metadatas[start:stop]),
            documents=list(documents[start:stop]) if documents is not None else None,
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


def drop_stale_collections(client, prefix: str, keep: Sequence[str]) -> None:
    """Remove this index's collections other than ``keep`` (left by earlier or interrupted runs)."""
    for item in client.list_collections():
        name = item.name if hasattr(item, "name") else item
        if name.startswith(prefix) and name not in keep:
            client.delete_collection(name)


# --- the index in a Chroma server: sentence rows and generation records -----------------------


def get_rows(collection, ids: Sequence[str], include: Sequence[str]) -> dict[str, tuple]:
    """Rows by id, fetched in parallel pages: {id: (embedding, document, metadata)} for the
    fields in ``include`` (None for the others). Ids Chroma lacks are missing from the result."""
    pages = [list(ids[i:i + BATCH]) for i in range(0, len(ids), BATCH)]

    def fetch(page: list[str]) -> dict[str, tuple]:
        got = collection.get(ids=page, include=list(include))
        n = len(got["ids"])
        columns = [got.get(f) if got.get(f) is not None else [None] * n for f in ("embeddings", "documents", "metadatas")]
        return dict(zip(got["ids"], zip(*columns)))

    rows: dict[str, tuple] = {}
    with ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:  # the HTTP client is thread-safe
        for part in pool.map(fetch, pages):
            rows.update(part)
    return rows


def put_record(collection, record_id: str, record: dict, metadata: dict) -> None:
    """Store a JSON record (a generation's description, or the pointer to the current one)."""
    collection.upsert(ids=[record_id], embeddings=[RECORD_VECTOR], documents=[json.dumps(record, ensure_ascii=False)],
                      metadatas=[metadata])


def get_record(collection, record_id: str) -> dict | None:
    got = collection.get(ids=[record_id], include=["documents"])
    return json.loads(got["documents"][0]) if got["ids"] else None


def record_metadata(collection) -> dict[str, dict]:
    """Every record's id and metadata (not the records themselves)."""
    got = collection.get(include=["metadatas"])
    return dict(zip(got["ids"], got["metadatas"]))


def delete_ids(collection, ids: Sequence[str]) -> None:
    if ids:
        collection.delete(ids=list(ids))


def open_or_none(client, name: str):
    """The collection, or None when it does not exist (yet)."""
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=None)
    except (NotFoundError, ValueError):
        return None
