"""Compose the offline answer: concise bokmål built from the records or from the
sentences that answer, each claim followed by [n], with citations numbered 1..k in
order of first use. Also the Norwegian wording of abstentions.
"""
from __future__ import annotations

import re

from assistant import lexicon
from assistant.models import Answer, Citation
from assistant.people import PeopleResult
from assistant.tuning import ANSWER_CHARS, MAX_CITED_CHARS, SHORTENED_CHARS
from ingest import Chunk, Participant, fold, last_heading

ABSTAIN_TEXT = "Jeg finner ikke svar på dette i prosjektmaterialet."
NO_MATCH_PEOPLE = (
    "Jeg finner ingen i deltakeroversikten som passer til spørsmålet, så materialet har ikke svaret. "
    "Sjekk gjerne tidsrom, rolle eller kommune."
)


class Citations:
    """Numbers passages in order of first use and remembers the quoted sentences."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._chunks = chunks
        self.reset()

    def reset(self) -> None:
        self._order: list[int] = []
        self._quotes: dict[int, list[str]] = {}

    def cite(self, position: int, quote: str) -> int:
        if position not in self._quotes:
            self._order.append(position)
            self._quotes[position] = []
        if quote and quote not in self._quotes[position]:
            self._quotes[position].append(quote)
        return self._order.index(position) + 1

    def positions(self) -> list[int]:
        return list(self._order)

    def build(self) -> list[Citation]:
        out = []
        for n, pos in enumerate(self._order, 1):
            chunk = self._chunks[pos]
            quotes = self._quotes[pos]
            out.append(
                Citation(
                    n=n,
                    document=chunk.document,
                    section=chunk.section,
                    text=f"{last_heading(chunk.section)}\n\n{passage(chunk.text, quotes)}",
                    chunk_id=chunk.id,
                    quote="\n".join(quotes),
                )
            )
        return out


def passage(text: str, quotes: list[str]) -> str:
    """The chunk, or for an unusually long one the stretch around the quoted sentences."""
    if len(text) <= MAX_CITED_CHARS or not quotes:
        return text[:MAX_CITED_CHARS] if len(text) > MAX_CITED_CHARS else text
    first = min((text.find(q) for q in quotes if q in text), default=0)
    start = max(0, text.rfind("\n", 0, max(first - 200, 0)) + 1) if first > 200 else 0
    return text[start:start + MAX_CITED_CHARS]


def with_marker(sentence: str, markers: str) -> str:
    """Put the markers before the sentence's final punctuation: 'X var Y [1].'"""
    sentence = sentence.rstrip()
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} {markers}{sentence[-1]}"
    return f"{sentence} {markers}"


def person_evidence(record: Participant, chunks: list[Chunk]) -> tuple[int, str] | None:
    """The passage (and line) of the report that names this person in this role."""
    name = fold(record.name)
    best = None
    for pos, chunk in enumerate(chunks):
        if chunk.kind != "text" or name not in fold(chunk.text):
            continue
        rank = (chunk.section == record.section) * 2 + (chunk.document == record.document)
        if best is None or rank > best[0]:
            best = (rank, pos)
    if best is None:
        for pos, chunk in enumerate(chunks):
            if chunk.kind == "participant" and chunk.meta.get("id") == record.id and chunk.document:
                return pos, chunk.text
        return None
    text = chunks[best[1]].text
    line = next((ln for ln in text.splitlines() if name in fold(ln)), "")
    return best[1], _quote_around(line, record.name)


def _quote_around(line: str, name: str) -> str:
    """A line naming several people ('A, B & C') is quoted whole; a list item as it stands."""
    return re.sub(r"^[-*•]\s*", "", line.strip())


def render_people(result: PeopleResult, chunks: list[Chunk], cites: Citations) -> str:
    lines = []
    for line in result.lines:
        numbers = []
        for record in line.records:
            evidence = person_evidence(record, chunks)
            if evidence:
                n = cites.cite(*evidence)
                if n not in numbers:
                    numbers.append(n)
        markers = "".join(f"[{n}]" for n in numbers)
        text = f"- {line.text} {markers}".rstrip() if result.bullet else with_marker(line.text, markers)
        lines.append(text)
    if result.bullet:
        return "\n".join([result.intro or "", *lines]).strip()
    return " ".join(lines)


def fits(text: str, limit: int = ANSWER_CHARS) -> bool:
    return len(re.sub(r"\[\d+\]", "", text)) <= limit


def shorten(text: str, limit: int = SHORTENED_CHARS) -> str:
    """An over-long single sentence cut at a comma or space before the limit, markers kept."""
    markers = "".join(re.findall(r"\[\d+\]", text))
    plain = re.sub(r"\s*\[\d+\]", "", text)
    if len(plain) <= limit:
        return text
    cut = plain[:limit]
    cut = cut[: max(cut.rfind(", "), cut.rfind(" "))].rstrip(",;: ")
    return f"{cut} … {markers}".rstrip()


HEDGE = "Materialet sier ikke dette direkte, men det nærmeste er: "


# The words an answer points at, as :func:`bold` writes them (group 1: the words).
BOLD = re.compile(r"\*\*(\S(?:[^*]*\S)?)\*\*")


def bold(words: str) -> str:
    """Words the answer points at, in Markdown bold (the page shows them bold)."""
    return f"**{words.strip().strip('*')}**"


def hedge(text: str) -> str:
    """An answer given with «middels» confidence says so."""
    return HEDGE + text


def yes(evidence: str, confidence: str) -> str:
    """«Ja» with the evidence; an uncertain one says so."""
    return f"Ja. {evidence}" if confidence == "høy" else f"Trolig ja, men materialet sier det ikke direkte: {evidence}"


def yes_named(sentence: str, names: list[str] | tuple[str, ...], section: str, n: int, confidence: str) -> str:
    """«Ja»: the items of a list sentence that name what was asked about (an uncertain
    answer says so)."""
    wanted = [fold(name) for name in names]
    items = [i.strip(" .") for i in re.split(r",\s*|\s+og\s+|:\s*", sentence) if i.strip(" .")]
    found = [i for i in items if any(w in fold(i) for w in wanted)]
    if not found:
        return yes(with_marker(sentence.strip(), f"[{n}]"), confidence)
    heading = last_heading(section)
    lead = "Ja" if confidence == "høy" else "Trolig ja"
    return f"{lead}, materialet nevner {', '.join(f'«{i}»' for i in found)} under «{heading}» [{n}]."


def enumeration(sentence: str) -> list[str]:
    """The items of a listing sentence: «[Heading:] A, B, C og D» → [A, B, C, D]; a sentence
    that is not a listing (no commas) gives one item."""
    body = sentence.strip().rstrip(".")
    body = body.split(": ", 1)[1] if ": " in body[:60] else body
    items = [i.strip() for i in body.split(",") if i.strip()]
    if len(items) > 1:
        *head, last = items
        items = head + [p.strip() for p in re.split(r"\s+(?:og|&)\s+", last) if p.strip()]
    return items


def counted(items: list[str], section: str, n: int) -> str:
    """«Materialet nevner 7 under «I egne kommuner»: A, B, … [1].»"""
    heading = last_heading(section)
    return f"Materialet nevner {len(items)} under «{heading}»: {', '.join(items)} [{n}]."


def negated(text: str) -> bool:
    """The sentence denies something («ikke», «ingen», «aldri» …)."""
    return any(w in lexicon.DENIALS for w in re.findall(r"\w+", text.lower()))


def no_by_evidence(sentence: str, n: int) -> str:
    return f"Trolig nei: {with_marker(sentence.strip(), f'[{n}]')}"


def no(names: list[str], section: str, n: int) -> str:
    """«Nei»: the material answers around the question but never names what it asks about."""
    what = " eller ".join(names)
    heading = last_heading(section)
    return (f"Nei, så langt materialet viser: det nevner ikke {what}. "
            f"Det som er nevnt, står under «{heading}» [{n}].")


def merge(answers: list[Answer], chunks: list[Chunk]) -> Answer:
    """The answers to a question's parts as one answer: texts joined in order, citations
    renumbered 1..k across the parts (a passage cited twice keeps one number)."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    texts: list[str] = []
    for part in answers:
        mapping = {}
        for c in part.citations:
            if c.chunk_id not in numbers:
                numbers[c.chunk_id] = len(numbers) + 1
                citations.append(c.model_copy(update={"n": numbers[c.chunk_id]}))
            else:
                kept = citations[numbers[c.chunk_id] - 1]
                quotes = "\n".join(dict.fromkeys(filter(None, [*kept.quote.split("\n"), *c.quote.split("\n")])))
                citations[numbers[c.chunk_id] - 1] = kept.model_copy(update={"quote": quotes})
            mapping[c.n] = numbers[c.chunk_id]
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{mapping.get(int(m.group(1)), m.group(1))}]", part.answer)
        if part.abstained:
            text = f"Jeg finner ikke svar på «{part.question.rstrip('?')}» i materialet."
        if text not in texts:
            texts.append(text)
    answered = [a for a in answers if not a.abstained]
    levels = [a.confidence for a in answered]
    confidence = None if not answered else ("høy" if all(c == "høy" for c in levels) and len(answered) == len(answers) else "middels")
    timings = {k: round(sum(a.timings_ms.get(k, 0.0) for a in answers), 2) for k in ("retrieve", "answer", "total")}
    return Answer(
        question=" ".join(a.question for a in answers), answer="\n\n".join(texts), abstained=not answered,
        confidence=confidence, citations=citations, timings_ms=timings,
    )
