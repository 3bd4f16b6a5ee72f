"""The index folder: a manifest naming the current generation, and per generation the
chunks, their vectors (passage and sentence level), the keyword index and the
participant records. Chroma holds the same passage vectors for dense retrieval.

A new generation is written beside the old one; replacing ``manifest.json`` (an atomic
rename) is the swap, so an interrupted ingest leaves the previous index in use.

Chroma keeps one collection per index folder. Its rows are keyed by document *version*
(``doc_key``: name and content hash), so an ingest adds the rows of new and changed
documents next to the rows in use, and each generation retrieves only its own versions;
rows no generation uses are deleted after the swap.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ingest.chunking import Chunk
from ingest.errors import IndexMissing, IndexUnusable
from ingest.keyword import KeywordIndex
from ingest.participants import Participant, Period

MANIFEST = "manifest.json"
FORMAT_VERSION = 2  # 2: one Chroma collection with versioned rows; vectors as .npy


@dataclass
class FileEntry:
    sha256: str
    kind: str  # "document" or "participants"
    chunks: int
    sections: int = 0


@dataclass
class Manifest:
    generation: str
    collection: str
    embed_model: str
    files: dict[str, FileEntry]
    counts: dict[str, int]
    version: int = FORMAT_VERSION
    chroma: str = "embedded"
    chunking: str = ""  # the chunking parameters, so unchanged files can reuse their chunks

    @classmethod
    def read(cls, index_dir: Path) -> "Manifest | None":
        path = index_dir / MANIFEST
        if not path.is_file():
            return None
        try:
            raw = json.loads(path.read_text())
            raw["files"] = {k: FileEntry(**v) for k, v in raw["files"].items()}
            manifest = cls(**raw)
        except (ValueError, TypeError, KeyError):
            raise IndexUnusable(f"{path} is damaged; delete {index_dir} and run 'python -m ingest' again") from None
        return manifest if manifest.version == FORMAT_VERSION else None

    def write(self, index_dir: Path) -> None:
        tmp = index_dir / (MANIFEST + ".tmp")
        data = asdict(self)
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, index_dir / MANIFEST)


def collection_prefix(index_dir: Path) -> str:
    """Collections are named per index folder, so several indexes can share one Chroma server."""
    return "bp_" + hashlib.sha1(str(index_dir.resolve()).encode()).hexdigest()[:10] + "_"


def collection_name(index_dir: Path) -> str:
    return collection_prefix(index_dir) + "passages"


@dataclass(frozen=True)
class Collections:
    """The Chroma collections of one index name. Embedded mode uses only ``passages``; with a
    Chroma server the sentence vectors and the generation records live there too."""

    name: str

    @property
    def passages(self) -> str:
        return f"{self.name}_passages"

    @property
    def sentences(self) -> str:
        return f"{self.name}_sentences"

    @property
    def generations(self) -> str:
        return f"{self.name}_generations"


def index_collections(settings) -> Collections:
    """``ASSISTANT_INDEX_NAME``, or the name derived from the index folder (as before it existed)."""
    return Collections(settings.index_name or collection_prefix(Path(settings.index_dir))[:-1])


def doc_key(name: str, sha256: str) -> str:
    """One version of one document: its rows in Chroma carry this key."""
    return f"{name}@{sha256[:16]}"


def row_id(chunk_id: str, key: str) -> str:
    """A passage's Chroma id: the chunk id within one version of its document."""
    return f"{chunk_id}.{key.rsplit('@', 1)[1]}"


@dataclass
class Generation:
    """Everything the assistant needs besides Chroma, loaded into memory."""

    chunks: list[Chunk]
    chunk_vectors: np.ndarray  # (n_chunks, dim), L2-normalised
    sentence_vectors: np.ndarray  # (n_sentences, dim)
    sentence_chunk: np.ndarray  # (n_sentences,) chunk position of each sentence
    sentence_spans: np.ndarray  # (n_sentences, 2) character span within the chunk text
    participants: list[Participant]
    periods: dict[str, Period] = field(default_factory=dict)  # project period per participant file
    keyword: KeywordIndex | None = None
    doc_keys: dict[str, str] = field(default_factory=dict)  # document name -> its version's key

    def row_ids(self) -> list[str]:
        """Each chunk's id in Chroma, in chunk order."""
        return [row_id(c.id, self.doc_keys[c.document]) for c in self.chunks]

    def save(self, folder: Path) -> None:
        """Write the generation into ``folder`` (vector files already streamed there are kept)."""
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk in self.chunks:
                fh.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
        for name in ("chunk_vectors", "sentence_vectors"):
            array = getattr(self, name)
            target = folder / f"{name}.npy"
            if not (isinstance(array, np.memmap) and Path(array.filename).resolve() == target.resolve()):
                np.save(target, np.asarray(array, dtype=np.float32))
        np.savez(folder / "sentences.npz", sentence_chunk=self.sentence_chunk, sentence_spans=self.sentence_spans)
        people = {
            "participants": [p.model_dump() for p in self.participants],
            "periods": {k: v.model_dump() for k, v in self.periods.items()},
            "doc_keys": self.doc_keys,
        }
        (folder / "participants.json").write_text(json.dumps(people, ensure_ascii=False, indent=1))
        assert self.keyword is not None
        self.keyword.save(folder / "keyword")

    @classmethod
    def load(cls, folder: Path, *, with_keyword: bool = True, mmap: bool = False) -> "Generation":
        """``mmap``: leave the vectors on disk (ingest reads only the rows it reuses)."""
        try:
            with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
                chunks = [Chunk(**json.loads(line)) for line in fh if line.strip()]
            mode = "r" if mmap else None
            arrays = {name: np.load(folder / f"{name}.npy", mmap_mode=mode) for name in ("chunk_vectors", "sentence_vectors")}
            arrays.update(np.load(folder / "sentences.npz"))
            people = json.loads((folder / "participants.json").read_text())
            keyword = KeywordIndex.load(folder / "keyword") if with_keyword else None
        except (OSError, ValueError, KeyError) as exc:
            raise IndexUnusable(f"the index in {folder.parent} is damaged ({exc.__class__.__name__}); run 'python -m ingest' again") from None
        return cls(
            chunks=chunks,
            chunk_vectors=arrays["chunk_vectors"],
            sentence_vectors=arrays["sentence_vectors"],
            sentence_chunk=arrays["sentence_chunk"],
            sentence_spans=arrays["sentence_spans"],
            participants=[Participant(**p) for p in people["participants"]],
            periods={k: Period(**v) for k, v in people["periods"].items()},
            keyword=keyword,
            doc_keys=people["doc_keys"],
        )


def generation_dir(index_dir: Path, generation: str) -> Path:
    return index_dir / f"gen-{generation}"


def load_current(index_dir: Path) -> tuple[Manifest, Generation]:
    manifest = Manifest.read(index_dir)
    if manifest is None:
        raise IndexMissing(index_dir)
    return manifest, Generation.load(generation_dir(index_dir, manifest.generation))


def remove_stale_generations(index_dir: Path, keep: str) -> None:
    for folder in index_dir.glob("gen-*"):
        if folder.name != f"gen-{keep}":
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Index:
    """The index as the query side reads it: the generation in use (chunks, vectors, keyword index,
    participant records), its Chroma collection, and the embedder its vectors were made with."""

    manifest: Manifest
    generation: Generation
    collection: object  # a chromadb Collection

    @classmethod
    def open(cls, settings) -> "Index":
        """The current generation of ``settings.index_dir`` (or of the Chroma server when
        ``settings.chroma_host`` is set); IndexMissing / IndexUnusable when there is none to use."""
        from ingest import store

        index_dir = Path(settings.index_dir)
        if settings.chroma_host:  # the server holds the whole index; no local folder needed
            from ingest import remote

            manifest, generation = remote.load_current(settings)
        else:
            manifest, generation = load_current(index_dir)
        if manifest.embed_model != settings.embed_model:
            raise IndexUnusable(
                f"the index in {index_dir} was built with the model '{manifest.embed_model}', "
                f"not '{settings.embed_model}'; run 'python -m ingest' again"
            )
        return cls(manifest, generation, store.open_collection(store.connect(settings, index_dir), manifest.collection))

    def vector_store(self):
        """The collection as a llama-index vector store, for dense retrieval."""
        from ingest import store

        return store.vector_store(self.collection)

    def live_filter(self):
        """A llama-index filter that keeps retrieval to this generation's document versions (the
        collection may also hold the rows of an ingest in progress)."""
        from ingest import store

        return store.live_filter(sorted(set(self.generation.doc_keys.values())))

    @staticmethod
    def reaching():
        """A context in which a Chroma server that went away raises StoreUnavailable, not a traceback."""
        from ingest import store

        return store.reaching()

    @staticmethod
    def embedder(settings, *, threads: int | None = None):
        """The question encoder: the model the index was built with (llama-index BaseEmbedding)."""
        from ingest.embedding import load_embedder

        return load_embedder(settings, threads=threads)
