"""Rerank and decide: the trained cross-encoder orders the candidate sentences of the gathered pool, and
a calibration fitted on dev turns its scores into the probability that the best one answers.

The pool comes from ``Assistant.gather`` (hybrid passage search, then every sentence of those passages
and the nearest participant records, pre-ordered by the fitted feature model so the reranker reads
the likeliest few). ``Calibration`` is written by ``scripts/train_reranker.py --calibrate`` into
``assistant/data/reranker/calibration.json``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant.reranker import ARTEFACT_DIR, candidate_text
from assistant.retrieve import Candidate
from ingest import Chunk, ModelError

CALIBRATION_FILE = ARTEFACT_DIR / "calibration.json"
# A candidate's score joins the reranker's logit and the feature model's (the first stage's estimate,
# which knows things the reranker does not see: the passage's rank, the whole index's cosines).
SENTENCE_FEATURES = ("rerank", "prior_logit")
# The answer decision reads the best combined score and its lead over the second (a lone high score is
# surer than one of several near-equal ones), and the reranker's own best logit for a text sentence: the
# combined score of a participant record or of a sentence the feature model likes can stand high while no
# sentence of the text answers. Cross-validated by source on dev (scripts/decision_study.py, 4 Dec 2026, night)
# it lifted the AUC from 0.790 to 0.801 and the questions ending right at a held-out threshold from 700 to 724
# of 1,259; no other feature tried there (coverage, answer type, language, the reader's span) added to it.
# End to end the six dev sets went from 988 to 1,031 of 1,620 right, the four test splits from 469 to 472.
CALIBRATION_FEATURES = ("score_best", "score_margin", "rerank_text_best")
NO_SCORE = -10.0  # a logit no candidate reaches: the score of what is not there


_MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember")


def _month(value: str) -> str:
    year, _, month = value.partition("-")
    return f"{_MONTHS[int(month) - 1]} {year}" if month else year


def record_sentence(meta: dict[str, str]) -> str:
    """A participant record as a Norwegian sentence, so the reranker reads a role by its meaning
    («Kari Nordmann var prosjektleder, rådgiver i Kulturenheten, Eksempel kommune (fra mars 2023).»)."""
    title, unit, organisation = meta.get("title"), meta.get("unit"), meta.get("organisation")
    text = f"{meta.get('name', '')} var {meta.get('role', '')}"
    if title:
        text += f", {title[:1].lower()}{title[1:]}"
    if unit and unit not in (title or ""):
        text += f" i {unit}"
    if organisation:
        text += f", {organisation}"
    if meta.get("period"):
        text += f" ({meta['period']})"
    elif meta.get("start") or meta.get("end"):
        span = [f"fra {_month(meta['start'])}" if meta.get("start") else "", f"til {_month(meta['end'])}" if meta.get("end") else ""]
        text += f" ({' '.join(x for x in span if x)})"
    return text + "."


def table_row(text: str, header: str) -> str:
    """A Markdown table row with its column names («Måned: Mars; Besøk: 1 234»), so a row is read
    by what its cells mean."""
    names = [c.strip() for c in header.strip().strip("|").split("|")]
    cells = [c.strip() for c in text.strip().strip("|").split("|")]
    if len(names) != len(cells):
        return text
    return "; ".join(f"{n}: {c}" if n else c for n, c in zip(names, cells))


def reranker_text(candidate: Candidate, chunks: list[Chunk]) -> str:
    """What the reranker reads for a candidate: a sentence with its headings, a table row with its
    column names, a record as a sentence."""
    chunk = chunks[candidate.position]
    if chunk.kind == "participant":
        return candidate_text(chunk.section, record_sentence(chunk.meta))
    sentence = candidate.text(chunks)
    if sentence.lstrip().startswith("|"):
        before = chunk.text[:candidate.start]
        header = next((line for line in before.splitlines() if line.lstrip().startswith("|")), None)
        if header is not None and header.strip() != sentence.strip():
            sentence = table_row(sentence, header)
    return candidate_text(chunk.section, sentence)


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def reranked(candidates: list[Candidate], scores: np.ndarray) -> list[tuple[Candidate, float]]:
    """The candidates best first by their (combined) score, each with it; a candidate's probability
    becomes σ(score), which the sentence choice compares."""
    order = np.argsort(-scores, kind="stable")
    return [(replace(candidates[i], probability=float(sigmoid(scores[i]))), float(scores[i])) for i in order]


def calibration_row(scores: list[float], rerank_text_best: float) -> np.ndarray:
    """The decision's features (CALIBRATION_FEATURES) from the combined scores, best first."""
    best = scores[0] if scores else NO_SCORE
    second = scores[1] if len(scores) > 1 else best - 5.0
    return np.array([best, best - second, rerank_text_best], dtype=float)


@dataclass(frozen=True)
class Calibration:
    """A candidate's score = v·(reranker logit, feature-model logit) + c; p(the best candidate
    answers) = σ(w·row + b) over the best scores and the reranker's best text logit; and the
    thresholds chosen on dev: «høy» at ``high`` and above, «middels» (said in the text) from ``low``."""

    coef: np.ndarray
    intercept: float
    high: float
    low: float
    provenance: dict
    sentence_coef: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0]))
    sentence_intercept: float = 0.0

    def combine(self, rerank: np.ndarray, prior: np.ndarray) -> np.ndarray:
        """Each candidate's score from the reranker's logit and the feature model's probability."""
        rows = np.stack([np.asarray(rerank, dtype=float), logit(prior)], axis=1)
        return rows @ self.sentence_coef + self.sentence_intercept

    def probability(self, scores: list[float], rerank_text_best: float) -> float:
        return float(sigmoid(calibration_row(scores, rerank_text_best) @ self.coef + self.intercept))

    def confidence(self, p: float) -> str | None:
        if p >= self.high:
            return "høy"
        if p >= self.low:
            return "middels"
        return None

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        path.write_text(json.dumps({
            "sentence_features": list(SENTENCE_FEATURES), "sentence_coef": self.sentence_coef.tolist(),
            "sentence_intercept": self.sentence_intercept,
            "features": list(CALIBRATION_FEATURES), "coef": self.coef.tolist(), "intercept": self.intercept,
            "thresholds": {"high": self.high, "low": self.low}, "provenance": self.provenance,
        }, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if tuple(data["features"]) != CALIBRATION_FEATURES or tuple(data["sentence_features"]) != SENTENCE_FEATURES:
                raise ValueError("fitted on other features")
            return cls(np.array(data["coef"], dtype=float), float(data["intercept"]),
                       float(data["thresholds"]["high"]), float(data["thresholds"]["low"]), data.get("provenance", {}),
                       np.array(data["sentence_coef"], dtype=float), float(data["sentence_intercept"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"the reranker calibration {path} cannot be read ({exc}); restore it from git, "
                             "or run 'make train'") from None

    @classmethod
    def neutral(cls) -> "Calibration":
        """σ(best score), every answer given: the starting point for fitting."""
        return cls(np.array([1.0, 0.0, 0.0]), 0.0, 0.5, 0.0, {})
