"""The PyTorch encoder: a sentence-transformers model behind the same small API as the
ONNX encoder, for a user-supplied ``ASSISTANT_EMBED_MODEL`` without an ONNX export and
as the fp32 reference the int8 model is tested against.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ingest.errors import ModelError


class SentenceTransformerEncoder:
    """Queries and passages with the model's own prompts; token states with character offsets."""

    concurrent = False  # one caller at a time: PyTorch parallelises inside the call, the HF tokenizer is not shared-safe

    def __init__(self, model_dir: str | Path) -> None:
        import json

        from sentence_transformers import SentenceTransformer

        from ingest.embedding import _quiet_transformers as quiet_transformers

        quiet_transformers()
        try:
            self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load embedding model '{model_dir}': {str(exc).splitlines()[0]}") from None
        self._tokenizer = self._model.tokenizer
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        config = Path(model_dir) / "config_sentence_transformers.json"
        prompts = json.loads(config.read_text()).get("prompts", {}) if config.is_file() else {}
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = prompts.get("passage") or prompts.get("document") or ""

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.query_prompt + t for t in texts], 32)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode([self.passage_prompt + t for t in texts], batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def passage_token_states(self, texts: Sequence[str], batch_size: int = 32) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per text: the token states (T, dim) and each token's character span in the text (prompt and
        special tokens get (-1, -1))."""
        prompt = self.passage_prompt
        for start in range(0, len(texts), batch_size):
            part = [prompt + t for t in texts[start:start + batch_size]]
            states = self._model.encode(part, batch_size=batch_size, output_value="token_embeddings", convert_to_numpy=False)
            encoded = self._tokenizer(part, truncation=True, max_length=self.max_tokens, return_offsets_mapping=True)
            special = set(self._tokenizer.all_special_ids)
            for state, offsets, ids in zip(states, encoded["offset_mapping"], encoded["input_ids"]):
                spans = np.asarray(offsets, dtype=np.int64).reshape(-1, 2) - len(prompt)
                spans[[i in special for i in ids]] = -1
                spans[spans[:, 1] <= 0] = -1  # tokens of the prompt
                spans[:, 0] = np.where(spans[:, 1] > 0, np.maximum(spans[:, 0], 0), -1)
                yield state.float().numpy(), spans

    def passage_states(self, texts: Sequence[str], batch_size: int = 32) -> Iterator[np.ndarray]:
        """Per text: the token states (T, dim)."""
        for states, _ in self.passage_token_states(texts, batch_size):
            yield states

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False)
