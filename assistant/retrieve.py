"""Hybrid retrieval: dense search through llama-index's Chroma vector store and BM25
over Norwegian stems, fused; then sentence-level scoring inside the best passages, so
an answer quotes the sentence that answers.

Fusion is "convex" (min-max normalised dense and BM25 scores, added): on the evaluation
set it put the gold passage first for 0.90 of the questions against 0.83 for reciprocal
rank fusion ("rrf", kept for comparison; scripts/bench_query.py measures both).
"""
from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from assistant import lexicon
from assistant.query import has_phrase, stem_quality
from ingest.chunking import Chunk
from ingest.index import Generation
from ingest.keyword import analyze, fold

RRF_K = 60
DENSE_TOP = 20
KEYWORD_TOP = 20


@dataclass(frozen=True)
class Hit:
    position: int  # chunk position in the generation
    score: float  # fused score
    dense: float  # cosine similarity to the question (0 when not in the dense top list)


@dataclass(frozen=True)
class Sentence:
    position: int  # chunk position
    start: int
    end: int
    score: float
    dense: float
    coverage: float  # share of the question's (idf-weighted) terms found in the sentence or its heading
    typed: bool = False  # holds the kind of thing the question asks for (a date, a number, a name)

    def text(self, chunks: list[Chunk]) -> str:
        return chunks[self.position].text[self.start:self.end]


def _present(term: str, words: set[str]) -> bool:
    """Exact, a typo or nynorsk form of a long word, or part of a compound."""
    if term in words:
        return True
    if len(term) < 5:
        return False
    return any(
        (len(w) > len(term) + 2 and (w.startswith(term) or w.endswith(term))) or stem_quality(term, w) for w in words
    )


_MONTHS = "|".join(lexicon.MONTHS)
_TYPE_PATTERNS = {
    "when": re.compile(rf"\b(1[89]|20)\d\d\b|\d{{1,2}}\.\d{{1,2}}\.\d{{2,4}}|-årig|\b({_MONTHS})\b", re.I),
    "count": re.compile(rf"\d|\b({'|'.join(lexicon.NUMBER_WORDS)})\b", re.I),
    "who": re.compile(r"\b[A-ZÆØÅ][\wæøå]+\s+[A-ZÆØÅ][\wæøå]+"),
    "where": re.compile(r"(?<!^)\b[A-ZÆØÅ][\wæøå]+"),
}


def answer_type(question: str) -> str | None:
    """The kind of answer the question asks for ('when', 'count', 'who', 'where'), if any."""
    for kind, openers in lexicon.ANSWER_TYPES:
        if any(has_phrase(question, o) for o in openers):
            return kind
    return None


def has_type(sentence: str, kind: str | None) -> bool:
    return bool(kind) and _TYPE_PATTERNS[kind].search(sentence) is not None


class Retriever:
    """Retrieval over one loaded index generation and its Chroma collection."""

    def __init__(self, generation: Generation, collection, embedder, fusion: str = "convex") -> None:
        from llama_index.core import VectorStoreIndex

        from ingest import store

        self.gen = generation
        self.chunks = generation.chunks
        self.fusion = fusion
        self._embedder = embedder
        self._lock = threading.Lock()
        self._by_id = {c.id: i for i, c in enumerate(self.chunks)}
        self._index = VectorStoreIndex.from_vector_store(store.vector_store(collection), embed_model=embedder)
        self._dense = self._index.as_retriever(similarity_top_k=min(DENSE_TOP, len(self.chunks)))
        self._chunk_terms = [set(analyze(c.embed_text)) for c in self.chunks]
        df = Counter(t for terms in self._chunk_terms for t in terms)
        n = len(self.chunks)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._heading_terms = [set(analyze(c.section)) for c in self.chunks]
        self._sentences_of: dict[int, list[int]] = {}
        for row, pos in enumerate(generation.sentence_chunk):
            self._sentences_of.setdefault(int(pos), []).append(row)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:  # one encoder, many UI threads
            return np.asarray(self._embedder.get_query_embedding(text), dtype=np.float32)

    def search(self, text: str, vector: np.ndarray, *, kinds: tuple[str, ...] = ("text",), top: int = 5) -> list[Hit]:
        """Chunks ranked by fused dense and keyword evidence."""
        from llama_index.core.schema import QueryBundle

        dense_nodes = self._dense.retrieve(QueryBundle(query_str=text, embedding=vector.tolist()))
        dense = [(self._by_id[n.node.node_id], float(n.score or 0.0)) for n in dense_nodes if n.node.node_id in self._by_id]
        keyword = self.gen.keyword.scores(text) if self.gen.keyword is not None else np.zeros(len(self.chunks))
        kw_rank = [int(i) for i in np.argsort(-keyword)[:KEYWORD_TOP] if keyword[i] > 0]
        fused: dict[int, float] = {}
        dense_score = dict(dense)
        if self.fusion == "rrf":
            for rank, (pos, _) in enumerate(dense):
                fused[pos] = fused.get(pos, 0.0) + 1 / (RRF_K + rank + 1)
            for rank, pos in enumerate(kw_rank):
                fused[pos] = fused.get(pos, 0.0) + 1 / (RRF_K + rank + 1)
        else:  # "convex": min-max normalised scores, equal weights
            top_kw = max(float(keyword.max()), 1e-9)
            lo = min((s for _, s in dense), default=0.0)
            hi = max((s for _, s in dense), default=1.0)
            for pos, s in dense:
                fused[pos] = (s - lo) / max(hi - lo, 1e-9)
            for pos in kw_rank:
                fused[pos] = fused.get(pos, 0.0) + float(keyword[pos]) / top_kw
        hits = [
            Hit(pos, score, dense_score.get(pos, float(self.gen.chunk_vectors[pos] @ vector)))
            for pos, score in fused.items()
            if self.chunks[pos].kind in kinds
        ]
        hits.sort(key=lambda h: -h.score)
        return hits[:top]

    def coverage(self, terms: list[str], have: set[str]) -> float:
        """The idf-weighted share of question terms present in ``have`` (compounds count:
        «samarbeid» is found in «samarbeidsprosjekt», «bibliotek» in «fylkesbibliotek»)."""
        if not terms:
            return 0.0
        total = sum(self.idf.get(t, 3.0) for t in terms)
        found = sum(self.idf.get(t, 3.0) for t in terms if _present(t, have))
        return found / total

    def passage_coverage(self, terms: list[str], position: int) -> float:
        """Coverage of the question's terms by a whole passage (its heading included)."""
        return self.coverage(terms, self._chunk_terms[position])

    def sentences(self, hits: list[Hit], vector: np.ndarray, terms: list[str], question: str) -> list[Sentence]:
        """Sentences of the given passages, best first: dense similarity, term coverage, and
        a bonus when the question names the passage's own heading ("i egne kommuner")."""
        out = []
        best_hit = max((h.score for h in hits), default=1.0) or 1.0
        folded_question = fold(question)
        kind = answer_type(question)
        for hit in hits:
            heading = fold(self.chunks[hit.position].section.split(" > ")[-1])
            named = len(heading) >= 6 and heading in folded_question
            for row in self._sentences_of.get(hit.position, []):
                start, end = (int(x) for x in self.gen.sentence_spans[row])
                dense = float(self.gen.sentence_vectors[row] @ vector)
                words = set(analyze(self.chunks[hit.position].text[start:end])) | self._heading_terms[hit.position]
                cov = self.coverage(terms, words)
                typed = has_type(self.chunks[hit.position].text[start:end], kind)
                score = dense + 0.3 * cov + 0.1 * named + 0.05 * typed + 0.03 * hit.score / best_hit
                out.append(Sentence(hit.position, start, end, score, dense, cov, typed))
        out.sort(key=lambda s: -s.score)
        return out
