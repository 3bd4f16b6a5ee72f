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
from assistant.decide import SENTENCE_FEATURES, log_chars
from assistant.query import has_phrase, stem_quality
from assistant.tuning import DENSE_TOP, KEYWORD_TOP, MIN_HEAD, RRF_K
from ingest import Chunk, Index, analyze, fold, last_heading


@dataclass(frozen=True)
class Hit:
    position: int  # chunk position in the generation
    score: float  # fused score
    dense: float  # cosine similarity to the question (0 when not in the dense top list)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with its features for the fitted ranker."""

    position: int  # chunk position
    start: int
    end: int
    features: np.ndarray  # in the order of decide.SENTENCE_FEATURES
    probability: float = 0.0  # set by the fitted sentence model

    def text(self, chunks: list[Chunk]) -> str:
        return chunks[self.position].text[self.start:self.end]

    def feature(self, name: str) -> float:
        return float(self.features[SENTENCE_FEATURES.index(name)])


def _present(term: str, words: set[str], typos: bool = True) -> bool:
    """Exact, part of a compound, or (with ``typos``) a typo or nynorsk form of a long word."""
    if term in words:
        return True
    if len(term) < 5:
        return False
    return any(
        (len(w) > len(term) + 2 and (w.startswith(term) or w.endswith(term))) or (typos and stem_quality(term, w))
        for w in words
    )


def _related_present(stem: str, words: set[str]) -> bool:
    """A relative from the thesaurus counts as a word or as the head of a compound
    («midl» in «utviklingsmidl»), as the expander found it."""
    return stem in words or (len(stem) >= MIN_HEAD and any(w.endswith(stem) for w in words))


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

    def __init__(self, index: Index, embedder, fusion: str = "convex") -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.core.node_parser import MarkdownNodeParser

        generation = index.generation
        self._reaching = index.reaching
        self.gen = generation
        self.chunks = generation.chunks
        self.fusion = fusion
        self._embedder = embedder
        self._lock = threading.Lock()
        self._concurrent = bool(getattr(getattr(embedder, "_encoder", None), "concurrent", False))
        self._by_id = {row: i for i, row in enumerate(generation.row_ids())}
        # Read-only: the ingest writes the rows. A parser that needs no tokenizer stands in for
        # llama-index's default transformations, whose tiktoken load costs a fresh process 0.4 s.
        self._index = VectorStoreIndex.from_vector_store(
            index.vector_store(), embed_model=embedder, transformations=[MarkdownNodeParser()]
        )
        # The collection may also hold rows of an ingest in progress; retrieve this generation's only.
        self._dense = self._index.as_retriever(similarity_top_k=min(DENSE_TOP, len(self.chunks)), filters=index.live_filter())
        self._chunk_terms = [set(analyze(c.embed_text)) for c in self.chunks]
        df = Counter(t for terms in self._chunk_terms for t in terms)
        n = len(self.chunks)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._heading_terms = [set(analyze(c.section)) for c in self.chunks]
        self._record_positions = [i for i, c in enumerate(self.chunks) if c.kind == "participant"]
        self._text_vocabulary = {t for c, terms in zip(self.chunks, self._chunk_terms) if c.kind == "text" for t in terms}
        self._sentences_of: dict[int, list[int]] = {}
        self._sentence_terms: list[set[str]] = []  # each sentence's terms with its heading's, analysed once
        for row, pos in enumerate(generation.sentence_chunk):
            self._sentences_of.setdefault(int(pos), []).append(row)
            start, end = (int(x) for x in generation.sentence_spans[row])
            self._sentence_terms.append(set(analyze(self.chunks[pos].text[start:end])) | self._heading_terms[pos])

    def embed_query(self, text: str) -> np.ndarray:
        if self._concurrent:  # ONNX Runtime: calls from many UI threads run side by side, without the GIL
            return np.asarray(self._embedder.get_query_embedding(text), dtype=np.float32)
        with self._lock:  # the PyTorch fallback: one caller at a time
            return np.asarray(self._embedder.get_query_embedding(text), dtype=np.float32)

    def search(self, text: str, vector: np.ndarray, *, kinds: tuple[str, ...] = ("text",), top: int = 5) -> list[Hit]:
        """Chunks ranked by fused dense and keyword evidence."""
        from llama_index.core.schema import QueryBundle

        with self._reaching():  # a Chroma server that went away: a clear error, not a traceback
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

    def records(self, text: str, vector: np.ndarray, top: int) -> list[Hit]:
        """The participant records nearest the question: every record's cosine (they are few and their
        vectors are in memory) plus its keyword score, each min-max normalised as in ``search``."""
        positions = self._record_positions
        if not positions or top <= 0:
            return []
        dense = self.gen.chunk_vectors[positions] @ vector
        keyword = self.gen.keyword.scores(text)[positions] if self.gen.keyword is not None else np.zeros(len(positions))
        fused = (dense - dense.min()) / max(float(dense.max() - dense.min()), 1e-9) + keyword / max(float(keyword.max()), 1e-9)
        order = np.argsort(-fused, kind="stable")[:top]
        return [Hit(positions[i], float(fused[i]), float(dense[i])) for i in order]

    def coverage(self, terms: list[str], have: set[str], related: dict[str, frozenset[str]] | None = None) -> float:
        """The idf-weighted share of question terms present in ``have`` (compounds count:
        «samarbeid» is found in «samarbeidsprosjekt», «bibliotek» in «fylkesbibliotek»);
        with ``related``, a term also counts when one of its relatives is present."""
        if not terms:
            return 0.0
        total = sum(self.idf.get(t, 3.0) for t in terms)
        found = sum(
            self.idf.get(t, 3.0) for t in terms
            if _present(t, have) or (related and any(_related_present(r, have) for r in related.get(t, ())))
        )
        return found / total

    def text_holds(self, term: str) -> bool:
        """Some text passage (not a participant record) holds the term."""
        return term in self._text_vocabulary

    def passage_terms(self, position: int) -> set[str]:
        """A passage's terms, its heading included."""
        return self._chunk_terms[position] | self._heading_terms[position]

    @staticmethod
    def holds(term: str, words: set[str], *, typos: bool = True) -> bool:
        """The term is among the words (exactly, as a typo of a long word, or a compound part);
        without ``typos`` only exactly or as a compound part (a place name is not a typo of another one)."""
        return _present(term, words, typos)

    def unknown_share(self, terms: list[str], holds, related: dict[str, frozenset[str]] | None = None) -> float:
        """The idf-weighted share of question terms the index holds nowhere, neither the
        term (exactly, as a typo or compound part) nor a relative: «budsjett» in a corpus
        without budgets."""
        if not terms:
            return 0.0
        weight = {t: self.idf.get(t, 3.0) for t in terms}
        keyword = self.gen.keyword
        missing = sum(
            w for t, w in weight.items()
            if not holds(t) and not (related or {}).get(t) and not any(map(keyword.knows, keyword.correct([t])))
        )
        return missing / sum(weight.values())

    def candidates(self, hits: list[Hit], vector: np.ndarray, terms: list[str],
                   related: dict[str, frozenset[str]], question: str) -> list[Candidate]:
        """Every sentence of the given passages with its features (decide.SENTENCE_FEATURES)."""
        folded_question = fold(question)
        kind = answer_type(question)
        best_hit = max((h.score for h in hits), default=1.0) or 1.0
        everything = self.gen.sentence_vectors @ vector if len(self.gen.sentence_vectors) else np.zeros(1)
        mean, spread = float(everything.mean()), max(float(everything.std()), 1e-6)
        rows: list[dict] = []
        for rank, hit in enumerate(hits):
            chunk = self.chunks[hit.position]
            heading = fold(last_heading(chunk.section))
            passage = {
                "passage_score": hit.score / best_hit, "passage_rank": 1 / (1 + rank),
                "passage_cover": self.coverage(terms, self._chunk_terms[hit.position]),
                "heading_named": float(len(heading) >= 6 and heading in folded_question),
                "asks_type": float(kind is not None),
            }
            previous = {"cover": 0.0, "dense": 0.0}
            for row in self._sentences_of.get(hit.position, []):
                start, end = (int(x) for x in self.gen.sentence_spans[row])
                text = chunk.text[start:end]
                words = self._sentence_terms[row]
                features = {
                    **passage,
                    "dense": float(everything[row]),
                    "cover": self.coverage(terms, words),
                    "cover_related": self.coverage(terms, words, related),
                    "typed": float(has_type(text, kind)),
                    "list_item": float(not text.rstrip().endswith((".", "!", "?"))),
                    "log_chars": log_chars(len(text)),
                    # The sentence before sets the topic an answer often completes
                    # («… ledet et verksted …» → «38 personer deltok …»).
                    "cover_previous": previous["cover"], "dense_previous": previous["dense"],
                }
                previous = {"cover": features["cover_related"], "dense": features["dense"]}
                rows.append({"position": hit.position, "start": start, "end": end, **features})
        if not rows:
            return []
        dense = np.array([r["dense"] for r in rows])
        order = np.argsort(-dense)
        dense_rank = np.empty(len(rows))
        dense_rank[order] = 1 / (1 + np.arange(len(rows)))
        top = float(dense.max())
        out = []
        for i, r in enumerate(rows):
            r.update(dense_gap=r["dense"] - top, dense_rank=dense_rank[i], dense_z=(r["dense"] - mean) / spread)
            out.append(Candidate(r["position"], r["start"], r["end"], np.array([r[f] for f in SENTENCE_FEATURES], dtype=float)))
        return out
