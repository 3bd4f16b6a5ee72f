"""The assistant: load the index and the models once, then answer questions.

``Assistant.ask(question, history)`` is a pipeline: understand the question (:mod:`assistant.query`:
parts, follow-ups, yes/no), answer from the participant records when it is about people in roles
(:mod:`assistant.people`), else gather candidates (hybrid passage search, their sentences, the nearest
records: :meth:`Assistant.gather` → :class:`Pool`), rerank them with the trained cross-encoder
(:mod:`assistant.reranker`), decide from its calibrated score whether and how surely to answer
(:mod:`assistant.rank` → :class:`Ranking`), and compose an :class:`Answer` with verified citations
(:mod:`assistant.answer`), or an honest abstention.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant import answer as compose
from assistant import lexicon
from assistant.answerers import Answerer, answerer_for
from assistant.decide import Decision
from assistant.errors import MAX_QUESTION_CHARS, BadHistory, EmptyQuestion, IndexUnusable, QuestionTooLong
from assistant.language import norwegian_share
from assistant.models import Answer, Evidence, Turn
from assistant.people import People, PeopleResult
from assistant.query import Query, normalise, parse, proper_names, split_parts
from assistant.retrieve import Candidate, Hit, Retriever
from assistant.rank import Calibration, record_sentence, reranked, reranker_text
from assistant.reranker import Reranker, candidate_text
from assistant.tuning import (
    NORWEGIAN_FOR_GUARD,
    QUERY_THREADS,
    RERANK_PASSAGES,
    RERANK_POOL,
    RECORD_LEAD,
    RERANK_RECORDS,
    RERANK_THREADS,
    SECOND_SENTENCE_SHARE,
)
from ingest.chunking import last_heading
from ingest.keyword import analyze
from ingest.participants import Participant
from ingest.settings import Settings

log = logging.getLogger(__name__)

FOLLOWUP_OPENERS = ("og ", "hva med ", "enn ", "hvem andre", "også ", "samme ")


@dataclass(frozen=True)
class Pool:
    """What the first stage gathered for a question: passages, candidate sentences and records
    (pre-ordered by the feature model, ``probability`` = its estimate), and the question's terms."""

    question: str
    hits: list[Hit]
    candidates: list[Candidate]
    terms: list[str]
    unknown: float  # share of the asked-about terms the material never uses
    norwegian: float  # share of the question's words a Norwegian dictionary knows


@dataclass(frozen=True)
class Ranking:
    """The candidate sentences for a question, best first, and the answer decision."""

    question: str
    hits: list[Hit]
    candidates: list[Candidate]
    terms: list[str]
    confidence: str | None = None  # «høy», «middels», or None: abstain
    unknown: float = 0.0  # share of the asked-about terms the material never uses (decide.Decision.confidence)
    probability: float = 0.0  # that the best candidate answers (calibrated)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class Assistant:
    """Answers questions over one index; safe to share between threads."""

    def __init__(self, settings: Settings, answerer: Answerer | None = None, decision: Decision | None = None,
                 *, reranker: Reranker | None | bool = True) -> None:
        """``reranker``: True loads the built one (a missing or damaged model is an error, never a quiet
        fall-back); False ranks by the feature model alone, for fitting that model (scripts/fit.py)."""
        from assistant.language import Expander
        from ingest import store
        from ingest.embedding import load_embedder
        from ingest.index import load_current

        started = time.perf_counter()
        self.settings = settings
        index_dir = Path(settings.index_dir)
        if settings.chroma_host:  # the server holds the whole index; no local folder needed
            from ingest import remote

            manifest, generation = remote.load_current(settings)
        else:
            manifest, generation = load_current(index_dir)
        if manifest.embed_model != settings.embed_model:
            raise IndexUnusable(
                f"the index in {index_dir} was built with the model '{manifest.embed_model}', "
                f"not '{settings.embed_model}'; run 'python -m ingest' again"
            )
        collection = store.open_collection(store.connect(settings, index_dir), manifest.collection)
        self.generation = generation
        self.generation_id = manifest.generation
        self.retriever = Retriever(generation, collection, load_embedder(settings, threads=QUERY_THREADS))
        self.people = People(generation.participants, generation.periods)
        self.expander = Expander(generation.keyword.vocabulary() if generation.keyword else set(), settings.thesaurus)
        self.decision = decision if decision is not None else _load_decision(settings)
        self.answerer = answerer if answerer is not None else answerer_for(settings)
        if reranker is True:
            self.reranker, self.calibration = Reranker(settings.reranker_dir, threads=RERANK_THREADS), Calibration.load()
        else:
            self.reranker, self.calibration = (reranker or None), Calibration.load() if reranker else Calibration.neutral()
        self.retriever.embed_query("oppvarming")  # the first encode is slow; pay it at start-up
        self.load_seconds = time.perf_counter() - started

    # --- public API -----------------------------------------------------------------

    def participants(self) -> list[Participant]:
        return list(self.generation.participants)

    def stream(self, question: str, history: Sequence[Turn | dict] | None = None) -> Iterator[Answer]:
        """Partial answers, then the final one (the offline answerer yields only the final one)."""
        yield from self.answerer.stream(self.evidence(question, history), self.generation.chunks)

    def ask(self, question: str, history: Sequence[Turn | dict] | None = None) -> Answer:
        """The answer to ``question`` given the conversation so far (oldest turn first)."""
        return self.answerer.answer(self.evidence(question, history), self.generation.chunks)

    def evidence(self, question: str, history: Sequence[Turn | dict] | None = None) -> Evidence:
        """The offline answer and the passages behind it, for a language model to phrase."""
        started = time.perf_counter()
        question = validate_question(question)
        turns = _turns(history)
        parts = split_parts(question)
        if len(parts) == 1:
            return self._single(question, turns, started)
        evidences: list[Evidence] = []
        for part in parts:  # a later part may lean on an earlier one («…, og hvor mange var de?»)
            context = turns + [t for e in evidences[-1:] for t in (Turn(role="user", content=e.question),
                                                                    Turn(role="assistant", content=e.offline.answer))]
            evidences.append(self._single(part, context, time.perf_counter()))
        merged = compose.merge([e.offline for e in evidences], self.generation.chunks)
        end = time.perf_counter()
        answer = merged.model_copy(update={
            "question": question,
            "timings_ms": {**merged.timings_ms, "total": round((end - started) * 1000, 2)},
        })
        passages = [p for e in evidences for p in e.passages]
        return Evidence(question, question, turns, list(dict.fromkeys(passages)), answer,
                        people=all(e.people for e in evidences))

    def gather(self, question: str, limit: int | None = RERANK_POOL) -> Pool:
        """The candidates the reranker reads: every sentence of the RERANK_PASSAGES best passages (hybrid
        search), the likeliest RERANK_POOL of them by the fitted feature model, and the RERANK_RECORDS
        participant records nearest the question, each record once."""
        retriever = self.retriever
        vector = retriever.embed_query(question)
        normalised = normalise(question)
        hits = retriever.search(normalised, vector, top=RERANK_PASSAGES)
        terms = content_terms(normalised)
        related = self.expander.related(normalised)
        text = self._with_prior(retriever.candidates(hits, vector, terms, related, normalised))[:limit]
        records = retriever.records(normalised, vector, RERANK_RECORDS)
        people = {c.position: c for c in self._with_prior(retriever.candidates(records, vector, terms, related, normalised))[::-1]}
        names = {s for n in proper_names(question) for s in analyze(n)}
        asked = [t for t in terms if t not in names] or terms
        unknown = retriever.unknown_share(asked, self.expander.holds, related)
        return Pool(question, hits, text + [people[h.position] for h in records if h.position in people], terms,
                    unknown, norwegian_share(question))

    def _with_prior(self, candidates: list[Candidate]) -> list[Candidate]:
        """The candidates best first by the feature model, its estimate as their probability."""
        if not candidates:
            return []
        prior = self.decision.sentence.probability(np.stack([c.features for c in candidates]))
        return [Candidate(candidates[i].position, candidates[i].start, candidates[i].end, candidates[i].features, float(prior[i]))
                for i in np.argsort(-prior, kind="stable")]

    def ranking(self, question: str) -> Ranking:
        """Candidate sentences for a standalone question, best first by the trained reranker, with the
        calibrated probability that the best one answers and the confidence it gives."""
        pool = self.gather(question, RERANK_POOL if self.reranker is not None else None)
        if not pool.candidates:
            return Ranking(question, pool.hits, [], pool.terms)
        if self.reranker is None:  # fitting the feature model (scripts/fit.py): its own order and decision
            return self._feature_ranking(pool)
        rerank = self.reranker.scores(question, [reranker_text(c, self.generation.chunks) for c in pool.candidates])
        ranked = reranked(pool.candidates, self.calibration.combine(rerank, np.array([c.probability for c in pool.candidates])))
        p = self.calibration.probability([score for _, score in ranked])
        guarded = pool.norwegian >= NORWEGIAN_FOR_GUARD and pool.unknown >= self.decision.unknown_guard
        confidence = None if guarded else self.calibration.confidence(p)
        candidates = [c for c, _ in ranked]
        # Passages in the order of their best sentence, then the rest of the search's.
        order = list(dict.fromkeys(c.position for c in candidates if self.generation.chunks[c.position].kind == "text"))
        by_position = {h.position: h for h in pool.hits}
        hits = [by_position[pos] for pos in order if pos in by_position] + [h for h in pool.hits if h.position not in order]
        return Ranking(question, hits, candidates, pool.terms, confidence, pool.unknown, p)

    def _feature_ranking(self, pool: Pool) -> Ranking:
        text = [c for c in pool.candidates if self.generation.chunks[c.position].kind == "text"]
        if not text:
            return Ranking(pool.question, pool.hits, [], pool.terms)
        ranked = sorted(text, key=lambda c: -c.probability)
        row = answer_row(ranked, pool.norwegian)
        p = float(self.decision.answer.probability(row[None, :])[0])
        return Ranking(pool.question, pool.hits, ranked, pool.terms,
                       self.decision.confidence(p, pool.unknown, pool.norwegian), pool.unknown, p)

    # --- internals ------------------------------------------------------------------

    def standalone(self, question: str, turns: list[Turn], query: Query | None = None) -> tuple[str, bool]:
        """The question with the previous one in front when it leans on it (a follow-up)."""
        previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
        followup = previous is not None and _is_followup(query or parse(question))
        return (f"{previous} {question}" if followup else question), followup

    def records_answer(self, question: str, turns: list[Turn]):
        """The participant records' answer (a PeopleResult), or None when the question goes
        to the material: it is not about people in roles, or it names things the records do
        not hold but the text does («Hvem arrangerte seminaret?»)."""
        query = parse(question)
        return self._records(query, turns, *self.standalone(question, turns, query))

    def _records(self, query: Query, turns: list[Turn], standalone: str, followup: bool):
        context = self._context_names(turns)
        result = self.people.answer(query, context)
        if result is None and followup:
            result = self.people.answer(parse(standalone), context)
        if result is None:
            return result
        leftover = self.people.unexplained(query, _generic_stems())
        if any(map(self.retriever.text_holds, leftover)):
            return None  # the text speaks of it («Hvem skrev referatet?»): retrieval answers
        if result.abstained:
            return result
        if leftover and self.people.names_asked(query):
            # Something about a named person that neither the records nor the text hold
            # (an e-mail address, a salary): describing their role would not answer it.
            return PeopleResult(None, (), abstained=True)
        return result

    def _single(self, question: str, turns: list[Turn], started: float) -> Evidence:
        query = parse(question)
        standalone, followup = self.standalone(question, turns, query)

        t0 = time.perf_counter()
        result = self._records(query, turns, standalone, followup)
        cites = compose.Citations(self.generation.chunks)
        if result is not None:
            if result.abstained or not result.lines:
                text = compose.NO_MATCH_PEOPLE if result.no_match else compose.ABSTAIN_TEXT
                answer = self._finish(question, text, None, cites, started, t0, t0)
                return Evidence(question, standalone, turns, [], answer)
            if query.yes_no:
                result = self.people.yes_no(query, result)
            elif not query.count:
                result = self._standing_out(standalone, result)
            text = compose.render_people(result, self.generation.chunks, cites)
            if not compose.fits(text):
                cites = compose.Citations(self.generation.chunks)
                text = compose.render_people(_shorten(result), self.generation.chunks, cites)
            if result.bullet:
                text = self._with_text_evidence(standalone, text, cites)
            answer = self._finish(question, text, "høy", cites, started, t0, time.perf_counter())
            return Evidence(question, standalone, turns, cites.positions(), answer, people=True)

        ranking = self.ranking(standalone)
        t1 = time.perf_counter()
        passages = [h.position for h in ranking.hits]
        if query.yes_no:
            text, confidence = self._yes_no(query, ranking, cites)
        elif query.count and (counted := self._count(ranking, cites)):
            text, confidence = counted
        else:
            text, confidence = self._general(ranking, cites)
        answer = self._finish(question, text, confidence, cites, started, t0, t1)
        cited = cites.positions()
        return Evidence(question, standalone, turns, cited + [p for p in passages if p not in cited], answer)

    def _standing_out(self, question: str, result: PeopleResult) -> PeopleResult:
        """A list of people of whom one answers far better than the rest, as the reranker reads the
        records («Hvem representerte fylket i styringsgruppa?» over the nine members): that one alone.
        A list whose members answer alike («Hvem satt i styringsgruppa?») stays whole."""
        lines = result.lines
        if self.reranker is None or not result.bullet or len(lines) < 2 or any(len(line.records) != 1 for line in lines):
            return result
        texts = [candidate_text(r.section, record_sentence({k: v for k, v in r.model_dump().items() if isinstance(v, str) and v}))
                 for line in lines for r in line.records]
        scores = self.reranker.scores(question, texts)
        order = np.argsort(-scores, kind="stable")
        if scores[order[0]] - scores[order[1]] < RECORD_LEAD:
            return result
        return PeopleResult(result.intro, (lines[int(order[0])],), bullet=True)

    def _general(self, ranking: Ranking, cites: compose.Citations) -> tuple[str, str | None]:
        best, confidence = ranking.best, ranking.confidence
        if best is None or confidence is None:
            return compose.ABSTAIN_TEXT, None
        frame = compose.hedge if confidence == "middels" else (lambda t: t)
        # A record beside a text sentence (or the reverse) reads as two unrelated claims: quote one kind.
        kind = self.generation.chunks[best.position].kind
        chosen = chosen_sentences([c for c in ranking.candidates if self.generation.chunks[c.position].kind == kind], confidence)
        text = frame(self._quote(chosen, cites))
        if not compose.fits(text) and len(chosen) > 1:
            cites.reset()  # too long together: the best sentence alone
            text = frame(self._quote([best], cites))
        if not compose.fits(text):
            text = compose.shorten(text)
        return text, confidence

    def _with_text_evidence(self, question: str, text: str, cites: compose.Citations) -> str:
        """A list of people from the records, with the sentence of the text that speaks of
        them as a group («Rapporten er skrevet av prosjektleder og tre ansatte …») when the
        text would answer the question too (one of its two best sentences, outside the
        records' own passage) and the two fit together."""
        ranking = self.ranking(question)
        if ranking.confidence is None:
            return text
        cited = set(cites.positions())
        text_candidates = [c for c in ranking.candidates if self.generation.chunks[c.position].kind == "text"]
        for candidate in text_candidates[:2]:
            raw = candidate.text(self.generation.chunks).strip()
            if candidate.position in cited or not raw.endswith((".", "!", "?")):
                continue  # the records' own passage, or a bare list line
            combined = f"{text}\n\n{compose.with_marker(raw, f'[{len(cited) + 1}]')}"
            if compose.fits(combined):
                cites.cite(candidate.position, raw)
                return combined
            break
        return text

    def _count(self, ranking: Ranking, cites: compose.Citations) -> tuple[str, str | None] | None:
        """«Hvor mange …?» answered by counting the items of an enumeration in the text
        («A, B, C og D») when the chosen sentence is one and states no number itself."""
        best, confidence = ranking.best, ranking.confidence
        if best is None or confidence is None or best.feature("typed"):
            return None
        raw = best.text(self.generation.chunks)
        items = compose.enumeration(raw)
        if len(items) < 3:
            return None
        n = cites.cite(best.position, raw)
        section = self.generation.chunks[best.position].section
        text = compose.counted(items, section, n)
        return (text if confidence == "høy" else compose.hedge(text)), confidence

    def _yes_no(self, query: Query, ranking: Ranking, cites: compose.Citations) -> tuple[str, str | None]:
        """«Ja, …» when the best evidence holds what the question names; «Nei, …» when the
        material answers the rest of the question (e.g. lists the places visited) but never
        mentions that; otherwise an abstention."""
        best = ranking.best
        if best is None:
            return compose.ABSTAIN_TEXT, None
        focus = [t for t in ranking.terms if t in set(analyze(" ".join(query.names)))] or ranking.terms
        passage_words = self.retriever.passage_terms(best.position)
        missing = [t for t in focus if not self.retriever.holds(t, passage_words, typos=not query.names)]
        confidence = ranking.confidence
        if not missing and confidence is not None:
            raw = best.text(self.generation.chunks)
            if compose.negated(raw) and not compose.negated(query.text):
                # «Det ble ikke opprettet noen egen styringsgruppe»: the evidence says no.
                n = cites.cite(best.position, raw)
                return compose.no_by_evidence(raw, n), "middels"
            if query.names:  # the name is there, word for word: quote the list item that has it
                n = cites.cite(best.position, raw)
                section = self.generation.chunks[best.position].section
                return compose.yes_named(raw, query.names, section, n, confidence), confidence
            return compose.yes(self._quote([best], cites), confidence), confidence
        absent = [t for t in missing if t not in self.expander.vocabulary]  # a name the material never uses
        others = [t for t in ranking.terms if t not in focus]
        # The passage answers the rest of the question (the list of places visited on that
        # trip) but does not name what was asked about.
        around = confidence is not None and self.retriever.coverage(others, passage_words) >= 0.5
        if missing and query.names and (around or (absent and best.feature("passage_cover") > 0)):
            names = [n for n in query.names if any(s in missing for s in analyze(n))] or query.names
            n = cites.cite(best.position, best.text(self.generation.chunks))
            return compose.no(names, self.generation.chunks[best.position].section, n), "middels"
        return compose.ABSTAIN_TEXT, None

    def _quote(self, chosen: list[Candidate], cites: compose.Citations) -> str:
        parts = []
        for sentence in chosen:
            raw = sentence.text(self.generation.chunks)
            n = cites.cite(sentence.position, raw)
            section = self.generation.chunks[sentence.position].section
            parts.append(compose.with_marker(_standalone(raw, section), f"[{n}]"))
        return " ".join(parts)

    def _context_names(self, turns: list[Turn]) -> list[str]:
        """People named in the latest turn that names anyone (the assistant's answer first)."""
        for turn in reversed(turns):
            names = self.people.names_in(turn.content)
            if names:
                return names
        return []

    def _finish(self, question, text, confidence, cites, started, t0, t1) -> Answer:
        end = time.perf_counter()
        abstained = confidence is None
        return Answer(
            question=question,
            answer=text,
            abstained=abstained,
            confidence=confidence,
            citations=[] if abstained else cites.build(),
            timings_ms={
                "retrieve": round((t1 - t0) * 1000, 2),
                "answer": round((end - t1) * 1000, 2),
                "total": round((end - started) * 1000, 2),
            },
        )


def chosen_sentences(ranked: list[Candidate], confidence: str | None) -> list[Candidate]:
    """The sentences an answer quotes, in reading order: the best one, and the next ones
    when the sentence model rates them nearly as high (an answer spread over two sentences
    or list lines). When the answer is uncertain («middels»), the two best always, so the
    reader sees both candidates (on dev, the top two hold the answer far more often than
    the top one)."""
    best = ranked[0]
    chosen = [best] + [c for c in ranked[1:3] if c.probability >= SECOND_SENTENCE_SHARE * best.probability]
    if confidence == "middels" and len(chosen) == 1 and len(ranked) > 1:
        chosen.append(ranked[1])
    return sorted(chosen, key=lambda s: (s.position, s.start))


def answer_row(ranked: list[Candidate], norwegian: float) -> np.ndarray:
    """The answer model's features (decide.ANSWER_FEATURES) for sentences ranked best first."""
    best = ranked[0]
    second = ranked[1].probability if len(ranked) > 1 else 0.0
    typed = max(c.feature("typed") for c in chosen_sentences(ranked, "høy"))
    return np.array([
        best.probability, best.probability - second, max(c.feature("dense_z") for c in ranked),
        best.feature("cover_related"), best.feature("asks_type") * (1 - typed), norwegian,
    ], dtype=float)


def _load_decision(settings: Settings) -> Decision:
    from assistant.decide import MODEL_FILE

    try:
        decision = Decision.load(MODEL_FILE)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexUnusable(f"the fitted answer model {MODEL_FILE} cannot be read ({exc}); run 'make fit'") from None
    if decision.embed_model != Path(settings.embed_model).name:
        log.warning("the answer model was fitted for %s, not %s; run 'make fit' for best answers",
                    decision.embed_model, Path(settings.embed_model).name)
    return decision


@lru_cache(maxsize=1)
def _generic_stems() -> frozenset[str]:
    return frozenset(s for w in lexicon.GENERIC_WORDS for s in analyze(w))


def content_terms(text: str) -> list[str]:
    """The question's terms that name its subject, without question-shaped words."""
    generic = _generic_stems()
    return [t for t in analyze(text) if t not in generic]


def _standalone(sentence: str, section: str) -> str:
    """A list fragment ('A, B, C') reads as an answer only with its heading in front."""
    sentence = sentence.strip()
    if sentence.endswith((".", "!", "?")):
        return sentence
    heading = last_heading(section)
    return f"{heading}: {sentence}."


def _shorten(result):
    """The same people with names only, for lists too long to answer concisely."""
    from assistant.people import Line, PeopleResult

    lines = tuple(Line(line.text.split(" (")[0], line.records) for line in result.lines)
    return PeopleResult(result.intro, lines, result.abstained, result.bullet)


def _is_followup(q: Query) -> bool:
    return q.followup_one or q.followup_many or q.text.startswith(FOLLOWUP_OPENERS) or len(q.stems) <= 1


def validate_question(question: object) -> str:
    """The question stripped, or EmptyQuestion / QuestionTooLong."""
    if not isinstance(question, str) or not question.strip():
        raise EmptyQuestion()
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(len(question))
    return question


def _turns(history: Sequence[Turn | dict] | None) -> list[Turn]:
    if not history:
        return []
    try:
        return [t if isinstance(t, Turn) else Turn.model_validate(t) for t in history]
    except Exception:
        raise BadHistory("history must be a list of {\"role\": \"user\"|\"assistant\", \"content\": \"...\"} objects") from None
