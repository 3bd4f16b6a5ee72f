"""The assistant's Norwegian vocabulary, read once from ``assistant/data/lexicon.yaml``:
nynorsk and English words mapped to bokmål, role cues, question and time words. Each
table is documented in the data file; nothing there names a person, place or answer.
"""
from __future__ import annotations

from pathlib import Path

import yaml

_DATA = yaml.safe_load((Path(__file__).resolve().parent / "data" / "lexicon.yaml").read_text(encoding="utf-8"))

NYNORSK: dict[str, str] = _DATA["nynorsk"]
ENGLISH: dict[str, str] = _DATA["english"]
ROLE_CUES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["role_cues"].items()}
QUESTION_WORDS: tuple[str, ...] = tuple(_DATA["question_words"])
WHO_WORDS: tuple[str, ...] = tuple(_DATA["who_words"])
COUNT_WORDS: tuple[str, ...] = tuple(_DATA["count_words"])
PEOPLE_FRAME: tuple[str, ...] = tuple(_DATA["people_frame"])
PERSON_ABOUT: tuple[str, ...] = tuple(_DATA["person_about"])
MONTHS: dict[str, int] = _DATA["months"]
SEASONS: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in _DATA["seasons"].items()}
START_WORDS: tuple[str, ...] = tuple(_DATA["start_words"])
END_WORDS: tuple[str, ...] = tuple(_DATA["end_words"])
PRONOUNS_ONE: tuple[str, ...] = tuple(_DATA["pronouns_one"])
PRONOUNS_MANY: tuple[str, ...] = tuple(_DATA["pronouns_many"])
MONTH_NAMES: tuple[str, ...] = tuple(_DATA["month_names"])
GENERIC_WORDS: tuple[str, ...] = tuple(_DATA["generic_words"])
ANSWER_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = tuple((k, tuple(v)) for k, v in _DATA["answer_types"].items())
NUMBER_WORDS: tuple[str, ...] = tuple(_DATA["number_words"])
PEOPLE_VERBS: tuple[str, ...] = tuple(_DATA["people_verbs"])
NEGATIONS: tuple[str, ...] = tuple(_DATA["negations"])
COMPARATIVES: dict[str, tuple[str, str, str]] = {k: tuple(v) for k, v in _DATA["comparatives"].items()}
SUCCESSION_WORDS: tuple[str, ...] = tuple(_DATA["succession_words"])
REASON_WORDS: tuple[str, ...] = tuple(_DATA["reason_words"])
WHOLE_PERIOD: tuple[str, ...] = tuple(_DATA["whole_period"])
DENIALS: tuple[str, ...] = tuple(_DATA["denials"])
QUESTION_WORDS_OTHER: tuple[str, ...] = tuple(_DATA["question_words_other"])
