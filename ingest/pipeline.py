"""The ingest step end to end: read and validate the whole corpus, chunk it, embed
what is new (reusing vectors of unchanged passages), build the keyword index, write
a new generation and a new Chroma collection, then swap the manifest.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest import store
from ingest.chunking import CHUNK_OVERLAP, CHUNK_TOKENS, Chunk, chunk_sections, participant_chunks, split_sentences
from ingest.errors import CorpusError, IndexUnusable
from ingest.index import (
    FileEntry,
    Generation,
    Manifest,
    collection_prefix,
    generation_dir,
    remove_stale_generations,
)
from ingest.keyword import KeywordIndex
from ingest.participants import Participant, ParticipantFile
from ingest.settings import Settings
from ingest.sources import list_corpus, read_participants, read_sections


# How documents are read and chunked; an index built another way reads every document
# again. v2: PDF sections per heading and page («side N»), tables as Markdown tables.
CHUNKING = f"{CHUNK_TOKENS}/{CHUNK_OVERLAP}/v2"


@dataclass(frozen=True)
class Summary:
    documents: int
    sections: int
    chunks: int
    participants: int
    embedded: int
    seconds: float
    unchanged: bool
    skipped: tuple[str, ...] = ()

    def line(self) -> str:
        state = "index unchanged" if self.unchanged else f"embedded {self.embedded} new passages/sentences"
        return (
            f"Ingested {self.documents} documents, {self.sections} sections, {self.chunks} chunks, "
            f"{self.participants} participant records in {self.seconds:.1f} s ({state})."
        )


def ingest(settings: Settings, *, progress: bool = True) -> Summary:
    """Bring the index in ``settings.index_dir`` up to date with ``settings.corpus_dir``."""
    started = time.perf_counter()
    corpus_dir, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    files, skipped = list_corpus(corpus_dir)
    old = _readable_manifest(index_dir)
    hashes = {f.name: f.sha256 for f in files}
    chroma_mode = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "embedded"
    if (
        old is not None
        and old.embed_model == settings.embed_model
        and old.chroma == chroma_mode
        and old.chunking == CHUNKING
        and {k: v.sha256 for k, v in old.files.items()} == hashes
        and generation_dir(index_dir, old.generation).is_dir()
    ):
        c = old.counts
        return Summary(c["documents"], c["sections"], c["chunks"], c["participants"], 0,
                       time.perf_counter() - started, True, tuple(skipped))

    # Read and validate everything before writing anything; a document whose bytes are
    # unchanged keeps its chunks from the current index (no re-reading, no re-tokenising).
    previous_gen = _previous_generation(index_dir, old, settings)
    reusable = _reusable_chunks(old, previous_gen)
    chunks: list[Chunk] = []
    entries: dict[str, FileEntry] = {}
    people: list[Participant] = []
    periods = {}
    n_docs = n_sections = 0
    for source in files:
        if source.path.suffix.lower() in {".yaml", ".yml"}:
            data: ParticipantFile = read_participants(source)
            new = participant_chunks(data, source.name)
            people.extend(data.participants)
            periods[source.name] = data.project_period
            entries[source.name] = FileEntry(source.sha256, "participants", len(new))
        elif (source.name, source.sha256) in reusable:
            new, n_file_sections = reusable[(source.name, source.sha256)]
            n_docs += 1
            n_sections += n_file_sections
            entries[source.name] = FileEntry(source.sha256, "document", len(new), n_file_sections)
        else:
            sections = read_sections(source)
            new = chunk_sections(sections, _token_counter(settings))
            n_docs += 1
            n_sections += len(sections)
            entries[source.name] = FileEntry(source.sha256, "document", len(new), len(sections))
        chunks.extend(new)
    _check_unique_ids(people, chunks)
    if not chunks:
        raise CorpusError(f"corpus folder {corpus_dir} holds no text to index")

    previous = _previous_vectors(previous_gen)
    chunk_vectors, sentence_rows, embedded = _embed(settings, chunks, previous, progress)
    sentence_vectors, sentence_chunk, sentence_spans = sentence_rows

    generation = Generation(
        chunks=chunks,
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
        sentence_chunk=sentence_chunk,
        sentence_spans=sentence_spans,
        participants=people,
        periods=periods,
        keyword=KeywordIndex.build([c.embed_text for c in chunks]),
    )
    index_dir.mkdir(parents=True, exist_ok=True)
    gen_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    generation.save(generation_dir(index_dir, gen_id))
    prefix = collection_prefix(index_dir)
    collection = prefix + gen_id.replace("T", "t")
    client = store.connect(settings, index_dir)
    store.write_collection(
        client,
        collection,
        ids=[c.id for c in chunks],
        vectors=chunk_vectors,
        metadatas=[_chroma_metadata(c) for c in chunks],
        documents=[c.text for c in chunks],
    )
    counts = {"documents": n_docs, "sections": n_sections, "chunks": len(chunks), "participants": len(people)}
    Manifest(gen_id, collection, settings.embed_model, entries, counts, chroma=chroma_mode, chunking=CHUNKING).write(index_dir)
    # The swap is done; what follows only frees space.
    store.drop_stale_collections(client, prefix, keep=collection)
    remove_stale_generations(index_dir, keep=gen_id)
    return Summary(n_docs, n_sections, len(chunks), len(people), embedded,
                   time.perf_counter() - started, False, tuple(skipped))


def _readable_manifest(index_dir: Path) -> Manifest | None:
    try:
        return Manifest.read(index_dir)
    except IndexUnusable:
        return None  # a damaged manifest is rebuilt from scratch


_COUNTERS: dict[str, object] = {}


def _token_counter(settings: Settings):
    if settings.embed_model not in _COUNTERS:
        from ingest.embedding import load_token_counter

        _COUNTERS[settings.embed_model] = load_token_counter(settings)
    return _COUNTERS[settings.embed_model]


def _check_unique_ids(people: list[Participant], chunks: list[Chunk]) -> None:
    seen: dict[str, str] = {}
    for person in people:
        if person.id in seen:
            raise CorpusError(f"duplicate participant id '{person.id}' (in {seen[person.id]} and another participant file)")
        seen[person.id] = person.document or "a participant file"
    ids = [c.id for c in chunks]
    if len(set(ids)) != len(ids):
        raise CorpusError("two chunks got the same id; check for duplicate participant ids or files")


def _previous_generation(index_dir: Path, old: Manifest | None, settings: Settings) -> Generation | None:
    """The index in use, when it was built with the same model (else nothing can be reused)."""
    if old is None or old.embed_model != settings.embed_model:
        return None
    try:
        return Generation.load(generation_dir(index_dir, old.generation), with_keyword=False)
    except IndexUnusable:
        return None


def _reusable_chunks(old: Manifest | None, gen: Generation | None) -> dict[tuple[str, str], tuple[list[Chunk], int]]:
    """Chunks and section counts of the documents in the index in use, by (name, sha256)."""
    if old is None or gen is None or old.chunking != CHUNKING:
        return {}
    by_document: dict[str, list[Chunk]] = {}
    for chunk in gen.chunks:
        if chunk.kind == "text":
            by_document.setdefault(chunk.document, []).append(chunk)
    return {
        (name, entry.sha256): (by_document[name], entry.sections)
        for name, entry in old.files.items()
        if entry.kind == "document" and entry.sections and name in by_document
    }


def _previous_vectors(gen: Generation | None) -> dict[str, np.ndarray]:
    """Vectors of the current index keyed by text hash, so unchanged text is not re-embedded."""
    if gen is None:
        return {}
    reuse = {c.content_hash: gen.chunk_vectors[i] for i, c in enumerate(gen.chunks)}
    for row, (pos, (start, end)) in enumerate(zip(gen.sentence_chunk, gen.sentence_spans)):
        reuse[_sentence_key(sentence_embed_text(gen.chunks[int(pos)], start, end))] = gen.sentence_vectors[row]
    return reuse


def sentence_embed_text(chunk: Chunk, start: int, end: int) -> str:
    """A sentence is embedded under its own heading, so a bare list line keeps its meaning."""
    return f"{chunk.section.split(' > ')[-1]}: {chunk.text[start:end]}"


def _sentence_key(sentence: str) -> str:
    return "s:" + hashlib.sha1(sentence.encode()).hexdigest()


def _embed(settings: Settings, chunks: list[Chunk], previous: dict[str, np.ndarray], progress: bool):
    """Passage and sentence vectors; only text not seen in the previous index is embedded."""
    sentence_chunk, sentence_spans, sentence_keys, sentence_texts = [], [], [], []
    for pos, chunk in enumerate(chunks):
        for start, end in split_sentences(chunk.text):
            sentence_chunk.append(pos)
            sentence_spans.append((start, end))
            text = sentence_embed_text(chunk, start, end)
            sentence_keys.append(_sentence_key(text))
            sentence_texts.append(text)
    wanted = [(c.content_hash, c.embed_text) for c in chunks] + list(zip(sentence_keys, sentence_texts))
    todo = {key: text for key, text in wanted if key not in previous}
    vectors = dict(previous)
    if todo:
        from ingest.embedding import load_embedder

        embedder = load_embedder(settings)
        # Longest first and in large blocks: batches of similar length waste little on padding.
        keys = sorted(todo, key=lambda k: -len(todo[k]))
        block = 512
        bar = _progress(len(keys), progress)
        for start in range(0, len(keys), block):
            part_keys = keys[start:start + block]
            part = embedder.get_text_embedding_batch([todo[k] for k in part_keys])
            for key, vec in zip(part_keys, part):
                vectors[key] = np.asarray(vec, dtype=np.float32)
            bar.update(len(part))
        bar.close()
    chunk_vectors = np.stack([vectors[c.content_hash] for c in chunks]).astype(np.float32)
    dim = chunk_vectors.shape[1]
    sentence_vectors = (
        np.stack([vectors[k] for k in sentence_keys]).astype(np.float32) if sentence_keys else np.zeros((0, dim), np.float32)
    )
    rows = (sentence_vectors, np.asarray(sentence_chunk, dtype=np.int32), np.asarray(sentence_spans, dtype=np.int32).reshape(-1, 2))
    return chunk_vectors, rows, len(todo)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="Embedding", unit="text", disable=not enabled or total < 200, leave=False)


def _chroma_metadata(chunk: Chunk) -> dict:
    meta = {"document": chunk.document, "section": chunk.section, "position": chunk.position, "kind": chunk.kind}
    meta.update({f"p_{k}": v for k, v in chunk.meta.items()})
    return meta
