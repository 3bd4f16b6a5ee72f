"""The trained reranker: a cross-encoder that reads a question and one candidate sentence (with its
heading) together and scores how well the sentence answers the question.

It is the bundled e5-small encoder fine-tuned with LoRA (``assistant.reranker.train``); the shipped
artefact is the adapter and the score head (``assistant/data/reranker/``). ``make setup`` merges them
into the encoder and exports an int8 ONNX model (``assistant.reranker.build``); this module runs that
export with ONNX Runtime and the encoder's own ``tokenizer.json``, so a query imports no torch. The
same model also gives the reader's start and end logits per token (:meth:`Reranker.reading`,
:mod:`assistant.reranker.reader`).

The pair format (:func:`pair_texts`) is shared by training and inference: change it and retrain.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from assistant.tuning import RERANK_GROUP
from ingest import DATA_DIR, ModelError

# The shipped artefact (adapter + head + the training's settings) and where set-up builds the model.
ARTEFACT_DIR = Path(__file__).resolve().parent.parent / "data" / "reranker"
MODEL_DIR = DATA_DIR / "models" / "reranker"
ONNX_FILE = "reranker_int8.onnx"
MARKER = "build.json"

QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
# Question and candidate together; candidate sentences with their heading are ~30-60 tokens, a
# question ~10-20. Longer pairs are cut from the longer side (the tokenizer's "longest_first").
MAX_TOKENS = 128
HEADING_LEVELS = 2  # the last two headings of a section path give a sentence its context


def candidate_text(section: str, sentence: str) -> str:
    """A candidate as the reranker reads it: its nearest headings, then the sentence."""
    headings = [h for h in section.split(" > ") if h][-HEADING_LEVELS:]
    return f"{' > '.join(headings)}: {sentence.strip()}" if headings else sentence.strip()


def pair_texts(question: str, candidate: str) -> tuple[str, str]:
    return QUERY_PREFIX + question.strip(), PASSAGE_PREFIX + candidate


def load_tokenizer(model_dir: Path):
    """The encoder's tokenizer (shared with the encoder in one process: :func:`ingest.encoder.load_tokenizer`);
    pairs are put together and cut to MAX_TOKENS by :func:`encode_pair_batch`, not by its set-up."""
    from ingest.encoder import load_tokenizer as shared

    return shared(model_dir)


class PairEncoding(NamedTuple):
    """One pair as the model reads it, ``<s> question </s></s> candidate </s>``, as the tokenizer's own
    pair encoding with ``longest_first`` truncation would give it."""

    ids: list[int]
    sequence_ids: list[int | None]  # 0 question, 1 candidate, None special
    special_tokens_mask: list[int]
    offsets: list[tuple[int, int]]  # characters of the token's own text (question or candidate, with prefix)


PAIR_SPECIALS = 4  # <s>, </s></s> between, </s>


def encode_pair_batch(tokenizer, question: str, candidates: Sequence[str]) -> list[PairEncoding]:
    """The (question, candidate) pairs, the question tokenized once."""
    texts = [pair_texts(question, "")[0]] + [pair_texts(question, c)[1] for c in candidates]
    first, *rest = tokenizer.encode_batch(texts, add_special_tokens=False)
    cls, sep = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    out = []
    for second in rest:
        n1, n2 = longest_first(len(first.ids), len(second.ids), MAX_TOKENS - PAIR_SPECIALS)
        out.append(PairEncoding(
            ids=[cls, *first.ids[:n1], sep, sep, *second.ids[:n2], sep],
            sequence_ids=[None, *[0] * n1, None, None, *[1] * n2, None],
            special_tokens_mask=[1, *[0] * n1, 1, 1, *[0] * n2, 1],
            offsets=[(0, 0), *first.offsets[:n1], (0, 0), (0, 0), *second.offsets[:n2], (0, 0)],
        ))
    return out


def longest_first(n1: int, n2: int, budget: int) -> tuple[int, int]:
    """How many tokens of each side a pair keeps: the ``tokenizers`` library's ``longest_first`` rule
    (the shorter side whole if the longer can take the rest, else half each)."""
    if n1 + n2 <= budget:
        return n1, n2
    short, long = sorted((n1, n2))
    long = short if short > budget else max(short, budget - short)
    if short + long > budget:
        short = budget // 2
        long = short + budget % 2
    return (long, short) if n1 > n2 else (short, long)


def encode_pairs(tokenizer, question: str, candidates: Sequence[str], pad_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, attention mask and segment (1 question, 2 candidate, 0 special or padding) of
    (question, candidate) pairs, padded to the longest."""
    return pair_arrays(encode_pair_batch(tokenizer, question, candidates), pad_id)


def pair_arrays(encodings: Sequence, pad_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`encode_pairs`'s arrays from the tokenizer's encodings of the pairs (for a caller that
    also needs the encodings' character offsets)."""
    width = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    segment = np.zeros((len(encodings), width), dtype=np.int64)
    for row, e in enumerate(encodings):
        ids[row, :len(e.ids)] = e.ids
        mask[row, :len(e.ids)] = 1
        special = e.special_tokens_mask
        segment[row, :len(e.ids)] = [0 if special[k] or sid is None else sid + 1 for k, sid in enumerate(e.sequence_ids)]
    return ids, mask, segment


class Reranker:
    """Scores (question, candidate) pairs with the int8 export; safe to call from several threads
    (ONNX Runtime sessions are, and release the GIL while they run).

    ``threads``: how many groups of pairs (tuning.RERANK_GROUP) run at once, each on one thread: no
    threads waiting for each other when many questions come at once (tuning.RERANK_THREADS)."""

    def __init__(self, model_dir: Path = MODEL_DIR, *, threads: int = 1) -> None:
        from concurrent.futures import ThreadPoolExecutor

        import onnxruntime as ort

        model_dir = Path(model_dir)
        onnx_file = model_dir / ONNX_FILE
        for needed in (onnx_file, model_dir / "tokenizer.json", model_dir / MARKER):
            if not needed.is_file():
                raise ModelError(f"the reranker model file {needed} is missing; run 'make setup' to build it")
        self._tokenizer = load_tokenizer(model_dir)
        self._pad = int(self._tokenizer.token_to_id("<pad>") or 1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ONNX Runtime raises its own types for a damaged file
            raise ModelError(f"the reranker model {onnx_file} cannot be read ({' '.join(str(exc).split())[:120]}); "
                             "run 'make setup' to rebuild it") from None
        self.info = json.loads((model_dir / MARKER).read_text(encoding="utf-8"))
        self._groups = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reranker") if threads > 1 else None
        self._outputs = {o.name for o in self._session.get_outputs()}
        # The reader's threshold, chosen on dev when it was trained (1.0: never show a span).
        self.read_threshold = float((self.info.get("reader") or {}).get("threshold", 1.0))

    def scores(self, question: str, candidates: Sequence[str]) -> np.ndarray:
        """One logit per candidate: higher means the candidate answers the question."""
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        _, (out,) = self._run(encode_pair_batch(self._tokenizer, question, candidates), ["score"])
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def reading(self, question: str, candidates: Sequence[str]) -> Reading:
        """One pass over the (question, candidate) pairs: a logit each and, where the model carries the
        reader, where in each candidate it marks the answer (:meth:`Reading.span`)."""
        if not candidates:
            return Reading([], np.zeros(0, dtype=np.float32))
        encodings = encode_pair_batch(self._tokenizer, question, candidates)
        reads = "start" in self._outputs
        segment, (out, *marks) = self._run(encodings, ["score", "start", "end"] if reads else ["score"])
        return Reading(list(candidates), np.asarray(out, dtype=np.float32).reshape(-1),
                       reader_outputs=(encodings, segment, *marks, self.read_threshold) if reads else None)

    def _run(self, encodings: Sequence[PairEncoding], outputs: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The pairs' segments, and the model's ``outputs`` for them: a score per pair, or a logit per token
        (padded to the longest pair with a logit no token reaches).

        The pairs run in groups of similar length (tuning.RERANK_GROUP): one batch pads every pair to the
        longest, and padding costs as much as real tokens."""
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        groups = np.array_split(order, -(-len(order) // RERANK_GROUP))
        segment = np.zeros((len(encodings), max(len(e.ids) for e in encodings)), dtype=np.int64)

        def run(group: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
            ids, mask, seg = pair_arrays([encodings[i] for i in group], self._pad)
            return seg, self._session.run(outputs, {"input_ids": ids, "attention_mask": mask, "segment": seg})

        ran = self._groups.map(run, groups) if self._groups is not None and len(groups) > 1 else map(run, groups)
        results: list[np.ndarray] = []
        for group, (seg, outs) in zip(groups, ran):
            segment[group, :seg.shape[1]] = seg
            if not results:
                results = [np.zeros(len(encodings), dtype=out.dtype) if out.ndim == 1
                           else np.full(segment.shape, -1e4, dtype=out.dtype) for out in outs]
            for result, out in zip(results, outs):
                if out.ndim == 1:
                    result[group] = out
                else:
                    result[group, :out.shape[1]] = out
        return segment, results

    def read(self, question: str, candidate: str):
        """The answer the reader marks inside ``candidate`` (a :class:`reader.Span` of its characters),
        or None when it is not sure enough to show one (below the threshold chosen on dev)."""
        return self.reading(question, [candidate]).span(0)


@dataclass(frozen=True)
class Reading:
    """The reranker's outputs for one question's candidates, from one pass through the model."""

    texts: list[str]
    logits: np.ndarray  # one per candidate: higher means the candidate answers the question
    reader_outputs: tuple | None = field(default=None, repr=False)  # encodings, segments, start and end logits, threshold

    def span(self, row: int):
        """The answer the reader marks inside candidate ``row`` (a :class:`reader.Span` of its
        characters), or None: a model without the reader, or not sure enough (below the threshold
        chosen on dev)."""
        from assistant.reranker.reader import Span, best_span, candidate_tokens

        if self.reader_outputs is None:
            return None
        encodings, segment, start, end, threshold = self.reader_outputs
        inside, ranges = candidate_tokens(encodings[row], segment[row])
        if not len(inside):
            return None
        first, last, p = best_span(start[row][inside], end[row][inside])
        candidate = self.texts[row]
        a, b = ranges[first][0], ranges[last][1]
        while a < b and candidate[a].isspace():
            a += 1
        if p < threshold or a < 0 or b <= a:
            return None
        return Span(a, b, p)
