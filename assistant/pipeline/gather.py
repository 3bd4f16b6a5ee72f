"""Stage 3, gather: the candidates the reranker reads, from the text and from the records. Hybrid
passage search (BM25 over Norwegian stems + dense, fused), every sentence of those passages ordered by
the fitted feature model, and the participant records nearest the question."""
from __future__ import annotations

import numpy as np

from assistant.language import norwegian_share
from assistant.pipeline.case import Pool, Tools
from assistant.pipeline.understand import content_terms
from assistant.query import normalise, proper_names
from assistant.retrieve import Candidate
from assistant.tuning import RERANK_PASSAGES, RERANK_POOL, RERANK_RECORDS
from ingest import analyze


def gather(tools: Tools, question: str, limit: int | None = RERANK_POOL) -> Pool:
    """Every sentence of the RERANK_PASSAGES best passages, the likeliest ``limit`` of them by the
    feature model (all with None), and the RERANK_RECORDS participant records nearest the question,
    each record once."""
    retriever = tools.retriever
    vector = retriever.embed_query(question)
    normalised = normalise(question)
    hits = retriever.search(normalised, vector, top=RERANK_PASSAGES)
    terms = content_terms(normalised)
    related = tools.expander.related(normalised)
    text = with_prior(tools, retriever.candidates(hits, vector, terms, related, normalised))[:limit]
    records = retriever.records(normalised, vector, RERANK_RECORDS)
    people = {c.position: c for c in with_prior(tools, retriever.candidates(records, vector, terms, related, normalised))[::-1]}
    names = {s for n in proper_names(question) for s in analyze(n)}
    asked = [t for t in terms if t not in names] or terms
    unknown = retriever.unknown_share(asked, tools.expander.holds, related)
    return Pool(question, hits, text + [people[h.position] for h in records if h.position in people], terms,
                unknown, norwegian_share(question))


def with_prior(tools: Tools, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates best first by the feature model, its estimate as their probability."""
    if not candidates:
        return []
    prior = tools.decision.sentence.probability(np.stack([c.features for c in candidates]))
    return [Candidate(candidates[i].position, candidates[i].start, candidates[i].end, candidates[i].features, float(prior[i]))
            for i in np.argsort(-prior, kind="stable")]
