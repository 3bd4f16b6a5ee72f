"""The whole index in a Chroma server, so app servers need no local index folder.

Beside ``<name>_passages`` (as in embedded mode), ``<name>_sentences`` holds the sentence
vectors (id ``<passage row id>#<k>``, metadata: doc_key, passage row id, k, span) and
``<name>_generations`` one JSON record per generation: its manifest, its passages in chunk
order (row ids), how many sentences each has, the participant records, periods and
document versions. The row ``current`` points at the generation in use and is written
last, so an ingest that dies midway leaves every app server on the previous one. The
BM25 side is rebuilt from the passages when an app server loads a generation.

Rows of superseded generations stay for a grace period (see :func:`collect_garbage`), so a
replica still answering from one keeps working until it notices the new pointer.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ingest import store
from ingest.chunking import Chunk
from ingest.errors import IndexMissing, IndexUnusable
from ingest.index import Collections, FileEntry, Generation, Manifest, index_collections
from ingest.keyword import KeywordIndex
from ingest.participants import Participant, Period
from ingest.settings import Settings

log = logging.getLogger(__name__)

POINTER = "current"
# A superseded generation's rows are deleted by the first ingest this long after it was
# replaced (the one just replaced is always kept until the next ingest). App servers poll
# the pointer every few seconds and load a generation in ~1-5 s (1,000 pages: README
# «Flere app-servere»), so ten minutes leaves a wide margin for a busy replica.
GRACE_SECONDS = 600


def sentence_id(row: str, k: int) -> str:
    return f"{row}#{k}"


def upload_sentences(collection, generation: Generation, skip: set[str]) -> None:
    """Store the sentence vectors of every passage whose document version is not in ``skip``
    (those rows are in the server already)."""
    rows = generation.row_ids()
    counts = np.bincount(generation.sentence_chunk, minlength=len(rows))
    first = np.concatenate([[0], np.cumsum(counts)])
    ids, metadatas, picks = [], [], []
    for pos, chunk in enumerate(generation.chunks):
        key = generation.doc_keys[chunk.document]
        if key in skip:
            continue
        for k, sentence in enumerate(range(first[pos], first[pos + 1])):
            start, end = (int(x) for x in generation.sentence_spans[sentence])
            ids.append(sentence_id(rows[pos], k))
            metadatas.append({"doc_key": key, "row": rows[pos], "k": k, "start": start, "end": end})
            picks.append(sentence)
        if len(picks) >= store.BATCH:
            store.upsert(collection, ids, generation.sentence_vectors[picks], metadatas)
            ids, metadatas, picks = [], [], []
    if picks:
        store.upsert(collection, ids, generation.sentence_vectors[picks], metadatas)


def publish(client, names: Collections, manifest: Manifest, generation: Generation) -> None:
    """Write the generation's record, then point ``current`` at it: the swap for app servers."""
    records = store.ensure_collection(client, names.generations)
    previous = store.get_record(records, POINTER)
    record = {
        "manifest": asdict(manifest),
        "rows": generation.row_ids(),
        "sentences": np.bincount(generation.sentence_chunk, minlength=len(generation.chunks)).tolist(),
        "participants": [p.model_dump() for p in generation.participants],
        "periods": {k: v.model_dump() for k, v in generation.periods.items()},
        "doc_keys": generation.doc_keys,
    }
    now = time.time()
    store.put_record(records, manifest.generation, record, {"kind": "generation", "created": now})
    pointer = {"generation": manifest.generation, "previous": previous["generation"] if previous else None}
    store.put_record(records, POINTER, pointer, {"kind": "pointer", "created": now})


def current_generation(client, names: Collections) -> str | None:
    """The id of the generation in use, or None if none was published under this name."""
    records = store.open_or_none(client, names.generations)
    pointer = store.get_record(records, POINTER) if records is not None else None
    return pointer["generation"] if pointer else None


def load_current(settings: Settings) -> tuple[Manifest, Generation]:
    """The generation the pointer names, loaded from the server (keyword index rebuilt in memory)."""
    names = index_collections(settings)
    client = store.connect(settings, Path(settings.index_dir))
    with store.reaching(settings):
        generation_id = current_generation(client, names)
        if generation_id is None:
            raise IndexMissing(f"the Chroma server at {store.server_address(settings)} (index name '{names.name}')")
        record = store.get_record(store.open_collection(client, names.generations), generation_id)
        if record is None:
            raise IndexUnusable(f"the record of generation {generation_id} is missing in the Chroma server; "
                                "run 'python -m ingest' again")
        return _manifest(record), _generation(client, names, record)


def _manifest(record: dict) -> Manifest:
    raw = dict(record["manifest"])
    raw["files"] = {k: FileEntry(**v) for k, v in raw["files"].items()}
    return Manifest(**raw)


def _generation(client, names: Collections, record: dict) -> Generation:
    rows: list[str] = record["rows"]
    passages = store.get_rows(store.open_collection(client, names.passages), rows, ("embeddings", "documents", "metadatas"))
    counts: list[int] = record["sentences"]
    ids = [sentence_id(row, k) for row, n in zip(rows, counts) for k in range(n)]
    sentences = store.get_rows(store.open_collection(client, names.sentences), ids, ("embeddings", "metadatas"))
    if len(passages) < len(rows) or len(sentences) < len(ids):
        raise IndexUnusable(f"the Chroma server lacks rows of generation {record['manifest']['generation']} "
                            "(deleted or never written); run 'python -m ingest' again")
    chunks = [_chunk(passages[row][1], passages[row][2]) for row in rows]
    dim = len(passages[rows[0]][0]) if rows else 0
    return Generation(
        chunks=chunks,
        chunk_vectors=np.asarray([passages[row][0] for row in rows], dtype=np.float32).reshape(-1, dim),
        sentence_vectors=np.asarray([sentences[i][0] for i in ids], dtype=np.float32).reshape(-1, dim),
        sentence_chunk=np.repeat(np.arange(len(rows), dtype=np.int32), counts),
        sentence_spans=np.asarray([(sentences[i][2]["start"], sentences[i][2]["end"]) for i in ids], dtype=np.int32).reshape(-1, 2),
        participants=[Participant(**p) for p in record["participants"]],
        periods={k: Period(**v) for k, v in record["periods"].items()},
        keyword=KeywordIndex.build([c.embed_text for c in chunks]),
        doc_keys=record["doc_keys"],
    )


def _chunk(text: str, meta: dict) -> Chunk:
    """A passage as the ingest made it, from its Chroma row (pipeline's metadata, p_* = chunk meta)."""
    return Chunk(
        id=meta["chunk_id"], document=meta["document"], section=meta["section"], position=int(meta["position"]),
        text=text, kind=meta["kind"], meta={k[2:]: v for k, v in meta.items() if k.startswith("p_")},
    )


def collect_garbage(client, names: Collections, *, now: float | None = None) -> None:
    """Delete generations nobody should still be using, and the rows only they used.

    Kept: the current generation, the one it replaced, and any generation replaced less
    than GRACE_SECONDS ago (or written less than that ago and never made current: an
    ingest still running elsewhere, or one that died).
    """
    now = time.time() if now is None else now
    records = store.open_collection(client, names.generations)
    pointer = store.get_record(records, POINTER)
    if pointer is None:
        return
    created = sorted((m["created"], rid) for rid, m in store.record_metadata(records).items() if rid != POINTER)
    keep = {pointer["generation"], pointer.get("previous")}
    for i, (at, rid) in enumerate(created):
        replaced_at = created[i + 1][0] if i + 1 < len(created) else at
        if now - replaced_at < GRACE_SECONDS:
            keep.add(rid)
    keep.discard(None)
    drop = [rid for _, rid in created if rid not in keep]
    kept = {rid: store.get_record(records, rid) for rid in keep}
    if kept.get(pointer["generation"]) is None:
        return  # the current generation's record is gone: deleting by it would empty the index
    doc_keys = {key for record in kept.values() if record for key in record["doc_keys"].values()}
    for name in (names.passages, names.sentences):
        collection = store.open_or_none(client, name)
        if collection is not None:
            store.delete_other_documents(collection, keep=sorted(doc_keys))
    store.delete_ids(records, drop)


class PointerWatch:
    """The generation the server's pointer names, read at most every ``POLL_SECONDS`` (one small
    HTTP request; an app server calls this before every question). While the server cannot be
    reached it reports the last generation it saw."""

    POLL_SECONDS = 2.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._names = index_collections(settings)
        self._client = None
        self._checked = float("-inf")
        self._seen: str | None = None

    def generation(self, *, fresh: bool = False) -> str | None:
        now = time.monotonic()
        if fresh or now - self._checked >= self.POLL_SECONDS:
            self._checked = now
            try:
                if self._client is None:
                    self._client = store.connect(self.settings, Path(self.settings.index_dir))
                with store.reaching(self.settings):
                    self._seen = current_generation(self._client, self._names) or self._seen
            except Exception as exc:  # down or restarting: keep answering from what is loaded
                log.warning("reading the index pointer failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return self._seen
