"""Stage 6, compose: the Norwegian answer, every claim followed by its citation [n]. From the records
(a people list, narrowed, with the text's own words about the group when it has them) or from the
ranked sentences: a yes/no, a count of an enumeration, or the best sentences quoted («middels»
answers say plainly that the material does not state it directly); a sure answer leads with the
words that answer, in bold, as the reader marks them in the best sentence. The wording itself lives
in :mod:`assistant.answer`."""
from __future__ import annotations

import time

from assistant import answer as words
from assistant.models import Answer, Evidence
from assistant.people import Line, PeopleResult
from assistant.pipeline.case import Case, Ranking, Tools
from assistant.pipeline.decide import chosen_sentences
from assistant.rank import reranker_text
from assistant.retrieve import Candidate
from ingest import analyze, last_heading


def from_records(tools: Tools, case: Case) -> Evidence:
    """The records' answer (``case.records``); ``case.ranking``, when set, is the text's ranking for
    the same question, whose sentence about the group may follow the list."""
    result, cites = case.records, words.Citations(tools.chunks)
    if result.abstained or not result.lines:
        text = words.NO_MATCH_PEOPLE if result.no_match else words.ABSTAIN_TEXT
        answer = finish(case, text, None, cites, case.looked_up)
        return Evidence(case.question, case.standalone, case.turns, [], answer)
    text = words.render_people(result, tools.chunks, cites)
    if not words.fits(text):
        cites = words.Citations(tools.chunks)
        text = words.render_people(_names_only(result), tools.chunks, cites)
    if result.bullet and case.ranking is not None:
        text = _with_text_evidence(tools, case.ranking, text, cites)
    answer = finish(case, text, "høy", cites, time.perf_counter())
    return Evidence(case.question, case.standalone, case.turns, cites.positions(), answer, people=True)


def from_text(tools: Tools, case: Case) -> Evidence:
    """The answer from ``case.ranking``, citing what it quotes; the passages read follow the cited ones."""
    ranking, cites = case.ranking, words.Citations(tools.chunks)
    retrieved = time.perf_counter()
    if case.query.yes_no:
        text, confidence = _yes_no(tools, case, cites)
    elif case.query.count and (counted := _count(tools, ranking, cites)):
        text, confidence = counted
    else:
        text, confidence = _general(tools, ranking, cites)
    answer = finish(case, text, confidence, cites, retrieved)
    cited = cites.positions()
    passages = [h.position for h in ranking.hits]
    return Evidence(case.question, case.standalone, case.turns, cited + [p for p in passages if p not in cited], answer)


def finish(case: Case, text: str, confidence: str | None, cites: words.Citations, retrieved: float) -> Answer:
    """The Answer with its citations (none when it abstains) and timings: retrieval from ``looked_up``
    to ``retrieved``, then composing."""
    end = time.perf_counter()
    abstained = confidence is None
    return Answer(
        question=case.question,
        answer=text,
        abstained=abstained,
        confidence=confidence,
        citations=[] if abstained else cites.build(),
        timings_ms={
            "retrieve": round((retrieved - case.looked_up) * 1000, 2),
            "answer": round((end - retrieved) * 1000, 2),
            "total": round((end - case.started) * 1000, 2),
        },
    )


def _general(tools: Tools, ranking: Ranking, cites: words.Citations) -> tuple[str, str | None]:
    best, confidence = ranking.best, ranking.confidence
    if best is None or confidence is None:
        return words.ABSTAIN_TEXT, None
    frame = words.hedge if confidence == "middels" else (lambda t: t)
    # A record beside a text sentence (or the reverse) reads as two unrelated claims: quote one kind.
    kind = tools.chunks[best.position].kind
    chosen = chosen_sentences([c for c in ranking.candidates if tools.chunks[c.position].kind == kind], confidence)
    text = frame(_quote(tools, chosen, cites))
    if not words.fits(text) and len(chosen) > 1:
        cites.reset()  # too long together: the best sentence alone
        text = frame(_quote(tools, [best], cites))
    if not words.fits(text):
        text = words.shorten(text)
    if confidence == "høy" and (span := _answer_span(tools, ranking)):
        marked = f"{words.bold(span)} [{cites.cite(best.position, best.text(tools.chunks))}]\n\n{text}"
        text = marked if words.fits(marked) else text
    return text, confidence


def _answer_span(tools: Tools, ranking: Ranking) -> str | None:
    """The words of the best sentence that answer the question, as the reader marked them in the
    rerank pass; None when it was unsure, or when they are the whole sentence (nothing to point at)."""
    best, span = ranking.best, ranking.best_span
    if span is None or best is None or tools.chunks[best.position].kind != "text":
        return None
    found = reranker_text(best, tools.chunks)[span.start:span.end].strip(" ,;:")
    sentence = best.text(tools.chunks).strip()
    if not found or found not in sentence or len(found) >= 0.8 * len(sentence):
        return None
    return found


def _with_text_evidence(tools: Tools, ranking: Ranking, text: str, cites: words.Citations) -> str:
    """A list of people from the records, with the sentence of the text that speaks of
    them as a group («Rapporten er skrevet av prosjektleder og tre ansatte …») when the
    text would answer the question too (one of its two best sentences, outside the
    records' own passage) and the two fit together."""
    if ranking.confidence is None:
        return text
    cited = set(cites.positions())
    text_candidates = [c for c in ranking.candidates if tools.chunks[c.position].kind == "text"]
    for candidate in text_candidates[:2]:
        raw = candidate.text(tools.chunks).strip()
        if candidate.position in cited or not raw.endswith((".", "!", "?")):
            continue  # the records' own passage, or a bare list line
        combined = f"{text}\n\n{words.with_marker(raw, f'[{len(cited) + 1}]')}"
        if words.fits(combined):
            cites.cite(candidate.position, raw)
            return combined
        break
    return text


def _count(tools: Tools, ranking: Ranking, cites: words.Citations) -> tuple[str, str | None] | None:
    """«Hvor mange …?» answered by counting the items of an enumeration in the text
    («A, B, C og D») when the chosen sentence is one and states no number itself."""
    best, confidence = ranking.best, ranking.confidence
    if best is None or confidence is None or best.feature("typed"):
        return None
    raw = best.text(tools.chunks)
    items = words.enumeration(raw)
    if len(items) < 3:
        return None
    n = cites.cite(best.position, raw)
    text = words.counted(items, tools.chunks[best.position].section, n)
    return (text if confidence == "høy" else words.hedge(text)), confidence


def _yes_no(tools: Tools, case: Case, cites: words.Citations) -> tuple[str, str | None]:
    """«Ja, …» when the best evidence holds what the question names; «Nei, …» when the
    material answers the rest of the question (e.g. lists the places visited) but never
    mentions that; otherwise an abstention."""
    query, ranking, retriever = case.query, case.ranking, tools.retriever
    best = ranking.best
    if best is None:
        return words.ABSTAIN_TEXT, None
    focus = [t for t in ranking.terms if t in set(analyze(" ".join(query.names)))] or ranking.terms
    passage_words = retriever.passage_terms(best.position)
    missing = [t for t in focus if not retriever.holds(t, passage_words, typos=not query.names)]
    confidence = ranking.confidence
    section = tools.chunks[best.position].section
    if not missing and confidence is not None:
        raw = best.text(tools.chunks)
        if words.negated(raw) and not words.negated(query.text):
            # «Det ble ikke opprettet noen egen styringsgruppe»: the evidence says no.
            n = cites.cite(best.position, raw)
            return words.no_by_evidence(raw, n), "middels"
        if query.names:  # the name is there, word for word: quote the list item that has it
            n = cites.cite(best.position, raw)
            return words.yes_named(raw, query.names, section, n, confidence), confidence
        return words.yes(_quote(tools, [best], cites), confidence), confidence
    absent = [t for t in missing if t not in tools.expander.vocabulary]  # a name the material never uses
    others = [t for t in ranking.terms if t not in focus]
    # The passage answers the rest of the question (the list of places visited on that
    # trip) but does not name what was asked about.
    around = confidence is not None and retriever.coverage(others, passage_words) >= 0.5
    if missing and query.names and (around or (absent and best.feature("passage_cover") > 0)):
        names = [n for n in query.names if any(s in missing for s in analyze(n))] or query.names
        n = cites.cite(best.position, best.text(tools.chunks))
        return words.no(names, section, n), "middels"
    return words.ABSTAIN_TEXT, None


def _quote(tools: Tools, chosen: list[Candidate], cites: words.Citations) -> str:
    parts = []
    for sentence in chosen:
        raw = sentence.text(tools.chunks)
        n = cites.cite(sentence.position, raw)
        parts.append(words.with_marker(_standalone(raw, tools.chunks[sentence.position].section), f"[{n}]"))
    return " ".join(parts)


def _standalone(sentence: str, section: str) -> str:
    """A list fragment ('A, B, C') reads as an answer only with its heading in front."""
    sentence = sentence.strip()
    if sentence.endswith((".", "!", "?")):
        return sentence
    return f"{last_heading(section)}: {sentence}."


def _names_only(result: PeopleResult) -> PeopleResult:
    """The same people with names only, for lists too long to answer concisely."""
    lines = tuple(Line(line.text.split(" (")[0], line.records) for line in result.lines)
    return PeopleResult(result.intro, lines, result.abstained, result.bullet)
