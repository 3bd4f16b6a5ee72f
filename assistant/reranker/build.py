"""Build the runnable reranker at set-up: the bundled encoder plus the shipped adapter and head, merged,
with the reader's start/end head as two more outputs (:mod:`assistant.reranker.reader`), traced to ONNX,
fused and quantized to int8 the way the encoder is (``ingest.embedmodel.export``).

Deterministic: the same encoder and artefact give the same model. The result is checked against the
fp32 torch scorer on probe pairs before it is installed, atomically, as ``data/models/reranker/``;
a marker records what it was made from, so ``make setup`` redoes it only when those change.

usage: python -m assistant.reranker.build
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from assistant.reranker import MARKER, MODEL_DIR, ONNX_FILE, ARTEFACT_DIR, Reranker, encode_pairs, load_tokenizer
from assistant.reranker import reader
from assistant.reranker.model import ADAPTER_FILE, CONFIG_FILE, load_artefact
from ingest.embedmodel.files import install_folder, locked, read_json, sha256, write_json
from ingest.errors import ModelError
from ingest.settings import DEFAULT_MODEL_DIR

BUILD_VERSION = 3  # 3: the reader's outputs
# int8 against fp32 on the probe pairs: the scores are logits of a few units, and the answer decision
# compares calibrated probabilities, so the int8 score may move by at most this much.
MAX_SCORE_DRIFT = 0.35
PROBES = (
    ("Hvem finansierte prosjektet?", "Om prosjektet: Prosjektet ble finansiert med midler fra fylkeskommunen."),
    ("Hvem finansierte prosjektet?", "Organisering: Styringsgruppa møttes fire ganger i året."),
    ("når åpnet biblioteket", "Nyheter: Det nye biblioteket åpnet dørene 3. mars 2023 med 400 besøkende."),
    ("Who led the project?", "Prosjektledelse: Prosjektleder var Kari Nordmann, rådgiver i kulturenheten."),
)


def _made_from(encoder_dir: Path, artefact: Path) -> dict[str, Any]:
    return {
        "build_version": BUILD_VERSION,
        "adapter_sha256": sha256(artefact / ADAPTER_FILE),
        "config_sha256": sha256(artefact / CONFIG_FILE),
        "reader_sha256": sha256(artefact / reader.READER_FILE) if (artefact / reader.READER_FILE).is_file() else None,
        "reader_config_sha256": (sha256(artefact / reader.READER_CONFIG)
                                 if (artefact / reader.READER_CONFIG).is_file() else None),
        "encoder_weights_size": (encoder_dir / "model.safetensors").stat().st_size,
    }


def is_built(model_dir: Path = MODEL_DIR, encoder_dir: Path = DEFAULT_MODEL_DIR, artefact: Path = ARTEFACT_DIR) -> bool:
    marker = read_json(model_dir / MARKER)
    try:
        return (isinstance(marker, dict) and (model_dir / ONNX_FILE).is_file()
                and marker.get("made_from") == _made_from(encoder_dir, artefact))
    except OSError:
        return False


def ensure_reranker(model_dir: Path = MODEL_DIR, encoder_dir: Path = DEFAULT_MODEL_DIR,
                    artefact: Path = ARTEFACT_DIR) -> Path:
    """Build the int8 reranker unless an up-to-date one is in place; returns its folder."""
    model_dir = Path(model_dir).absolute()
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    if is_built(model_dir, encoder_dir, artefact):
        return model_dir
    with locked(model_dir):
        if not is_built(model_dir, encoder_dir, artefact):
            install_folder(model_dir, lambda tmp: _build(encoder_dir, artefact, tmp))
    return model_dir


def _build(encoder_dir: Path, artefact: Path, out: Path) -> None:
    import numpy as np
    import torch

    from ingest.embedmodel.export import _fuse, _outlier_projections, _quantize, _quiet

    torch.manual_seed(0)
    scorer = load_artefact(encoder_dir, artefact)
    head = reader.load(artefact, scorer.encoder.config.hidden_size)
    for name in ("tokenizer.json", "tokenizer_config.json"):  # the same file the encoder has: one parse per process
        if (encoder_dir / name).is_file():
            shutil.copy(encoder_dir / name, out / name)
    tokenizer = load_tokenizer(out)
    pad = int(tokenizer.token_to_id("<pad>") or 1)
    reference = []
    for question, candidate in PROBES:
        ids, mask, segment = encode_pairs(tokenizer, question, [candidate], pad)
        with torch.no_grad():
            reference.append(float(scorer(torch.tensor(ids), torch.tensor(mask), torch.tensor(segment))[0]))
    fp32, fused = out / "fp32.onnx", out / "fused.onnx"
    with _quiet():
        _trace(_with_reader(scorer, head), fp32, pad)
        _fuse(fp32, fused, scorer.encoder.config)
        fp32.unlink()
        keep_fp32 = _outlier_projections(fused, encoder_dir)
        _quantize(fused, out / ONNX_FILE, keep_fp32)
        fused.unlink()
    write_json(out / MARKER, {"made_from": _made_from(encoder_dir, artefact), "kept_fp32": keep_fp32,
                              "trained": read_json(artefact / CONFIG_FILE),
                              "reader": read_json(artefact / reader.READER_CONFIG) or {}})
    reranker = Reranker(out)
    ours = [float(reranker.scores(q, [c])[0]) for q, c in PROBES]
    drift = float(np.max(np.abs(np.array(ours) - np.array(reference))))
    if drift > MAX_SCORE_DRIFT:
        raise ModelError(f"the int8 reranker is too far from fp32 (score drift {drift:.3f} > {MAX_SCORE_DRIFT})")
    marker = read_json(out / MARKER)
    marker["max_score_drift_on_probes"] = round(drift, 4)
    write_json(out / MARKER, marker)  # the marker is complete only now


def _with_reader(scorer: Any, head: Any) -> Any:
    """The scorer with the reader's start and end logits per token as two more outputs."""
    import torch

    class WithReader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scorer, self.reader = scorer, head

        def forward(self, input_ids: Any, attention_mask: Any, segment: Any) -> Any:
            states = self.scorer.states(input_ids, attention_mask)
            span = self.reader(states)
            return self.scorer.score(states, segment), span[..., 0], span[..., 1]

    return WithReader().eval()


def _trace(scorer: Any, path: Path, pad: int) -> None:
    import torch

    ids = torch.tensor([[0, 1000, 2000, 3000, 2, 2, 4000, 5000, 6000, 2], [0, 1000, 2, 2, 2000, 2] + [pad] * 4])
    mask = (ids != pad).long()
    segment = torch.tensor([[0, 1, 1, 1, 0, 0, 2, 2, 2, 0], [0, 1, 0, 0, 2, 0] + [0] * 4])
    axes = {0: "batch", 1: "tokens"}
    try:
        torch.onnx.export(
            scorer, (ids, mask, segment), str(path), input_names=["input_ids", "attention_mask", "segment"],
            output_names=["score", "start", "end"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "segment": axes, "score": {0: "batch"},
                          "start": axes, "end": axes},
            opset_version=17, dynamo=False,
        )
    except Exception as exc:  # the exporter raises many types; all mean "this model cannot be traced"
        raise ModelError(f"reranker ONNX export failed: {' '.join(str(exc).split())[:200]}") from exc


def main() -> int:
    from ingest.embedmodel import ensure_model

    try:
        encoder_dir = Path(ensure_model(DEFAULT_MODEL_DIR))
        already = is_built(MODEL_DIR, encoder_dir)
        folder = ensure_reranker(MODEL_DIR, encoder_dir)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"reranker {'up to date' if already else 'built'}: {folder / ONNX_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
