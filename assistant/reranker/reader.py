"""The reader: marks the answer inside the sentence the reranker chose («Hva kostet ombyggingen av skranken?» ->
«240 000 kroner»).

It is a start/end head on the reranker's own token states: the reranker reads the question and the
candidate together, so its states of the candidate's tokens already know what is asked. The head is
trained on the annotations' ``answer`` spans (verbatim inside the answering sentence) with the encoder
frozen, in a few minutes; it ships beside the adapter (``reader.safetensors``, 200 kB) and the build adds
its two logits per token to the int8 model as extra outputs, so reading costs one more pair at most.

A span is shown only when its probability reaches the threshold chosen on dev (``reader.json``): the
lowest from which at least ``GOOD_SHARE`` of the spans shown match the annotated answer with a word
overlap (F1) of at least ``GOOD_SPAN_F1``.
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

READER_FILE = "reader.safetensors"
READER_CONFIG = "reader.json"
MAX_SPAN_TOKENS = 30  # an answer span is a name, a date, an amount, a phrase: rarely longer
GOOD_SPAN_F1 = 0.8  # a shown span counts as good when its word overlap (F1) with the annotation is at least this
GOOD_SHARE = 0.9  # the threshold keeps the shown spans at least this often good on dev (a bold answer must be right)
HIDDEN = 128
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SpanExample:
    """A question, a candidate as the reranker reads it, and the answer's characters inside it."""

    question: str
    candidate: str
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """The answer the reader marks: characters [start, end) of the candidate text, and how sure it is."""

    start: int
    end: int
    probability: float


def examples(mined: Sequence[Any]) -> list[SpanExample]:
    """One example per annotated question: its ``answer`` inside an answering candidate of its pool
    (or one found outside it), located verbatim."""
    out = []
    for m in mined:
        answer = str(m.case.get("answer") or "").strip()
        if not answer or not m.answerable:
            continue
        answering = [t for t, y in zip(m.texts, m.labels) if y == 1] + list(m.gold)
        for text in answering:
            # The sentence comes after the headings («Økonomi: …»): look for the answer there first.
            at = text.find(answer, text.find(": ") + 2 if ": " in text else 0)
            at = at if at >= 0 else text.find(answer)
            if at >= 0:
                out.append(SpanExample(m.question, text, at, at + len(answer)))
                break
    return out


def token_span(encoding, start: int, end: int) -> tuple[int, int] | None:
    """The first and last token of the candidate (sequence 1 of the pair) covering characters
    [start, end) of the candidate text as passed to the tokenizer."""
    first = last = None
    for k, (sid, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets)):
        if sid != 1 or b <= a:
            continue
        if first is None and b > start:
            first = k
        if a < end:
            last = k
    if first is None or last is None or last < first:
        return None
    return first, last


def candidate_tokens(encoding, segment: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The positions of the candidate's tokens in a pair (segment 2), and the characters each covers
    in the candidate text (without the passage prefix)."""
    from assistant.reranker import PASSAGE_PREFIX

    inside = np.flatnonzero(segment == 2)
    prefix = len(PASSAGE_PREFIX)
    return inside, [(encoding.offsets[k][0] - prefix, encoding.offsets[k][1] - prefix) for k in inside]


def make_head(hidden_size: int):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(hidden_size, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 2))


def fit(scorer, encoder_dir: Path, train: Sequence[SpanExample], *, epochs: int = 40, seed: int = 0):
    """The head (torch module) trained on the frozen scorer's token states of ``train``, and the loss per epoch."""
    import torch

    torch.manual_seed(seed)
    rows = _states(scorer, encoder_dir, train)
    head = make_head(rows[0][0].shape[-1])
    optimizer = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=0.01)
    rng = random.Random(seed)
    losses = []
    for _ in range(epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        total = 0.0
        for first in range(0, len(order), 32):
            batch = [rows[i] for i in order[first:first + 32]]
            loss = sum(_span_loss(head, states, s, e) for states, s, e in batch) / len(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        losses.append(total / max(1, len(rows)))
    return head.eval(), losses


def _span_loss(head, states, start: int, end: int):
    import torch

    logits = head(states)  # (tokens of the candidate, 2)
    return (torch.nn.functional.cross_entropy(logits[:, 0][None], torch.tensor([start]))
            + torch.nn.functional.cross_entropy(logits[:, 1][None], torch.tensor([end])))


def _states(scorer, encoder_dir: Path, items: Sequence[SpanExample]) -> list[tuple[Any, int, int]]:
    """For each example: the token states of its candidate's tokens, and the answer's first and last
    token among them (examples whose answer was cut off by the token limit are left out)."""
    return [(states, s, e) for states, _, (s, e) in _read_all(scorer, encoder_dir, items) if s is not None]


def _read_all(scorer, encoder_dir: Path, items: Sequence[SpanExample]):
    """Per example: the candidate tokens' states (torch), their character ranges in the candidate,
    and the answer's (first, last) among them, (None, None) when it cannot be located."""
    import torch

    from assistant.reranker import PASSAGE_PREFIX, encode_pair_batch, load_tokenizer, pair_arrays

    tokenizer = load_tokenizer(encoder_dir)
    pad = int(tokenizer.token_to_id("<pad>") or 1)
    prefix = len(PASSAGE_PREFIX)
    out = []
    with torch.no_grad():
        for ex in items:
            (encoding,) = encode_pair_batch(tokenizer, ex.question, [ex.candidate])
            ids, mask, segment = pair_arrays([encoding], pad)
            inside, ranges = candidate_tokens(encoding, segment[0])
            states = scorer.states(torch.from_numpy(ids), torch.from_numpy(mask))[0][torch.from_numpy(inside)].clone()
            span = token_span(encoding, prefix + ex.start, prefix + ex.end)
            target = (None, None)
            if span is not None and span[0] in inside and span[1] in inside:
                target = (int(np.flatnonzero(inside == span[0])[0]), int(np.flatnonzero(inside == span[1])[0]))
            out.append((states, ranges, target))
    return out


def judge(head, scorer, encoder_dir: Path, items: Sequence[SpanExample]) -> list[tuple[float, float, bool]]:
    """Per example: the probability of the span the head marks, its word-overlap F1 with the
    annotated answer, and whether it is exactly the annotated one."""
    import torch

    out = []
    with torch.no_grad():
        for ex, (states, ranges, _) in zip(items, _read_all(scorer, encoder_dir, items)):
            logits = head(states).numpy()
            first, last, p = best_span(logits[:, 0], logits[:, 1])
            a, b = max(0, ranges[first][0]), ranges[last][1]
            predicted, gold = ex.candidate[a:b].strip(), ex.candidate[ex.start:ex.end]
            out.append((p, overlap_f1(predicted, gold), predicted == gold.strip()))
    return out


def best_span(start_logits: np.ndarray, end_logits: np.ndarray) -> tuple[int, int, float]:
    """The most probable (first, last) token pair with first <= last < first + MAX_SPAN_TOKENS, and
    its probability (softmax start x softmax end), over one candidate's tokens."""
    ps = _softmax(start_logits)
    pe = _softmax(end_logits)
    joint = np.triu(np.outer(ps, pe)) - np.triu(np.outer(ps, pe), MAX_SPAN_TOKENS)
    s, e = np.unravel_index(int(np.argmax(joint)), joint.shape)
    return int(s), int(e), float(joint[s, e])


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(np.asarray(x, dtype=float) - np.max(x))
    return z / z.sum()


def overlap_f1(predicted: str, gold: str) -> float:
    """Word-overlap F1 of a predicted span with the annotated one (the SQuAD measure)."""
    p, g = _WORD.findall(predicted.lower()), _WORD.findall(gold.lower())
    common = sum(min(p.count(w), g.count(w)) for w in set(p))
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def choose_threshold(probabilities: Sequence[float], good: Sequence[bool]) -> float:
    """The lowest probability from which the spans shown are good at least GOOD_SHARE of the time
    (1.0, never shown, when no threshold gets there)."""
    order = np.argsort(-np.asarray(probabilities), kind="stable")
    best, hits = 1.0, 0
    for n, i in enumerate(order, 1):
        hits += int(good[i])
        if hits / n >= GOOD_SHARE and n >= 10:
            best = float(probabilities[i])
    return best


def save(head, folder: Path, info: dict) -> None:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({n: p.detach().to(torch.float32).contiguous() for n, p in head.state_dict().items()},
              str(folder / READER_FILE))
    (folder / READER_FILE).chmod(0o644)
    (folder / READER_CONFIG).write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load(folder: Path, hidden_size: int):
    """The shipped head (torch), or a ModelError naming the file."""
    from safetensors.torch import load_file

    from ingest import ModelError

    path = folder / READER_FILE
    if not path.is_file():
        raise ModelError(f"the reader file {path} is missing; restore it from git, or run 'make train'")
    head = make_head(hidden_size)
    try:
        head.load_state_dict(load_file(str(path)))
    except Exception as exc:  # safetensors and torch raise their own types for a damaged file
        raise ModelError(f"the reader file {path} is damaged ({' '.join(str(exc).split())[:100]}); "
                         "restore it from git, or run 'make train'") from None
    return head.eval()

