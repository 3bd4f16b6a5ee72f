"""Stage 4, rerank: the trained cross-encoder (:mod:`assistant.reranker`) reads the question with each
candidate, and its logit joins the feature model's into one score per candidate (weights fitted on
dev, :class:`assistant.rank.Calibration`). Without a reranker the feature model's order stands."""
from __future__ import annotations

import numpy as np

from assistant.people import PeopleResult
from assistant.pipeline.case import Pool, Ranking, Tools
from assistant.rank import NO_SCORE, record_sentence, reranked, reranker_text
from assistant.reranker import candidate_text
from assistant.tuning import RECORD_LEAD


def rerank(tools: Tools, pool: Pool) -> Ranking:
    """The pool's candidates best first, with their combined scores; passages in the order of their
    best sentence, then the rest of the search's. No decision yet."""
    if not pool.candidates:
        return Ranking(pool.question, pool.hits, [], pool.terms, unknown=pool.unknown)
    if tools.reranker is None:  # fitting the feature model (scripts/fit.py): its own order, text only
        text = [c for c in pool.candidates if tools.chunks[c.position].kind == "text"]
        ranked = sorted(text, key=lambda c: -c.probability)
        return Ranking(pool.question, pool.hits, ranked, pool.terms, unknown=pool.unknown)
    reading = tools.reranker.reading(pool.question, [reranker_text(c, tools.chunks) for c in pool.candidates])
    combined = tools.calibration.combine(reading.logits, np.array([c.probability for c in pool.candidates]))
    scored = reranked(pool.candidates, combined)
    candidates = [c for c, _ in scored]
    order = list(dict.fromkeys(c.position for c in candidates if tools.chunks[c.position].kind == "text"))
    by_position = {h.position: h for h in pool.hits}
    hits = [by_position[pos] for pos in order if pos in by_position] + [h for h in pool.hits if h.position not in order]
    text = [k for k, c in enumerate(pool.candidates) if tools.chunks[c.position].kind == "text"]
    return Ranking(pool.question, hits, candidates, pool.terms, unknown=pool.unknown, scores=[s for _, s in scored],
                   rerank_text_best=float(reading.logits[text].max()) if text else NO_SCORE,
                   best_span=reading.span(int(np.argmax(combined))))  # reranked's first: the first of the highest


def standing_out(tools: Tools, question: str, result: PeopleResult) -> PeopleResult:
    """A list of people of whom one answers far better than the rest, as the reranker reads the
    records («Hvem representerte fylket i styringsgruppa?» over the nine members): that one alone.
    A list whose members answer alike («Hvem satt i styringsgruppa?») stays whole."""
    lines = result.lines
    if tools.reranker is None or not result.bullet or len(lines) < 2 or any(len(line.records) != 1 for line in lines):
        return result
    texts = [candidate_text(r.section, record_sentence({k: v for k, v in r.model_dump().items() if isinstance(v, str) and v}))
             for line in lines for r in line.records]
    scores = tools.reranker.scores(question, texts)
    order = np.argsort(-scores, kind="stable")
    if scores[order[0]] - scores[order[1]] < RECORD_LEAD:
        return result
    return PeopleResult(result.intro, (lines[int(order[0])],), bullet=True)
