"""Passage throughput of the fp32 torch model (sentence-transformers) against the int8 ONNX encoder,
on chunk-sized windows of the bundled report, both with the same number of threads, and how close
the two embeddings are. Prints a small Markdown table.

    .venv/bin/python scripts/bench_encoder.py [--texts 500] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.chunking import CHUNK_TOKENS  # noqa: E402
from ingest.settings import DEFAULT_MODEL_DIR, PROJECT_ROOT  # noqa: E402


def chunk_sized_texts(count: int) -> list[str]:
    """``count`` windows of about CHUNK_TOKENS tokens (~0.6 words per token) over the report's words."""
    words = (PROJECT_ROOT / "corpus" / "om-prosjektet.md").read_text(encoding="utf-8").split()
    size = int(CHUNK_TOKENS * 0.6)
    step = max(1, (len(words) - size) // count)
    return [" ".join(words[(i * step) % max(1, len(words) - size):][:size]) for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts = chunk_sized_texts(args.texts)

    from ingest.embedmodel import ensure_model
    from ingest.encoder import Encoder

    model_dir = ensure_model(DEFAULT_MODEL_DIR)
    encoder = Encoder(model_dir, threads=args.threads)
    tokens = np.mean([encoder.count_tokens(t) for t in texts])
    encoder.encode_passages(texts[:8])  # warm-up
    started = time.perf_counter()
    ours = encoder.encode_passages(texts)
    onnx_rate = len(texts) / (time.perf_counter() - started)

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.encode(texts[:8], prompt_name="passage")
    started = time.perf_counter()
    reference = model.encode(texts, prompt_name="passage", batch_size=32, convert_to_numpy=True)
    torch_rate = len(texts) / (time.perf_counter() - started)

    cosines = (ours * reference).sum(axis=1)
    print(f"{len(texts)} texts, {tokens:.0f} tokens on average, {args.threads} threads, load {os.getloadavg()[0]:.1f}\n")
    print("| encoder | texts/s | lowest cosine to fp32 |")
    print("| --- | --- | --- |")
    print(f"| fp32 torch (sentence-transformers) | {torch_rate:.1f} | 1 |")
    print(f"| int8 ONNX (ingest.encoder) | {onnx_rate:.1f} | {cosines.min():.4f} |")


if __name__ == "__main__":
    main()
