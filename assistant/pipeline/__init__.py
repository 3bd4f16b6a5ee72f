"""The answer path as a pipeline of stages, each in its own module, passing one typed object along.

    understand  (:mod:`.understand`)  the question: validated, parsed, a follow-up made standalone  -> Case
    lookup      (:mod:`.lookup`)      the participant records answer questions about people in roles -> Case.records
    gather      (:mod:`.gather`)      candidates from text and records: hybrid passage search, their
                                      sentences, the nearest records                                 -> Pool
    rerank      (:mod:`.rerank`)      the trained cross-encoder orders the candidates                -> Ranking
    decide      (:mod:`.decide`)      answer or abstain, and how surely, from the calibrated score   -> Ranking
    compose     (:mod:`.compose`)     the Norwegian answer with verified citations                   -> Evidence

:class:`~assistant.pipeline.case.Tools` holds what the stages read (the index generation and the
models); :class:`assistant.service.Assistant` loads it once and runs the stages in this order.
"""
from assistant.pipeline.case import Case, Pool, Ranking, Tools

__all__ = ["Case", "Pool", "Ranking", "Tools"]
