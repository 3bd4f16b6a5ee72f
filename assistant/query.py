"""Understand a question before answering it: normalise nynorsk, English and missing
æøå toward the bokmål of the material, find time expressions (a month, a season, a
year), and tell who/count/when questions and follow-ups apart.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant import lexicon
from ingest import analyze, fold

_YEAR = r"((?:19|20)\d{2})"


@dataclass(frozen=True)
class TimeSpan:
    """An inclusive span of months (month indexes, see ingest.participants.month_index)."""

    first: int
    last: int
    label: str

    def overlaps(self, start: int, end: int) -> bool:
        return start <= self.last and end >= self.first

    def contains(self, month: int) -> bool:
        return self.first <= month <= self.last


@dataclass(frozen=True)
class Query:
    original: str
    text: str  # lower-case, synonyms replaced
    words: tuple[str, ...]  # folded words of ``text``
    stems: tuple[str, ...]  # analysed (stemmed, folded, stopwords removed)
    time: TimeSpan | None = None
    time_mode: str = "active"  # "active", "start" or "end"
    who: bool = False
    count: bool = False
    when: bool = False
    followup_one: bool = False
    followup_many: bool = False
    yes_no: bool = False  # a polar question: «Besøkte de Tromsø?»
    names: tuple[str, ...] = ()  # capitalised words after the first (proper names, as typed)
    extras: tuple[str, ...] = field(default_factory=tuple)

    def has(self, phrase: str) -> bool:
        return has_phrase(self.text, phrase)


def has_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


@lru_cache(maxsize=2)
def _table_pattern(language: str) -> tuple[re.Pattern, dict[str, str]]:
    table = {k.lower(): v for k, v in (lexicon.ENGLISH if language == "en" else lexicon.NYNORSK).items()}
    alternatives = sorted(table, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, alternatives)) + r")(?!\w)"), table


def normalise(question: str) -> str:
    """Lower-case bokmål-ish text: nynorsk words replaced, and English ones when the
    question is in English; whitespace folded."""
    from assistant.language import is_english

    text = re.sub(r"\s+", " ", question.strip().lower())
    for language in ("nn", "en") if is_english(text) else ("nn",):
        pattern, table = _table_pattern(language)
        text = pattern.sub(lambda m: table[m.group(1)], text)
    return re.sub(r"\s+", " ", text).strip()


def parse(question: str) -> Query:
    text = normalise(question)
    words = tuple(re.findall(r"\w+", fold(text)))
    time, mode = parse_time(text)
    return Query(
        original=question,
        text=text,
        words=words,
        stems=tuple(analyze(text)),
        time=time,
        time_mode=mode,
        who=any(has_phrase(text, w) for w in lexicon.WHO_WORDS),
        count=any(has_phrase(text, w) for w in lexicon.COUNT_WORDS),
        when=has_phrase(text, "når") or has_phrase(text, "periode") or has_phrase(text, "hvor lenge"),
        followup_one=any(has_phrase(text, p) for p in lexicon.PRONOUNS_ONE),
        followup_many=any(has_phrase(text, p) for p in lexicon.PRONOUNS_MANY),
        yes_no=is_yes_no(text),
        names=proper_names(question),
    )


def is_yes_no(text: str) -> bool:
    """A polar question: no question word anywhere (bokmål word order puts the finite verb
    first: «Var Tromsø med …?», «Besøkte de …?») and it is asked as a question."""
    words = re.findall(r"\w+", text)
    asking = (*lexicon.QUESTION_WORDS, *lexicon.QUESTION_WORDS_OTHER)
    return text.rstrip().endswith("?") and len(words) >= 2 and not any(w in asking for w in words)


def proper_names(question: str) -> tuple[str, ...]:
    """Runs of capitalised words after the first word («Nord-Fron», «Tromsø»)."""
    words = re.findall(r"[\w-]+", question)
    names, run = [], []
    for i, word in enumerate(words):
        if i > 0 and word[:1].isupper():
            run.append(word)
        elif run:
            names.append(" ".join(run))
            run = []
    if run:
        names.append(" ".join(run))
    return tuple(names)


@lru_cache(maxsize=1)
def _part_split() -> re.Pattern:
    words = "|".join(sorted(map(re.escape, lexicon.QUESTION_WORDS), key=len, reverse=True))
    return re.compile(rf"(?:,?\s+og\s+|\?\s+)(?=(?:{words})\b)", re.I)


def split_parts(question: str) -> list[str]:
    """A question with two questions in it («Hvem var X, og hvor stor var Y?», «Når …? Hvem …?»)
    as its parts; one part otherwise. A part starts at a question word after «og» or a «?»."""
    parts = [p.strip(" ,") for p in _part_split().split(question) if p.strip(" ,?")]
    if len(parts) < 2 or any(len(re.findall(r"\w+", p)) < 2 for p in parts):
        return [question]
    return [p if p.endswith("?") else p + "?" for p in parts]


def parse_time(text: str) -> tuple[TimeSpan | None, str]:
    """The first month, season or year named in the question, and whether it asks about a
    start or an end. Matching is on folded text, so «hosten 2021» works like «høsten 2021»."""
    text = fold(text)
    mode = "active"
    if any(has_phrase(text, fold(w)) for w in lexicon.START_WORDS):
        mode = "start"
    elif any(has_phrase(text, fold(w)) for w in lexicon.END_WORDS):
        mode = "end"
    months = {fold(k): v for k, v in lexicon.MONTHS.items()}
    # «vår» folds to «var», the commonest verb; only its definite form is safe without æøå.
    seasons = {fold(k): (k, v) for k, v in lexicon.SEASONS.items() if fold(k) != "var"}
    month_alt = "|".join(sorted(map(re.escape, months), key=len, reverse=True))
    season_alt = "|".join(sorted(map(re.escape, seasons), key=len, reverse=True))
    if m := re.search(rf"(?<!\w)({month_alt})\.? {_YEAR}", text):
        year, month = int(m.group(2)), months[m.group(1)]
        first = year * 12 + month - 1
        return TimeSpan(first, first, f"{lexicon.MONTH_NAMES[month - 1]} {year}"), mode
    if m := re.search(rf"(?<!\w)({season_alt}) {_YEAR}", text):
        name, (a, b) = seasons[m.group(1)]
        year = int(m.group(2))
        return TimeSpan(year * 12 + a - 1, year * 12 + b - 1, f"{name} {year}"), mode
    if m := re.search(rf"(?<!\w){_YEAR}(?!\w)", text):
        year = int(m.group(1))
        return TimeSpan(year * 12, year * 12 + 11, m.group(1)), mode
    return None, mode


def stem_quality(a: str, b: str) -> int:
    """2 for the same stem, 1 for a near-miss typo of a long stem, 0 otherwise."""
    if a == b:
        return 2
    if min(len(a), len(b)) >= 6 and abs(len(a) - len(b)) <= 1:  # one typo: a swap, a missing or an extra letter
        from rapidfuzz import fuzz

        return int(fuzz.ratio(a, b) >= 88)
    return 0


def stem_match(a: str, b: str) -> bool:
    return stem_quality(a, b) > 0
