"""The Norwegian keyword index beside the vectors: BM25 (bm25s) over tokens that are
lower-cased, stripped of Norwegian stopwords, Snowball-stemmed and folded to ASCII,
so «Bjørn», «bjorn» and «Bjorn» meet. Query terms not in the vocabulary are
corrected to the nearest indexed term (typo tolerance).
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})


def fold(text: str) -> str:
    """Lower-case ASCII-ish form for matching: æ→ae, ø→o, å→a, accents dropped."""
    if text.isascii():  # most stems: nothing to fold
        return text.lower()
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("norwegian")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_NORWEGIAN

    words = set(STOPWORDS_NORWEGIAN)
    return frozenset(words | {fold(w) for w in words})


def analyze(text: str) -> list[str]:
    """Tokens for BM25: words without stopwords, stemmed, then folded."""
    words = [w for w in _WORD.findall(text.lower()) if w not in stopwords() and (len(w) > 1 or w.isdigit())]
    # Snowball strips one suffix per pass ("prosjektlederen" -> "prosjektleder"); a second
    # pass brings inflected forms to one stem ("prosjektled").
    stemmer = _stemmer()
    return [fold(s) for s in stemmer.stemWords(stemmer.stemWords(words))]


class KeywordIndex:
    """BM25 over the chunks, in chunk order; scores are returned per chunk position."""

    def __init__(self, bm25, vocabulary: list[str]) -> None:
        self._bm25 = bm25
        self._vocab = vocabulary
        self._vocab_set = set(vocabulary)

    @classmethod
    def build(cls, texts: list[str]) -> "KeywordIndex":
        import bm25s

        tokens = [analyze(t) or ["_"] for t in texts]
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        vocab = sorted({t for doc in tokens for t in doc})
        return cls(bm25, vocab)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder))
        (folder / "vocabulary.json").write_text(json.dumps(self._vocab, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        bm25 = bm25s.BM25.load(str(folder))
        vocab = json.loads((folder / "vocabulary.json").read_text())
        return cls(bm25, vocab)

    def knows(self, token: str) -> bool:
        return token in self._vocab_set

    def vocabulary(self) -> set[str]:
        return set(self._vocab_set)

    def correct(self, tokens: list[str]) -> list[str]:
        """Replace unknown query tokens by the closest indexed token, if one is close enough."""
        from rapidfuzz import fuzz, process

        out = []
        for tok in tokens:
            if tok in self._vocab_set or len(tok) < 4:
                out.append(tok)
                continue
            match = process.extractOne(tok, self._vocab, scorer=fuzz.ratio, score_cutoff=80)
            if match:
                out.append(match[0])
            elif len(tok) >= 5:
                # Norwegian compounds: «samarbeid» finds «samarbeidsprosjekt».
                out.extend([v for v in self._vocab if v.startswith(tok)][:3] or [tok])
        return out

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros when nothing matches)."""
        tokens = [t for t in self.correct(analyze(query)) if t in self._vocab_set]
        n = int(self._bm25.scores["num_docs"])
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
