"""Norwegian language knowledge from real resources, for matching a question's words
to the material's: lemmas from simplemma (its bokmål/nynorsk data ship in the wheel)
and synonyms from LibreOffice's Norwegian thesaurus (Debian package ``mythes-no``,
installed by ``make setup``). Without the thesaurus, expansion is simply empty.

Expansions are kept only where they occur in the index, so a noisy thesaurus sense
costs nothing unless the material uses that word.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from assistant.tuning import MIN_HEAD
from ingest import analyze

LEMMA_LANGS = ("nb", "nn")


@lru_cache(maxsize=1)
def _simplemma() -> tuple:
    """simplemma's lemmatizer and dictionary lookup over MARISA tries cached on disk (simplemma's
    TrieDictionaryFactory): built once per machine (``make setup`` does it), a cached trie loads in
    milliseconds where the default dictionaries cost a fresh process ~0.7 s per language."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy
    from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

    factory = TrieDictionaryFactory()
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory)), DictionaryLookupStrategy(factory)


def _known(word: str, lang: str) -> bool:
    """The dictionary of ``lang`` holds ``word`` (as simplemma.is_known)."""
    from simplemma.utils import normalize_token

    return bool(word) and _simplemma()[1].get_lemma(normalize_token(word), lang) is not None


def prepare_dictionaries() -> None:
    """Build the cached tries of every language the assistant looks words up in."""
    for lang in (*LEMMA_LANGS, "en"):
        _known("test", lang)


@lru_cache(maxsize=8192)
def lemma(word: str) -> str:
    """The dictionary form of a bokmål or nynorsk word («ga» → «gi», «byer» → «by»)."""
    lemmatizer = _simplemma()[0]
    word = word.lower()
    for lang in LEMMA_LANGS:
        if _known(word, lang):
            return lemmatizer.lemmatize(word, lang=lang).lower()
    return lemmatizer.lemmatize(word, lang=LEMMA_LANGS).lower()


def norwegian_share(text: str) -> float:
    """The share of words a bokmål or nynorsk dictionary knows: near 1 for Norwegian,
    lower for English, Swedish or Danish (the dense model then carries the match).
    Capitalised words after the first are names, in no language: they do not count."""
    words = [w for i, w in enumerate(re.findall(r"[^\W\d_]+", text)) if i == 0 or not w[:1].isupper()]
    if not words:
        return 1.0
    return sum(any(_known(w.lower(), lang) for lang in LEMMA_LANGS) for w in words) / len(words)


@lru_cache(maxsize=4096)
def is_english(text: str) -> bool:
    """More of the words are English than Norwegian, by simplemma's dictionaries."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    english = sum(_known(w, "en") for w in words)
    norwegian = sum(any(_known(w, lang) for lang in LEMMA_LANGS) for w in words)
    return english > norwegian


@lru_cache(maxsize=2)
def thesaurus(path: Path) -> dict[str, frozenset[str]]:
    """Headword → its single-word synonyms over all senses (empty when not installed)."""
    if not path.is_file():
        return {}
    lines = path.read_text(encoding="latin-1").splitlines()
    out: dict[str, set[str]] = {}
    i = 1  # line 0 names the encoding
    while i < len(lines):
        head, _, count = lines[i].partition("|")
        i += 1
        words: set[str] = set()
        for line in lines[i:i + int(count or 0)]:
            words.update(w for w in line.split("|")[1:] if w and " " not in w and "(" not in w)
        i += int(count or 0)
        out.setdefault(head.lower(), set()).update(w.lower() for w in words)
    return {k: frozenset(v) for k, v in out.items()}


class Expander:
    """Maps a question's content stems to related stems that the index holds."""

    def __init__(self, vocabulary: set[str], path: Path) -> None:
        self.vocabulary = vocabulary
        # Compound heads count too: «midler» is in «utviklingsmidler».
        self._heads = {v[i:] for v in vocabulary for i in range(1, len(v) - MIN_HEAD + 1)}
        self._thesaurus = thesaurus(path)

    def holds(self, stem: str) -> bool:
        """The index has this stem as a word or as the head of a compound."""
        return stem in self.vocabulary or (len(stem) >= MIN_HEAD and stem in self._heads)

    def related(self, text: str) -> dict[str, frozenset[str]]:
        """For each content word of ``text`` (by its stem): stems of its lemma and synonyms
        that occur in the index, the word's own stem excluded."""
        out: dict[str, frozenset[str]] = {}
        for word in re.findall(r"\w+", text.lower()):
            stems = analyze(word)
            if not stems:
                continue
            own = stems[0]
            base = lemma(word)
            candidates = {base} | set(self._thesaurus.get(base, ())) | set(self._thesaurus.get(word, ()))
            found = {s for c in candidates for s in analyze(c) if s != own and self.holds(s)}
            if found:
                out[own] = out.get(own, frozenset()) | frozenset(found)
        return out
