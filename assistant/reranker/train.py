"""Fine-tune the reranker: LoRA adapters and a score head on the bundled e5-small, trained with binary
cross-entropy on (question, candidate) pairs labelled answers / does not answer.

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


PACE_STEPS = 50  # a time budget re-plans the remaining steps every this many steps, from the recent pace


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
    warmup: float = 0.06
    max_steps: int | None = None
    max_seconds: float | None = None  # the steps are cut to fit, re-planned from the pace as it goes
    seed: int = 0


def train(pairs: Sequence[Pair], encoder_dir: Path, plan: Plan = Plan(),
          report: Callable[[int, int, float, float], None] | None = None):
    """The trained scorer (torch module, LoRA not merged) and the mean loss of each step."""
    import torch

    from assistant.reranker.model import Scorer, load_base, with_lora

    torch.manual_seed(plan.seed)
    rng = random.Random(plan.seed)
    tokenizer = load_tokenizer(encoder_dir)
    pad = int(tokenizer.token_to_id("<pad>") or 1)
    scorer = Scorer.make(with_lora(load_base(encoder_dir)))
    scorer.train()
    adapters = [p for n, p in scorer.named_parameters() if "lora_" in n]
    head = list(scorer.head.parameters())
    optimizer = torch.optim.AdamW([{"params": adapters, "lr": plan.learning_rate},
                                   {"params": head, "lr": plan.head_learning_rate}], weight_decay=0.01)
    # Lengths once, for batches of similar length (less padding: ~1/3 fewer tokens per step).
    lengths = [len(encode_pairs(tokenizer, p.question, [p.candidate], pad)[0][0]) for p in pairs]
    steps_per_epoch = max(1, math.ceil(len(pairs) / plan.batch))
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
            loss = loss_fn(scorer(ids, mask, segment), labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(adapters + head, 1.0)
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


def _batches(pairs: Sequence[Pair], lengths: list[int], size: int, rng: random.Random) -> list[list[Pair]]:
    """One epoch's batches: shuffled, then sorted by length within windows of 8 batches, then the
    batches shuffled, so a batch holds pairs of similar length from all over the data."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    window = size * 8
    batches = []
    for first in range(0, len(order), window):
        chunk = sorted(order[first:first + window], key=lambda i: lengths[i])
        batches += [[pairs[i] for i in chunk[k:k + size]] for k in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def score_pairs(scorer, encoder_dir: Path, question: str, candidates: Sequence[str]):
    """fp32 scores of one question's candidates with a torch scorer (evaluation during training)."""
    import torch

    tokenizer = load_tokenizer(encoder_dir)
    ids, mask, segment = encode_pairs(tokenizer, question, candidates, int(tokenizer.token_to_id("<pad>") or 1))
    with torch.no_grad():
        return scorer(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(segment)).numpy()
