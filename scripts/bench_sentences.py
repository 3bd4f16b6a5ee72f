"""How ingest should schedule the sentence encodings, measured: the sentences of a generated corpus
(«heading: sentence», as ingest encodes them) encoded three ways, in interleaved rounds:

- one passage at a time, its sentences in one batch, ONNX Runtime on one thread per core;
- passages side by side (one worker thread per core, one ONNX Runtime thread each), a passage's
  sentences in one batch;
- passages side by side, every sentence alone (a batch of one: no padding) — what ingest does.

    .venv/bin/python scripts/bench_sentences.py [--pages 30] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import write_corpus  # noqa: E402


def sentence_groups(corpus: Path, encoder) -> list[list[str]]:
    """Per passage of the corpus: its sentences as ingest encodes them."""
    from ingest.chunking import chunk_sections
    from ingest.pipeline import _alone_texts, _sentence_rows
    from ingest.sources import list_corpus, read_sections

    files, _ = list_corpus(corpus)
    chunks = [c for f in files for c in chunk_sections(read_sections(f), encoder.token_ids)]
    rows, spans = _sentence_rows(chunks)
    first = np.searchsorted(rows, np.arange(len(chunks) + 1))
    groups = [_alone_texts(c, spans[first[i]:first[i + 1]]) for i, c in enumerate(chunks)]
    return [g for g in groups if g]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from ingest.embedmodel import ensure_model
    from ingest.encoder import Encoder
    from ingest.settings import DEFAULT_MODEL_DIR

    cores = len(os.sched_getaffinity(0))
    model_dir = ensure_model(DEFAULT_MODEL_DIR)
    shared, single = Encoder(model_dir, threads=cores), Encoder(model_dir, threads=1)
    with tempfile.TemporaryDirectory() as folder:
        write_corpus(Path(folder), args.pages)
        groups = sentence_groups(Path(folder), single)

    def side_by_side(batch_of_one: bool) -> None:
        def passage(texts: list[str]) -> list:
            return list(single.passage_states(texts, batch_size=1 if batch_of_one else len(texts)))
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(passage, groups))

    ways = {
        f"one passage at a time, its sentences in one batch, {cores} threads":
            lambda: [list(shared.passage_states(g, batch_size=len(g))) for g in groups],
        f"{cores} passages side by side, a passage's sentences in one batch": lambda: side_by_side(False),
        f"{cores} passages side by side, every sentence alone (ingest)": lambda: side_by_side(True),
    }
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, run in ways.items():
            started = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - started)

    sentences = sum(map(len, groups))
    print(f"{args.pages} generated pages: {len(groups)} passages, {sentences} sentences; "
          f"{args.rounds} interleaved rounds, load {os.getloadavg()[0]:.2f}\n")
    print("| way | median s | all rounds (s) |\n|---|---|---|")
    for name, values in seconds.items():
        print(f"| {name} | {statistics.median(values):.2f} | {' / '.join(f'{v:.2f}' for v in values)} |")


if __name__ == "__main__":
    main()
