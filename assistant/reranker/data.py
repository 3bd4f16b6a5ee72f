"""The reranker's training data: annotated questions over a folder of material, turned into labelled
(question, candidate) pairs with the hard negatives the first stage actually gathers.

Sources (``training/splits.yaml``): the collections in ``training/collections/`` (fictional documents
and questions written from them alone), the project's evaluation sets (``tests/eval``), and rated
answers exported with ``python -m assistant feedback export`` once a person has filled in ``expect``.
A question is annotated with ``source`` (the verbatim sentence that answers), ``record`` (a participant
id), ``expect`` (answer words; used when there is no source), or ``abstain: true``.
"""
from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from assistant.evaluation import quoted_source, scorer
from assistant.rank import reranker_text
from assistant.reranker.train import Pair
from assistant.retrieve import Candidate
from ingest.settings import PROJECT_ROOT

TRAINING_DIR = PROJECT_ROOT / "training"
SPLITS_FILE = TRAINING_DIR / "splits.yaml"
# Negatives per question: the first stage's likeliest wrong candidates (what the reranker must learn to
# push down), and a few random ones from the rest of the pool.
HARD_NEGATIVES = 7
RANDOM_NEGATIVES = 2
MIN_QUOTED_SENTENCE = 20
MINED_POOL = 24  # training and calibration see a wider pool than the query path reads (tuning.RERANK_POOL)  # a sentence inside a multi-sentence `source` counts when at least this long


@dataclass(frozen=True)
class Source:
    """One folder of material and the questions over it."""

    name: str
    split: str  # train | dev | test
    questions: list[dict]
    corpus: Path | None = None  # a folder to ingest alone; None: an evaluation set (tests/eval/sets.yaml)
    eval_set: str | None = None
    extra: tuple[Path, ...] = field(default_factory=tuple)


def norm(text: str) -> str:
    return scorer().norm(text)  # the judge's own text folding: labels agree with how answers are scored


def load_sources(splits: Iterable[str] | None = None, path: Path | None = None) -> list[Source]:
    """The sources named in ``training/splits.yaml`` (only those of ``splits`` when given)."""
    from assistant.evaluation import load_sets

    path = path or SPLITS_FILE
    plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    wanted = set(splits) if splits else None
    out: list[Source] = []
    for split, entries in plan.items():
        if wanted is not None and split not in wanted:
            continue
        for entry in entries or []:
            if "collection" in entry:
                folder = TRAINING_DIR / "collections" / entry["collection"]
                questions = load_questions(folder / "questions.yaml")
                out.append(Source(entry["collection"], split, questions, corpus=folder / "docs"))
            elif "eval_set" in entry:
                (found,) = load_sets([entry["eval_set"]])
                out.append(Source(found.name, split, found.questions, eval_set=found.name, extra=found.extra))
            elif "feedback" in entry:
                # Rated answers, asked over the material of an evaluation set (`over`; default: the bundled corpus).
                questions = [q for q in load_questions(PROJECT_ROOT / entry["feedback"]) if usable_feedback(q)]
                (over,) = load_sets([entry.get("over", "dev")])
                out.append(Source(Path(entry["feedback"]).stem, split, questions, eval_set=over.name, extra=over.extra))
    return out


def load_questions(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a YAML list of questions")
    return data


def usable_feedback(case: dict) -> bool:
    """An exported rating becomes a training question once a person has said what the answer is
    (``expect``) or that the material does not hold it (``abstain: true``)."""
    return bool(case.get("question")) and (bool(case.get("expect")) or case.get("abstain") is True)


def label(case: dict, candidate: Candidate, chunks) -> int | None:
    """1 when the candidate answers the case, 0 when not, None when the case cannot tell."""
    chunk = chunks[candidate.position]
    if case.get("abstain"):
        return 0
    if case.get("record"):
        return int(chunk.kind == "participant" and chunk.meta.get("id") == case["record"])
    sentence = norm(candidate.text(chunks))
    if case.get("source"):
        source = quoted_source(case)
        heading = norm(chunk.section.split(" > ")[-1])
        return int(source in f"{heading} {sentence}" or source in sentence
                   or (len(sentence) >= MIN_QUOTED_SENTENCE and sentence in source))
    groups = [g for g in case.get("expect") or [] if any(len(str(alt)) > 3 for alt in g)]
    if not groups:
        return None
    text = norm(reranker_text(candidate, chunks))
    return int(all(any(norm(str(alt)) in text for alt in g) for g in groups))


def gold_candidates(case: dict, generation) -> list[Candidate]:
    """Every sentence (or record) of the index that answers the case, found without retrieval: the
    positives a pool missed still teach the reranker what an answer looks like."""
    if case.get("abstain") or not (case.get("source") or case.get("record")):
        return []
    chunks = generation.chunks
    out, seen = [], set()
    for row, pos in enumerate(generation.sentence_chunk):
        pos = int(pos)
        start, end = (int(x) for x in generation.sentence_spans[row])
        candidate = Candidate(pos, start, end, np.zeros(0))
        if pos in seen and chunks[pos].kind == "participant":
            continue
        if label(case, candidate, chunks) == 1:
            out.append(candidate)
            seen.add(pos)
    return out


@dataclass
class Mined:
    """One question's pool, labelled: what training takes pairs from and what dev is measured on."""

    case: dict
    question: str  # standalone (a follow-up with its previous question in front)
    texts: list[str]  # the pool's candidates as the reranker reads them, in the first stage's order
    labels: list[int]
    gold: list[str]  # answering candidates outside the pool
    routed_to_records: bool  # the participant records answer it before any ranking
    priors: list[float] = field(default_factory=list)  # the feature model's estimate per candidate
    positions: list[int] = field(default_factory=list)  # each candidate's passage (chunk position)
    features: list[list[float]] = field(default_factory=list)  # each candidate's feature row (decide.SENTENCE_FEATURES)
    unknown: float = 0.0  # share of the asked-about terms the material never uses (Pool.unknown)
    norwegian: float = 1.0  # share of the question's words a Norwegian dictionary knows (Pool.norwegian)

    @property
    def answerable(self) -> bool:
        return not self.case.get("abstain")


def mine(assistant, cases: list[dict]) -> Iterator[Mined]:
    """Pools and labels of the cases, gathered by the assistant's own first stage."""
    from assistant.models import Turn

    chunks = assistant.generation.chunks
    for case in cases:
        if not case.get("question") or case.get("class") == "multi_part":
            continue
        turns = [Turn.model_validate(t) for t in case.get("history") or []]
        standalone, _ = assistant.standalone(case["question"], turns)
        pool = assistant.gather(standalone, MINED_POOL)
        labels = [label(case, c, chunks) for c in pool.candidates]
        if any(x is None for x in labels):
            continue  # nothing to learn from (a yes/no case with neither source nor answer words)
        inside = {(c.position, c.start) for c in pool.candidates}
        gold = [reranker_text(g, chunks) for g in gold_candidates(case, assistant.generation)
                if (g.position, g.start) not in inside]
        routed = assistant.records_answer(case["question"], turns) is not None
        yield Mined(case, standalone, [reranker_text(c, chunks) for c in pool.candidates], labels, gold, routed,
                    [c.probability for c in pool.candidates], [c.position for c in pool.candidates],
                    [[round(float(x), 5) for x in c.features] for c in pool.candidates], pool.unknown, pool.norwegian)


def pairs(mined: Iterable[Mined], seed: int = 0) -> list[Pair]:
    """Training pairs: each question's positives, its hardest negatives and a few random ones.
    An answerable question whose answer was found nowhere gives no pairs (its annotation is off)."""
    rng = random.Random(seed)
    out: list[Pair] = []
    for m in mined:
        positives = [t for t, y in zip(m.texts, m.labels) if y == 1] + m.gold
        negatives = [t for t, y in zip(m.texts, m.labels) if y == 0]
        if m.answerable and not positives:
            continue
        chosen = negatives[:HARD_NEGATIVES]
        rest = negatives[HARD_NEGATIVES:]
        chosen += rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
        group = str(m.case.get("id", m.question))
        out += [Pair(m.question, t, 1.0, group) for t in dict.fromkeys(positives)]
        out += [Pair(m.question, t, 0.0, group) for t in chosen]
    return out
