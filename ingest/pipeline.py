"""The ingest step end to end: read and validate the whole corpus, chunk it, embed what
is new in one encoder pass (passage and sentence vectors from the same token states),
build the keyword index, write a new generation, upsert only the new and changed
documents into Chroma, then swap the manifest and drop what no generation uses.
"""
from __future__ import annotations

import contextlib
import fcntl
import math
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest import remote, store
from ingest.chunking import (
    CHUNK_OVERLAP,
    CHUNK_TOKENS,
    Chunk,
    chunk_sections,
    last_heading,
    participant_chunks,
    split_sentences,
)
from ingest.embedmodel.export import EXPORT_VERSION
from ingest.errors import CorpusError, IndexBusy, IndexUnusable
from ingest.index import (
    FileEntry,
    Generation,
    Manifest,
    collection_prefix,
    doc_key,
    generation_dir,
    index_collections,
    remove_stale_generations,
    row_id,
)
from ingest.keyword import KeywordIndex
from ingest.ocr import OcrUnavailable
from ingest.participants import Participant, ParticipantFile
from ingest.settings import Settings
from ingest.sources import SHEET_SUFFIXES, list_corpus, read_participants, read_sections, read_sheets

# How passage and sentence vectors are made (README «Evaluering» has all three measured, each re-fitted on dev):
# - "sentences": each sentence of a passage encoded alone as «heading: sentence» (a batch of one, so no
#   padding, and a vector that depends on nothing else: int8 scales activations per batch); the passage
#   vector is the mean of all their token states. Every token goes through the model once (plus a short
#   heading and prefix per sentence). Used.
# - "pooled": the passage encoded once, each sentence vector the mean of its own tokens' states in that pass.
#   Fastest (100 generated pages: 23 s cold vs 37 s), but sentences of one passage then look alike: a short
#   added note's plainly stated answer ranked below its neighbour, and on dev fewer answerable questions
#   right (dev-tillegg 40 vs 41 of 64, dev-batch3 52 vs 54 of 90) and citations that hold less often.
# - "passage+sentences": the passage and then each sentence encoded alone (as before issue 9): 60 s, slower
#   than the llama-index starter (51 s); dev 217 vs 218 of 367 (more answerable questions right on the
#   added-material sets, but more unanswerable ones answered too).
VECTOR_METHOD = "sentences"
POOL_HEADING = False  # pooled: with the heading's tokens: dev 218.6 vs 221.5 of 367 right, top-1 0.566 vs 0.577
# How documents are read and chunked: an index read another way reads every document again
# (v2: PDF sections per heading and page «side N», tables as Markdown tables) ...
READING = f"{CHUNK_TOKENS}/{CHUNK_OVERLAP}/v2"
# ... and how vectors are made: an index embedded another way embeds every passage again
# (the method, and int8-N: the encoder's export version, whose quantisation moves every vector a little).
VECTORS = {"sentences": "sentences-2", "pooled": "pooled-1" + ("h" if POOL_HEADING else ""),
           "passage+sentences": "alone-1"}[VECTOR_METHOD] + f"/int8-{EXPORT_VERSION}"
CHUNKING = f"{READING}|{VECTORS}"
CHROMA_BATCH = 256  # rows per Chroma upsert: memory stays flat while vectors stream in
# Passages embedded at once, each encoder call on one thread (when the encoder allows it);
# None: one per core this process may use (see usable_cores).
WORKERS: int | None = None
CGROUP = Path("/sys/fs/cgroup")

Progress = Callable[[int, int], None]  # (texts embedded so far, texts to embed)


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
    new: int = 0
    changed: int = 0
    kept: int = 0
    removed: int = 0
    unreadable: tuple[Unreadable, ...] = ()  # files left out (--skip-unreadable, or no OCR engine)
    notes: tuple[str, ...] = ()  # how a file was read, where the user should know (a legacy encoding)

    def line(self) -> str:
        state = "index unchanged" if self.unchanged else f"embedded {self.embedded} new passages"
        left_out = f" Skipped {len(self.unreadable)} unreadable file{'s' * (len(self.unreadable) != 1)}." if self.unreadable else ""
        return (
            f"Ingested {self.documents} documents, {self.sections} sections, {self.chunks} chunks, "
            f"{self.participants} participant records in {self.seconds:.1f} s "
            f"(files: {self.new} new, {self.changed} changed, {self.kept} unchanged, {self.removed} removed; {state})."
            + left_out
        )


@dataclass(frozen=True)
class Unreadable:
    """A file the ingest left out, and why (the reader's message without the path)."""

    name: str
    reason: str


def ingest(settings: Settings, *, progress: bool | Progress = True, skip_unreadable: bool = False) -> Summary:
    """Bring the index in ``settings.index_dir`` up to date with ``settings.corpus_dir``.

    ``progress``: True draws a tqdm bar on stderr, False is silent, a callable receives
    (done, total) after each batch of passages is embedded. With a Chroma server, the
    generation is published there too (``ingest.remote``) and the server's pointer is the swap.
    ``skip_unreadable``: a file that cannot be read is left out (``Summary.unreadable``) instead
    of stopping the ingest; the ingest still fails when nothing at all could be read.
    """
    with _exclusive(Path(settings.index_dir)), store.reaching(settings if settings.chroma_host else None):
        return _update(settings, progress, skip_unreadable)


LOCK_FILE = ".ingest.lock"


@contextlib.contextmanager
def _exclusive(index_dir: Path) -> Iterator[None]:
    """One ingest per index folder at a time, across processes (the CLI, app servers' uploads): a
    second would publish a generation and then delete the rows of the first one's. The lock is
    the kernel's (flock), so a crashed ingest never leaves it held."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(f"another ingest is updating {index_dir}; run this again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _update(settings: Settings, progress: bool | Progress, skip_unreadable: bool = False) -> Summary:
    started = time.perf_counter()
    corpus_dir, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    files, skipped = list_corpus(corpus_dir)
    unreadable: list[Unreadable] = []
    notes: list[str] = []
    chroma_mode = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "embedded"
    old = _compatible_manifest(index_dir, settings)  # its vectors can be reused
    same_reading = old is not None and old.chunking == CHUNKING  # and its chunks and Chroma rows too
    published = old is not None and _published(settings, old, chroma_mode)  # the store holds its rows
    hashes = {f.name: f.sha256 for f in files}
    before = {k: v.sha256 for k, v in old.files.items()} if old else {}
    new = [n for n in hashes if n not in before]
    changed = [n for n in hashes if n in before and (before[n] != hashes[n] or not same_reading)]
    removed = [n for n in before if n not in hashes]
    kept = len(hashes) - len(new) - len(changed)
    counts = (len(new), len(changed), kept, len(removed))
    if same_reading and published and not (new or changed or removed):
        c = old.counts
        return Summary(c["documents"], c["sections"], c["chunks"], c["participants"], 0,
                       time.perf_counter() - started, True, tuple(skipped), *counts)

    # Read and validate everything before writing anything; a document whose bytes are
    # unchanged keeps its chunks from the current index (no re-reading, no re-tokenising).
    model = _Model(settings)
    previous = _previous_generation(index_dir, old)
    reusable = _reusable_chunks(old, previous) if same_reading else {}
    chunks: list[Chunk] = []
    entries: dict[str, FileEntry] = {}
    people: list[Participant] = []
    periods = {}
    n_docs = n_sections = 0
    for source in files:
        try:
            if source.path.suffix.lower() in {".yaml", ".yml"}:
                data: ParticipantFile = read_participants(source)
                found = participant_chunks(data, source.name)
                people.extend(data.participants)
                periods[source.name] = data.project_period
                entries[source.name] = FileEntry(source.sha256, "participants", len(found))
            elif source.path.suffix.lower() in SHEET_SUFFIXES:
                # Read again every time (cheap): a workbook can hold records and table rows both.
                book = read_sheets(source)
                records = ParticipantFile.model_construct(kind="participants", participants=book.people)
                found = participant_chunks(records, source.name) + chunk_sections(book.sections, model.token_ids)
                people.extend(book.people)
                if book.period:
                    periods[source.name] = book.period
                notes.extend(book.notes)
                n_docs += bool(book.sections)
                n_sections += len(book.sections)
                kind = "document" if book.sections else "participants"
                entries[source.name] = FileEntry(source.sha256, kind, len(found), len(book.sections))
            elif (source.name, source.sha256) in reusable:
                found, n_file_sections = reusable[(source.name, source.sha256)]
                n_docs += 1
                n_sections += n_file_sections
                entries[source.name] = FileEntry(source.sha256, "document", len(found), n_file_sections)
            else:
                sections = read_sections(source, settings)
                found = chunk_sections(sections, model.token_ids)
                n_docs += 1
                n_sections += len(sections)
                entries[source.name] = FileEntry(source.sha256, "document", len(found), len(sections))
        except CorpusError as exc:
            if not skip_unreadable and not isinstance(exc, OcrUnavailable):  # the rest goes on without OCR
                raise
            unreadable.append(Unreadable(source.name, _reason(exc, source.path)))
            continue
        chunks.extend(found)
    _check_unique_ids(people, chunks)
    if not chunks:
        if unreadable:
            raise CorpusError(f"no file in {corpus_dir} could be read ({len(unreadable)} skipped; the first, "
                              f"{unreadable[0].name}: {unreadable[0].reason})")
        raise CorpusError(f"corpus folder {corpus_dir} holds no text to index")

    keys = {name: doc_key(name, entry.sha256) for name, entry in entries.items()}
    client = store.connect(settings, index_dir)
    names = index_collections(settings)
    collection = store.ensure_collection(client, names.passages)
    # Rows of unchanged documents are already in Chroma (unless the store lost them).
    stored = _stored_keys(collection, old, keys) if same_reading and published else set()
    index_dir.mkdir(parents=True, exist_ok=True)
    gen_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    folder = generation_dir(index_dir, gen_id)
    folder.mkdir()
    sentences = _sentence_rows(chunks)
    writer = _RowWriter(collection, keys, skip=stored)
    embedded = _embed(model, chunks, sentences, previous, folder, writer, progress)
    writer.flush()

    generation = Generation(
        chunks=chunks,
        chunk_vectors=np.load(folder / "chunk_vectors.npy", mmap_mode="r"),
        sentence_vectors=np.load(folder / "sentence_vectors.npy", mmap_mode="r"),
        sentence_chunk=sentences[0],
        sentence_spans=sentences[1],
        participants=people,
        periods=periods,
        keyword=KeywordIndex.build([c.embed_text for c in chunks]),
        doc_keys=keys,
    )
    generation.save(folder)
    totals = {"documents": n_docs, "sections": n_sections, "chunks": len(chunks), "participants": len(people)}
    manifest = Manifest(gen_id, collection.name, settings.embed_model, entries, totals, chroma=chroma_mode, chunking=CHUNKING)
    if settings.chroma_host:
        _publish(client, names, manifest, generation, stored)
    manifest.write(index_dir)
    # The swap is done; what follows only frees space.
    if settings.chroma_host:
        remote.collect_garbage(client, names)  # app servers may still be on an earlier generation
    else:
        store.delete_other_documents(collection, keep=list(keys.values()))
    if settings.index_name is None:  # a chosen name may prefix another index's names
        store.drop_stale_collections(client, collection_prefix(index_dir),  # from format 1
                                     keep=[names.passages, names.sentences, names.generations])
    remove_stale_generations(index_dir, keep=gen_id)
    return Summary(n_docs, n_sections, len(chunks), len(people), embedded,
                   time.perf_counter() - started, False, tuple(skipped), *counts, unreadable=tuple(unreadable),
                   notes=tuple(notes))


def _reason(error: CorpusError, path: Path) -> str:
    """The reader's message without the file's path, which the skip line names already."""
    return str(error).removeprefix(f"{path}: ").removeprefix(f"{path} ")


def _compatible_manifest(index_dir: Path, settings: Settings) -> Manifest | None:
    """The manifest in use, if its generation's vectors can be reused (same model, same way of
    pooling, files present; the store may differ: vectors are the same in any store)."""
    try:
        old = Manifest.read(index_dir)
    except IndexUnusable:
        return None  # a damaged manifest is rebuilt from scratch
    if (
        old is None
        or old.embed_model != settings.embed_model
        or old.chunking.rpartition("|")[2] != VECTORS
        or not generation_dir(index_dir, old.generation).is_dir()
    ):
        return None
    return old


def _published(settings: Settings, old: Manifest, chroma_mode: str) -> bool:
    """The store holds the rows of the generation in ``old``: same store, and with a Chroma
    server its pointer names that generation (not one another ingest wrote since, or none
    after the server lost its data)."""
    if old.chroma != chroma_mode or old.collection != index_collections(settings).passages:
        return False
    if not settings.chroma_host:
        return True
    client = store.connect(settings, Path(settings.index_dir))
    return remote.current_generation(client, index_collections(settings)) == old.generation


def _publish(client, names, manifest: Manifest, generation: Generation, stored: set[str]) -> None:
    """Server mode: the sentence vectors and the generation's record into Chroma, then the pointer."""
    remote.upload_sentences(store.ensure_collection(client, names.sentences), generation, skip=stored)
    remote.publish(client, names, manifest, generation)


class _Model:
    """The encoder, loaded at most once per ingest and only when something must be read or embedded;
    its tokenizer also sizes the chunks, so one copy is in memory (the tokenizer alone is ~300 MB)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._encoder = None
        self._cores = WORKERS or usable_cores()

    @property
    def encoder(self):
        if self._encoder is None:
            from ingest.embedding import load_encoder

            self._encoder = load_encoder(self.settings, concurrent=self._cores > 1)
        return self._encoder

    @property
    def workers(self) -> int:
        """Passages embedded at once: one per core, if the encoder may be called from several threads."""
        return self._cores if self.encoder.concurrent else 1

    def token_ids(self, text: str) -> list[int]:
        return self.encoder.token_ids(text)


def usable_cores(cgroup: Path = CGROUP) -> int:
    """The cores this process may use: its CPU affinity, capped by a container's CPU quota, which the
    affinity does not show. (joblib's loky counts the same way; importing it costs an ingest 0.2 s.)"""
    cores = len(os.sched_getaffinity(0))
    quota = _cpu_quota(cgroup)
    return cores if quota is None else max(1, min(cores, math.ceil(quota)))


def _cpu_quota(cgroup: Path) -> float | None:
    """The CPUs a cgroup quota allows (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``); None without one."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    try:
        return int(quota) / int(period) if int(period) > 0 and quota not in ("max", "-1") else None
    except ValueError:
        return None


def _check_unique_ids(people: list[Participant], chunks: list[Chunk]) -> None:
    seen: dict[str, str] = {}
    for person in people:
        if person.id in seen:
            raise CorpusError(f"duplicate participant id '{person.id}' (in {seen[person.id]} and another participant file)")
        seen[person.id] = person.document or "a participant file"
    ids = [c.id for c in chunks]
    if len(set(ids)) != len(ids):
        raise CorpusError("two chunks got the same id; check for duplicate participant ids or files")


def _previous_generation(index_dir: Path, old: Manifest | None) -> Generation | None:
    """The generation in use (vectors memory-mapped), when it can be built on."""
    if old is None:
        return None
    try:
        return Generation.load(generation_dir(index_dir, old.generation), with_keyword=False, mmap=True)
    except IndexUnusable:
        return None


def _reusable_chunks(old: Manifest | None, gen: Generation | None) -> dict[tuple[str, str], tuple[list[Chunk], int]]:
    """Chunks and section counts of the documents in the index in use, by (name, sha256)."""
    if old is None or gen is None:
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


def _stored_keys(collection, old: Manifest | None, keys: dict[str, str]) -> set[str]:
    """Document keys whose rows Chroma already holds: those of the generation in use, if the
    collection still has all its rows (a reset server or a deleted folder has not)."""
    if old is None:
        return set()
    in_use = {doc_key(name, entry.sha256) for name, entry in old.files.items()}
    if collection.count() < old.counts["chunks"]:
        return set()
    return in_use & set(keys.values())


def _sentence_rows(chunks: list[Chunk]) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's chunk position and character span in the chunk text."""
    positions, spans = [], []
    for pos, chunk in enumerate(chunks):
        for span in split_sentences(chunk.text):
            positions.append(pos)
            spans.append(span)
    return np.asarray(positions, dtype=np.int32), np.asarray(spans, dtype=np.int32).reshape(-1, 2)


class _RowWriter:
    """Streams passages to Chroma in batches as their vectors become known; skips the
    documents Chroma already holds."""

    def __init__(self, collection, keys: dict[str, str], skip: set[str]) -> None:
        self.collection, self.keys, self.skip = collection, keys, skip
        self.pending: list[tuple[Chunk, np.ndarray]] = []

    def add(self, chunk: Chunk, vector: np.ndarray) -> None:
        if self.keys[chunk.document] in self.skip:
            return
        self.pending.append((chunk, vector))
        if len(self.pending) >= CHROMA_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        store.upsert(
            self.collection,
            ids=[row_id(c.id, self.keys[c.document]) for c, _ in self.pending],
            vectors=np.stack([v for _, v in self.pending]),
            metadatas=[_chroma_metadata(c, self.keys[c.document]) for c, _ in self.pending],
            documents=[c.text for c, _ in self.pending],
        )
        self.pending = []


def _embed(model: _Model, chunks: list[Chunk], sentences: tuple[np.ndarray, np.ndarray],
           previous: Generation | None, folder: Path, writer: _RowWriter, progress: bool | Progress) -> int:
    """Fill the generation's vector files: reused rows first, then the new passages, one per worker
    at a time (a passage's vector and its sentences' vectors come from the same token states).
    Returns how many passages were embedded."""
    sentence_chunk, sentence_spans = sentences
    first_sentence = np.searchsorted(sentence_chunk, np.arange(len(chunks) + 1))
    reuse = _reusable_rows(previous)
    todo = [pos for pos, c in enumerate(chunks) if c.content_hash not in reuse]
    encoder = model.encoder if todo else None
    dim = encoder.dim if encoder else previous.chunk_vectors.shape[1]
    chunk_vectors = np.lib.format.open_memmap(folder / "chunk_vectors.npy", "w+", np.float32, (len(chunks), dim))
    sentence_vectors = np.lib.format.open_memmap(folder / "sentence_vectors.npy", "w+", np.float32, (len(sentence_chunk), dim))

    fresh = set(todo)
    for pos, chunk in enumerate(chunks):
        if pos in fresh:
            continue
        old_pos, old_rows = reuse[chunk.content_hash]
        chunk_vectors[pos] = previous.chunk_vectors[old_pos]
        sentence_vectors[first_sentence[pos]:first_sentence[pos + 1]] = previous.sentence_vectors[old_rows]
        writer.add(chunk, chunk_vectors[pos])

    def vectors(pos: int) -> tuple[np.ndarray, np.ndarray]:
        spans = sentence_spans[first_sentence[pos]:first_sentence[pos + 1]]
        if VECTOR_METHOD == "sentences" and len(spans):
            return _sentences_pass(encoder, chunks[pos], spans)
        return _passage_pass(encoder, chunks[pos], spans)

    report = _progress(len(todo), progress)
    order = sorted(todo, key=lambda p: -len(chunks[p].embed_text))
    workers = model.workers if todo else 1
    for done, (pos, (chunk_vector, rows)) in enumerate(_in_order(vectors, order, workers), 1):
        chunk_vectors[pos], sentence_vectors[first_sentence[pos]:first_sentence[pos + 1]] = chunk_vector, rows
        writer.add(chunks[pos], chunk_vectors[pos])
        report(done, len(order))
    _embed_unpooled(encoder, chunks, sentence_chunk, sentence_spans, sentence_vectors)
    chunk_vectors.flush()
    sentence_vectors.flush()
    return len(todo)


def _in_order(work: Callable[[int], tuple], items: Iterable[int],
              workers: int) -> Iterator[tuple[int, tuple]]:
    """(item, ``work(item)``) for ``items`` in order, computed on ``workers`` threads a few items ahead at
    most (memory stays flat; a worker's exception is raised where its item is due)."""
    if workers <= 1:
        yield from ((item, work(item)) for item in items)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
        pending: deque = deque()
        for item in items:
            pending.append((item, pool.submit(work, item)))
            if len(pending) > 2 * workers:
                item, future = pending.popleft()
                yield item, future.result()
        while pending:
            item, future = pending.popleft()
            yield item, future.result()


def _sentences_pass(encoder, chunk: Chunk, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The passage's sentences, each encoded alone as «heading: sentence»: their vectors, and the
    passage's as the mean of all their token states. Alone, a sentence's vector does not depend on
    what else is embedded (int8 scales activations per batch): an edit gives what a cold ingest gives."""
    texts = _alone_texts(chunk, spans)
    total, count, vectors = 0.0, 0, []
    for states in encoder.passage_states(texts, batch_size=1):
        total, count = total + states.sum(axis=0), count + len(states)
        vectors.append(_normalise(states.mean(axis=0)))
    return _normalise(total / count), np.stack(vectors)


def _passage_pass(encoder, chunk: Chunk, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The passage in one forward pass; its sentences pooled from that pass ("pooled") or encoded alone
    afterwards ("passage+sentences"; zero rows here are filled by _embed_unpooled)."""
    ((states, offsets),) = encoder.passage_token_states([chunk.embed_text], batch_size=1)
    sentences = np.zeros((len(spans), states.shape[1]), dtype=np.float32)
    if VECTOR_METHOD == "pooled" and len(spans):
        section = chunk.section
        start_of_text = len(section) + 2  # embed_text is "<section>\n\n<text>"
        heading = (len(section) - len(section.split(" > ")[-1]), len(section))
        sentences = _pool_spans(states, offsets, spans + start_of_text, heading)
    return _normalise(states.mean(axis=0)), sentences


def _reusable_rows(gen: Generation | None) -> dict[str, tuple[int, np.ndarray]]:
    """Per passage text (hash): its position and sentence rows in the generation in use."""
    if gen is None:
        return {}
    first = np.searchsorted(gen.sentence_chunk, np.arange(len(gen.chunks) + 1))
    return {c.content_hash: (i, np.arange(first[i], first[i + 1])) for i, c in enumerate(gen.chunks)}


def _pool_spans(states: np.ndarray, offsets: np.ndarray, spans: np.ndarray, heading: tuple[int, int]) -> np.ndarray:
    """Per sentence span: the mean of the token states of the sentence and of its own heading
    (a bare list line keeps its meaning, as «heading: sentence» did when sentences were encoded
    apart), L2-normalised; zero rows for spans no token reaches (text cut off by the window)."""
    out = np.zeros((len(spans), states.shape[1]), dtype=np.float32)
    valid = offsets[:, 1] > 0
    if POOL_HEADING:
        valid_heading = valid & (offsets[:, 0] < heading[1]) & (offsets[:, 1] > heading[0])
    else:
        valid_heading = np.zeros(len(offsets), dtype=bool)
    for i, (start, end) in enumerate(spans):
        inside = valid & (offsets[:, 0] < end) & (offsets[:, 1] > start)
        if inside.any():
            out[i] = _normalise(states[inside | valid_heading].mean(axis=0))
    return out


def _embed_unpooled(encoder, chunks, sentence_chunk, sentence_spans, sentence_vectors) -> None:
    """Sentences beyond the model's window get a vector of their own (rare: chunks are sized to fit)."""
    if encoder is None:
        return
    missing = np.flatnonzero(~np.any(sentence_vectors, axis=1))
    if len(missing) == 0:
        return
    texts = [_alone_texts(chunks[int(sentence_chunk[row])], sentence_spans[row:row + 1])[0] for row in missing]
    sentence_vectors[missing] = encoder.encode_passages(texts, batch_size=1)


def _alone_texts(chunk: Chunk, spans: np.ndarray) -> list[str]:
    """Sentences as encoded alone: «heading: sentence», the heading giving a bare list line its meaning."""
    return [f"{last_heading(chunk.section)}: {chunk.text[int(start):int(end)]}" for start, end in spans]


def _normalise(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


def _progress(total: int, enabled: bool | Progress) -> Progress:
    """One bar over every passage to embed, with ETA; or the caller's callback."""
    if callable(enabled):
        enabled(0, total)
        return enabled
    if not enabled or total == 0:
        return lambda done, total: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc="Embedding", unit="passage", leave=False)

    def report(done: int, total: int) -> None:
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return report


def _chroma_metadata(chunk: Chunk, key: str) -> dict:
    meta = {"document": chunk.document, "section": chunk.section, "position": chunk.position, "kind": chunk.kind,
            "doc_key": key, "chunk_id": chunk.id}
    meta.update({f"p_{k}": v for k, v in chunk.meta.items()})
    return meta
