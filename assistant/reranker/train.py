"""Fine-tune the reranker: LoRA adapters and score heads on the bundled e5-small, trained on (question,
candidate) pairs labelled answers / does not answer. A batch holds whole questions (each with its
positives and negatives), and the loss is binary cross-entropy on every pair (the score stays a
probability the answer decision can calibrate) plus, for each question with an answer, the softmax
cross-entropy of its answering candidates against the rest of its pool (what ranking needs: the right
sentence above its near neighbours, not only each pair on its side of a threshold).

Deterministic for a given data set and seed (one torch thread per core, fixed shuffles). Used by
``make train`` (``scripts/train_reranker.py``) and, a few steps on a handful of pairs, by the tests.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.reranker import encode_pairs, load_tokenizer
from assistant.reranker.model import FULL_LAYERS


PACE_STEPS = 50  # a time budget re-plans the remaining steps every this many steps, from the recent pace
LISTWISE_WEIGHT = 1.0  # the listwise term beside the pairwise one


@dataclass(frozen=True)
class Pair:
    """One training example: a question, a candidate as the reranker reads it, and whether it answers."""

    question: str
    candidate: str
    label: float
    group: str = ""  # the question's id, for grouping and reports


@dataclass(frozen=True)
class Plan:
    """How long to train. Defaults sized for ``make train`` on 2 cores (see scripts/train_reranker.py)."""

    epochs: float = 1.0
    batch: int = 16
    learning_rate: float = 3e-4  # LoRA takes larger steps than a full fine-tune
    head_learning_rate: float = 1e-3
    full_layers: int = FULL_LAYERS  # top encoder layers trained in full instead of through adapters
    full_learning_rate: float = 5e-5  # their rate: a full fine-tune takes smaller steps than the adapters
    warmup: float = 0.06
    max_steps: int | None = None
    max_seconds: float | None = None  # the steps are cut to fit, re-planned from the pace as it goes
    seed: int = 0


def train(pairs: Sequence[Pair], encoder_dir: Path, plan: Plan = Plan(),
          report: Callable[[int, int, float, float], None] | None = None):
    """The trained scorer (torch module, LoRA not merged) and the mean loss of each step."""
    import torch

    from assistant.reranker.model import make_scorer, trained

    torch.manual_seed(plan.seed)
    rng = random.Random(plan.seed)
    tokenizer = load_tokenizer(encoder_dir)
    pad = int(tokenizer.token_to_id("<pad>") or 1)
    scorer = make_scorer(encoder_dir, full_layers=plan.full_layers)
    scorer.train()
    params = trained(scorer)
    rates: dict[float, list] = {}  # adapters, heads and layers trained in full, each at its own rate
    for name, p in params.items():
        rate = (plan.learning_rate if "lora_" in name else plan.head_learning_rate
                if name.startswith(("head.", "head_pair.")) else plan.full_learning_rate)
        rates.setdefault(rate, []).append(p)
    optimizer = torch.optim.AdamW([{"params": ps, "lr": lr} for lr, ps in rates.items()], weight_decay=0.01)
    # Lengths once, for batches of similar length (less padding: ~1/3 fewer tokens per step).
    lengths = [len(encode_pairs(tokenizer, p.question, [p.candidate], pad)[0][0]) for p in pairs]
    steps_per_epoch = len(_batches(pairs, lengths, plan.batch, random.Random(plan.seed)))
    total = plan.max_steps or max(1, int(steps_per_epoch * plan.epochs))
    warmup = max(1, int(total * plan.warmup))
    budget = {"total": total}  # the linear decay ends at the (possibly re-planned) last step
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (budget["total"] - s) / max(1, budget["total"] - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    losses: list[float] = []
    step, started = 0, time.perf_counter()
    paced = started  # when the last PACE_STEPS steps ended
    while step < budget["total"]:
        for batch in _batches(pairs, lengths, plan.batch, rng):
            if step >= budget["total"]:
                break
            rows = [encode_pairs(tokenizer, p.question, [p.candidate], pad) for p in batch]
            width = max(r[0].shape[1] for r in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            segment = torch.zeros((len(rows), width), dtype=torch.long)
            for k, (i, m, g) in enumerate(rows):
                ids[k, :i.shape[1]] = torch.from_numpy(i[0])
                mask[k, :m.shape[1]] = torch.from_numpy(m[0])
                segment[k, :g.shape[1]] = torch.from_numpy(g[0])
            labels = torch.tensor([p.label for p in batch], dtype=torch.float32)
            scores = scorer(ids, mask, segment)
            loss = loss_fn(scores, labels) + LISTWISE_WEIGHT * listwise_loss(scores, labels, [p.group for p in batch])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            step += 1
            if plan.max_seconds and step % PACE_STEPS == 0:
                # The pace changes with the machine's load: what is left of the time at the recent pace.
                now = time.perf_counter()
                pace, paced = (now - paced) / PACE_STEPS, now
                budget["total"] = max(step + 1, min(total, step + int((plan.max_seconds - (now - started)) / pace)))
            if report is not None:
                report(step, budget["total"], time.perf_counter() - started, losses[-1])
    scorer.eval()
    return scorer, losses


def listwise_loss(scores, labels, groups: Sequence[str]):
    """Mean over the batch's questions that have both an answering and a non-answering candidate of
    -log(softmax mass on the answering ones); zero when no question has both."""
    import torch

    terms = []
    for group in dict.fromkeys(groups):
        rows = torch.tensor([g == group for g in groups])
        s, y = scores[rows], labels[rows]
        if 0 < float(y.sum()) < len(y):
            terms.append(torch.logsumexp(s, 0) - torch.logsumexp(s[y > 0.5], 0))
    return torch.stack(terms).mean() if terms else scores.sum() * 0.0


def _batches(pairs: Sequence[Pair], lengths: list[int], size: int, rng: random.Random) -> list[list[Pair]]:
    """One epoch's batches of whole questions (all pairs of a question in one batch, at least ``size``
    pairs a batch): questions shuffled, then sorted by their pairs' mean length within windows of
    8 batches, so a batch holds questions of similar length from all over the data."""
    by_group: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        by_group.setdefault(p.group or str(i), []).append(i)
    groups = list(by_group.values())
    rng.shuffle(groups)
    per_group = max(1.0, len(pairs) / max(1, len(groups)))
    window = max(1, int(size * 8 / per_group))
    batches: list[list[Pair]] = []
    for first in range(0, len(groups), window):
        chunk = sorted(groups[first:first + window], key=lambda g: sum(lengths[i] for i in g) / len(g))
        batch: list[int] = []
        for g in chunk:
            batch += g
            if len(batch) >= size:
                batches.append([pairs[i] for i in batch])
                batch = []
        if batch:
            batches.append([pairs[i] for i in batch])
    rng.shuffle(batches)
    return batches


def score_pairs(scorer, encoder_dir: Path, question: str, candidates: Sequence[str]):
    """fp32 scores of one question's candidates with a torch scorer (evaluation during training)."""
    import torch

    tokenizer = load_tokenizer(encoder_dir)
    ids, mask, segment = encode_pairs(tokenizer, question, candidates, int(tokenizer.token_to_id("<pad>") or 1))
    with torch.no_grad():
        return scorer(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(segment)).numpy()
