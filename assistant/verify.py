"""Check a language model's reply against the passages it was given, before anyone sees it.

The reply is split into claims (sentences and list items). A claim is kept when its
``[n]`` markers name passages that were given and the passage(s) it cites support it:
enough of its content words are there, and every number, date and name in it is there.
Also: a cheap bokmål-or-English test, and the clean-up of what models add around answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant import lexicon
from assistant.tuning import MIN_COMPOUND, MIN_SUPPORT
from ingest import Chunk, analyze, fold, split_sentences

_MARKER_LIST = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*[\]】]")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKERS_AFTER_STOP = re.compile(r"\s*([.!?])((?:\s*\[\d{1,3}\])+)")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_CAPITAL = re.compile(r"(?<![\w-])[A-ZÆØÅ][\wæøåÆØÅ-]*")
_NUMBER = re.compile(r"\d+")
_NOT_FOUND = re.compile(
    r"finner ikke|fant ikke|inneholder ikke|står ikke|sier ikke|ikke (?:nevnt|oppgitt|omtalt|opplyst)|"
    r"ingen (?:opplysninger|informasjon)|har ikke (?:informasjon|opplysninger)|kan ikke svare|ikke svar på",
    re.I,
)
# Words that join a claim together rather than carry it («Styringsgruppa besto av …»).
CONNECTIVES = frozenset((
    "besto", "bestod", "består", "bestått", "inkluderte", "inkluderer", "omfattet", "omfatter", "blant", "annet",
    "andre", "totalt", "sammen", "følgende", "nemlig", "både", "disse", "personer", "hadde", "rollen",
))
NUMBER_WORDS = {
    "en": 1, "ett": 1, "én": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6, "sju": 7, "syv": 7,
    "åtte": 8, "ni": 9, "ti": 10, "elleve": 11, "tolv": 12, "femten": 15, "sytten": 17, "tjue": 20,
}

# Function words that tell the two languages apart; words both languages use
# («i», «at», «for», «to», «her», «man», «over», «by», «be», «as») are left out.
ENGLISH = frozenset(
    "the and of was were is are been it its that this these those with from which who whom has have had not "
    "there their they an or but would could should what when where how into about also only than then does did "
    "you your we our he she his him them on will can may project municipality municipalities".split()
)


@lru_cache(maxsize=1)
def _norwegian() -> frozenset[str]:
    from ingest import stopwords

    return frozenset(w for w in stopwords() if w not in ENGLISH and w not in {"i", "at", "for", "man", "over", "so", "no", "her"})


@lru_cache(maxsize=1)
def _connectives() -> frozenset[str]:
    return frozenset(analyze(" ".join(CONNECTIVES)))


def language(text: str) -> str:
    """'en' when the text reads as English, 'nb' as Norwegian, '?' when too short to tell."""
    words = re.findall(r"[a-zæøå]+", text.lower())
    english = sum(w in ENGLISH for w in words)
    norwegian = sum(w in _norwegian() for w in words)
    if english >= 3 and english > norwegian:
        return "en"
    if norwegian >= 2 and norwegian >= english or norwegian and not english:
        return "nb"
    return "?"


def says_not_found(text: str) -> bool:
    """The reply says the passages do not hold the answer."""
    return _NOT_FOUND.search(text) is not None


def clean(text: str) -> str:
    """The reply without reasoning blocks and emphasis, with markers as ``[n]`` placed before
    the sentence's full stop («… kommune. [1]» → «… kommune [1].»)."""
    text = _THINK.sub("", text)
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"^#+\s*", "", text, flags=re.M)
    text = _MARKER_LIST.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)
    text = _MARKERS_AFTER_STOP.sub(lambda m: " " + re.sub(r"\s+", "", m.group(2)) + m.group(1), text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class Claim:
    """One sentence or list item of the reply, with the passage numbers it cites."""

    text: str  # without markers
    cites: tuple[int, ...]  # 1-based passage numbers as the reply wrote them, in order
    bullet: bool = False  # a list item
    lead: str = " "  # what separates it from the claim before: " ", "\n" or "\n\n"

    @property
    def intro(self) -> bool:
        """A list's lead-in («Styringsgruppa besto av:»): no claim of its own."""
        return self.text.endswith(":")


def claims(text: str) -> list[Claim]:
    """The reply's claims in order (``text`` already :func:`clean`)."""
    out: list[Claim] = []
    lead = ""
    for line in text.split("\n"):
        if not line.strip():
            lead = "\n\n" if out else ""
            continue
        lead = lead or ("\n" if out else "")
        bullet = _BULLET.match(line) is not None
        body = _BULLET.sub("", line)
        for i, (start, end) in enumerate(split_sentences(body)):
            sentence = body[start:end]
            cites = tuple(dict.fromkeys(int(n) for n in _MARKER.findall(sentence)))
            plain = re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", sentence)).strip()
            plain = re.sub(r"\s{2,}", " ", plain)
            if plain:
                out.append(Claim(plain, cites, bullet and i == 0, lead if i == 0 else " "))
        lead = ""
    return out


@dataclass
class Passage:
    """A given passage as the checks see it: its stems, numbers, folded words and sentences."""

    chunk: Chunk
    terms: set[str] = field(init=False)
    numbers: set[int] = field(init=False)
    words: set[str] = field(init=False)
    sentences: list[str] = field(init=False)

    def __post_init__(self) -> None:
        text = self.chunk.embed_text
        self.terms = set(analyze(text))
        self.words = {fold(w) for w in _WORD.findall(text)}
        self.numbers = {int(n) for n in _NUMBER.findall(text)} | {
            NUMBER_WORDS[w] for w in re.findall(r"\w+", text.lower()) if w in NUMBER_WORDS
        }
        self.numbers |= {NUMBER_WORDS[w.split("-")[0]] for w in self.words if w.split("-")[0] in NUMBER_WORDS and "-" in w}
        self.sentences = [self.chunk.text[s:e] for s, e in split_sentences(self.chunk.text)]

    def lines_naming(self, names: list[str]) -> set[str]:
        """Stems of the heading and of the lines that name any of ``names``."""
        lines = [ln for ln in self.chunk.text.splitlines() if any(n in fold(ln) for n in names)]
        return set(analyze(self.chunk.section + "\n" + "\n".join(lines)))


@dataclass(frozen=True)
class Support:
    """Whether a claim is supported by the passages it cites, and where."""

    ok: bool
    share: float  # of the claim's content words found
    reason: str = ""  # why not, for the log and the measurement
    used: tuple[int, ...] = ()  # indexes into the passages that hold some of the claim
    quotes: tuple[str, ...] = ()  # per used passage, its sentence(s) that hold the claim


def _found(term: str, terms: set[str]) -> bool:
    if term in terms:
        return True
    return len(term) >= MIN_COMPOUND and any(len(t) > len(term) and (t.startswith(term) or t.endswith(term)) for t in terms)


def _name_found(word: str, words: set[str]) -> bool:
    w = fold(word)
    candidates = {w, w[:-1] if w.endswith("s") and len(w) > 4 else w}  # genitive «Drammens»
    return bool(candidates & words) or (len(w) >= 4 and any(x.startswith(w) for x in words))


def names_in(text: str) -> list[str]:
    """Capitalised words not opening the sentence: names of people, places and bodies."""
    out = []
    for m in _CAPITAL.finditer(text):
        before = text[: m.start()].rstrip(" «\"“(")
        if not before or before.endswith((".", ":", "!", "?")):
            continue
        out.append(m.group())
    return out


def _numbers(text: str) -> tuple[set[int], set[int]]:
    """The claim's numbers (digits, or words from «to» up: «en»/«ett» are also articles),
    and its months (named or as numbers: «juni» → 6)."""
    words = re.findall(r"[a-zæøå]+", text.lower())
    numbers = {int(n) for n in _NUMBER.findall(text)} | {NUMBER_WORDS[w] for w in words if NUMBER_WORDS.get(w, 1) > 1}
    months = {lexicon.MONTHS[w] for w in words if w in lexicon.MONTH_NAMES}
    return numbers, months


def facts_missing(claim: str, passages: list[Passage]) -> str:
    """Why a number, month or name of ``claim`` is not in ``passages`` ('' when all are)."""
    numbers, months = _numbers(claim)
    all_numbers = set().union(*(p.numbers for p in passages))
    missing = sorted(n for n in numbers if n not in all_numbers)
    if missing:
        return f"number {missing[0]} not in the passage"
    all_words = set().union(*(p.words for p in passages))
    for month in months:
        spelled = [fold(name) for name, value in lexicon.MONTHS.items() if value == month]
        if month not in all_numbers and not any(name in all_words for name in spelled):
            return "month not in the passage"
    for name in names_in(claim):
        if not _name_found(name, all_words):
            return f"name «{name}» not in the passage"
    return ""


def support(claim: str, passages: list[Passage], people: list[str] = ()) -> Support:
    """Is ``claim`` supported by ``passages`` (those it cites)?

    Every number and month in it must be in a passage, and every capitalised word
    (a name) too; of its other content words at least :data:`MIN_SUPPORT` must be
    found. A claim naming a known person is held to the lines that name that person
    (and the headings), so a role cannot move from one person to the next in a list.
    """
    if not passages:
        return Support(False, 0.0, "cites no given passage")
    numbers, _ = _numbers(claim)
    folded = fold(claim)
    named = [fold(p) for p in people if fold(p) in folded]
    name_terms = set(analyze(" ".join(named)))
    skip = name_terms | set(analyze(" ".join(lexicon.MONTH_NAMES))) | _connectives()
    terms = [t for t in analyze(claim) if not t.isdigit() and t not in skip]
    have = set().union(*(p.lines_naming(named) for p in passages)) if named else set().union(*(p.terms for p in passages))
    share = sum(_found(t, have) for t in terms) / len(terms) if terms else 1.0
    if not terms and not named and not numbers and not names_in(claim):
        return Support(False, 0.0, "no claim in it")
    missing = facts_missing(claim, passages)
    if missing:
        return Support(False, share, missing)
    if share < MIN_SUPPORT:
        return Support(False, share, f"only {share:.0%} of its words in the passage")
    used, quotes = [], []
    claim_terms = set(terms) | name_terms | {str(n) for n in numbers}
    for i, p in enumerate(passages):
        quote = _quote(claim_terms, p)
        if quote:
            used.append(i)
            quotes.append(quote)
    if not used:
        return Support(False, share, "no sentence of the passage holds it")
    return Support(True, share, "", tuple(used), tuple(quotes))


def _quote(claim_terms: set[str], passage: Passage) -> str:
    """The passage sentence holding most of the claim, and a second one if it adds to it."""
    scored = []
    for sentence in passage.sentences:
        own = set(analyze(sentence))
        hit = {t for t in claim_terms if _found(t, own)}
        if hit:
            scored.append((len(hit), sentence, hit))
    if not scored:
        return ""
    scored.sort(key=lambda s: -s[0])
    best = scored[0]
    chosen = [best[1]]
    for _, sentence, hit in scored[1:]:
        if hit - best[2]:
            chosen.append(sentence)
            break
    return "\n".join(s for s in passage.sentences if s in chosen)
