"""Answer questions about people and roles from the structured participant records:
match the person (fuzzy, diacritic-insensitive), the role, the words of their title,
unit or organisation, and a month, season or year; then describe, list or count.
Every name in an answer is tied to the report passage that names that person.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant import lexicon
from assistant.query import Query, has_phrase, stem_match, stem_quality
from ingest import Participant, Period, analyze, fold, month_index, stopwords


@dataclass(frozen=True)
class Line:
    """One claim about one or more records, to be rendered with their citations."""

    text: str
    records: tuple[Participant, ...]


@dataclass(frozen=True)
class PeopleResult:
    intro: str | None
    lines: tuple[Line, ...]
    abstained: bool = False
    bullet: bool = False
    no_match: bool = False  # the records were searched and nobody fits (e.g. not in that period)


@dataclass(frozen=True)
class RoleCue:
    role: str
    cues: tuple[tuple[str, ...], ...]  # each cue is a tuple of stems that must all be present


class People:
    """Lookups over the participant records of one index."""

    def __init__(self, participants: list[Participant], periods: dict[str, Period]) -> None:
        self.records = participants
        self.project = self._project_period(periods)
        self.names = sorted({p.name for p in participants})
        self._name_words = {name: re.findall(r"\w+", fold(name)) for name in self.names}
        self._fields = {p.id: [s for s in analyze(" ".join(x for x in (p.title, p.unit, p.organisation) if x))] for p in participants}
        self.roles = self._role_cues(sorted({p.role for p in participants}))

    @staticmethod
    def _project_period(periods: dict[str, Period]) -> Period | None:
        if not periods:
            return None
        return Period(start=min(p.start for p in periods.values()), end=max(p.end for p in periods.values()))

    @staticmethod
    def _role_cues(roles: list[str]) -> list[RoleCue]:
        out = []
        for role in roles:
            own = analyze(role)
            cues = {tuple(own[-1:])} if own else set()  # the head word names the role ("styringsgruppa", "prosjektleder")
            if len(own) > 1:
                cues.add(tuple(own))
            for key, phrases in lexicon.ROLE_CUES.items():
                key_stems = analyze(key)
                if key_stems and any(stem_match(k, s) for k in key_stems for s in own):
                    cues.update(tuple(analyze(ph)) for ph in phrases if analyze(ph))
            out.append(RoleCue(role, tuple(sorted(cues))))
        return out

    # --- matching -------------------------------------------------------------------

    def match_names(self, words: tuple[str, ...]) -> list[str]:
        """Names in the question: two name words, a surname, or an exact first name no one else has."""
        from rapidfuzz import fuzz

        def quality(part: str) -> int:
            """2: the word is there; 1: there with one typo (long parts only); 0: absent."""
            best = 0
            for w in words:
                if w == part:
                    return 2
                if len(part) >= 6 and abs(len(w) - len(part)) <= 1 and fuzz.ratio(part, w) >= 85:
                    best = 1
            return best

        scored: dict[str, int] = {}
        for name, parts in self._name_words.items():
            found = {p: q for p in parts if (q := quality(p))}
            if len(found) >= 2:
                scored[name] = sum(found.values()) + 2
            elif parts[-1] in found and len(parts) > 1:
                scored[name] = found[parts[-1]]
            elif found.get(parts[0]) == 2 and parts[0] not in stopwords() and sum(
                o[0] == parts[0] for o in self._name_words.values()
            ) == 1:
                scored[name] = 1
        if not scored:
            return []
        named_in_full = [n for n, s in scored.items() if s >= 2 * len(self._name_words[n]) + 2]
        if len(named_in_full) > 1:  # «Hvem av A B og C D …?»: everyone typed in full
            return named_in_full
        best = max(scored.values())
        return [n for n, s in scored.items() if s == best]

    def match_roles(self, q: Query) -> list[str]:
        scores = {}
        for cue in self.roles:
            # A cue's score is the match quality summed over its stems: exact beats typo, longer beats shorter.
            best = 0
            for c in cue.cues:
                qualities = [max((_role_quality(s, t) for t in q.stems), default=0) for s in c]
                if all(qualities):
                    best = max(best, sum(qualities))
            if best:
                scores[cue.role] = best
        if not scores:
            return []
        top = max(scores.values())
        return [r for r, s in scores.items() if s == top]

    def names_in(self, text: str) -> list[str]:
        """Full names that occur in a text (an earlier answer), in order of appearance."""
        folded = fold(text)
        found = [(folded.find(fold(n)), n) for n in self.names if fold(n) in folded]
        return [n for _, n in sorted(found)]

    # --- answering ------------------------------------------------------------------

    def answer(self, q: Query, context_names: list[str]) -> PeopleResult | None:
        """A people answer, or None when the question is not about people."""
        if not self.records or any(w in lexicon.REASON_WORDS for w in q.words):
            return None  # the records hold who, what and when, never why
        names = self.match_names(q.words)
        if not names and q.followup_one and context_names:
            names = context_names[:1]
        if _succession(q):
            return self._successors(q, names)
        if names:
            return self._describe(q, names)

        roles = self.match_roles(q)
        pool = self.records
        if q.followup_many and context_names:
            pool = [r for r in pool if r.name in context_names]
        if roles:
            pool = [r for r in pool if r.role in roles]
        which_role = bool(roles) and q.words[:1] in (("hvilke",), ("hvilken",), ("hvilket",))
        if not (q.who or q.count or which_role or roles and (q.followup_many and context_names)):
            return None
        terms = self._filter_terms(q, roles)
        whole = _whole_period(q)
        started_or_ended = q.time is not None and q.time_mode != "active"
        if not roles and not (q.followup_many and context_names) and not started_or_ended and not whole:
            if not terms or not all(any(self._term_hits(r, t) for r in pool) for t in terms):
                return None  # a who-question about something the records do not hold
        negated = _negated(q)
        if q.time and self.project:
            pool = [r for r in pool if self._in_time(r, q)]
        elif whole and self.project:  # «Hvem var med hele prosjektperioden?»
            pool = [r for r in pool if not self._changed_during(r, "start") and not self._changed_during(r, "end")]
        elif q.time_mode != "active" and not q.when and self.project:
            # «Hvem sluttet underveis?»; with «ikke», those who stayed
            pool = [r for r in pool if self._changed_during(r, q.time_mode) != (negated and not terms)]
        if terms and pool:
            scores = {r.id: sum(self._term_hits(r, t) for t in terms) for r in pool}
            best = max(scores.values())
            if negated and best:  # «… som ikke var fra X kommune»: all but the best matches
                pool = [r for r in pool if scores[r.id] < best]
            elif best:
                pool = [r for r in pool if scores[r.id] == best]
        if not pool:
            return PeopleResult(None, (), abstained=True, no_match=True)
        return self._list(q, roles, pool)

    def _filter_terms(self, q: Query, roles: list[str]) -> list[str]:
        role_stems = {s for cue in self.roles if cue.role in roles for c in cue.cues for s in c}
        time_words, start_end, verbs = _fixed_stems()
        out = []
        for s in q.stems:
            if s.isdigit() or any(stem_match(s, r) for r in role_stems) or any(stem_match(s, w) for w in time_words):
                continue
            if any(stem_match(s, a) for a in start_end) or s in verbs or s in _frame_stems():
                continue
            out.append(s)
        return out

    def unexplained(self, q: Query, generic: frozenset[str]) -> list[str]:
        """The question's content terms that the records do not hold (names, roles, titles,
        units, organisations), leaving out the words that frame any question about people
        (time, pronouns, «rolle» …): «seminaret» in «Hvem arrangerte seminaret?»,
        «e-postadressen» in «Hva er e-postadressen til X?»."""
        roles = [c.role for c in self.roles]
        name_words = {s for n in self.match_names(q.words) for s in analyze(n)}
        frame = _frame_stems()
        return [
            t for t in self._filter_terms(q, roles)
            if t not in generic and not any(stem_match(t, w) for w in name_words) and t not in frame
            and not any(self._term_hits(r, t) for r in self.records)
        ]

    def names_asked(self, q: Query) -> bool:
        """The question names someone in the records."""
        return bool(self.match_names(q.words))

    def yes_no(self, q: Query, result: PeopleResult) -> PeopleResult:
        """A people answer to a yes/no question: «Ja, …» when the person holds the role asked
        about (or no role is asked about), «Nei, …» with the roles they did hold."""
        if not result.lines or result.bullet:
            return result
        roles = set(self.match_roles(q))
        held = {r.role for line in result.lines for r in line.records}
        verdict = "Nei" if roles and not roles & held else "Ja"
        first = result.lines[0]
        return PeopleResult(result.intro, (Line(f"{verdict}, {first.text}", first.records), *result.lines[1:]))

    def _changed_during(self, record: Participant, mode: str) -> bool:
        """Started after the project began («begynte underveis») or ended before it ended."""
        assert self.project
        project = record.project or self.project
        first, last = record.months(project)
        project_first = month_index(project.start, end=False)
        project_last = month_index(project.end, end=True)
        return first > project_first if mode == "start" else last < project_last

    def _term_hits(self, record: Participant, term: str) -> int:
        return int(any(stem_match(term, f) for f in self._fields[record.id]))

    def _in_time(self, record: Participant, q: Query) -> bool:
        assert q.time and self.project
        start, end = record.months(self.project)
        if q.time_mode == "start":
            return record.start is not None and q.time.overlaps(*_span(record.start))
        if q.time_mode == "end":
            return record.end is not None and q.time.overlaps(*_span(record.end))
        return q.time.overlaps(start, end)

    def _describe(self, q: Query, names: list[str]) -> PeopleResult:
        if len(names) >= 2 and self.project and (compared := self._compare(q, names)):
            return compared
        lines = []
        for name in names:
            records = tuple(r for r in self.records if r.name == name)
            if q.time and self.project:
                records = tuple(r for r in records if self._in_time(r, q)) or records
            parts = [_role_phrase(r, with_period=True) for r in records]
            lines.append(Line(f"{name} var {_join(parts)}.", records))
            if (q.when or q.time_mode != "active") and not any(r.period for r in records):
                lines.append(Line(f"Materialet oppgir ingen egen periode for {name}; rollen er oppført uten datoer.", records))
        return PeopleResult(None, tuple(lines))

    def _successors(self, q: Query, names: list[str]) -> PeopleResult:
        """«Hvem tok over etter X?» / «Hvem begynte etter ham?»: who took X's role (in the
        same organisation) after X, the one with X's own title or unit first; «nobody» when
        the records show none."""
        assert self.project
        roles = set(self.match_roles(q))
        before = [r for r in self.records if r.name in names[:1]]
        before = [r for r in before if r.role in roles] or before  # the person's own role if the asked one is not theirs
        if not names:
            before = [r for r in self.records if r.role in roles]
        ranked: dict[str, tuple[tuple[int, int], Participant]] = {}
        for old in before:
            if names and not old.end:
                continue  # a named person is succeeded only when their role ended
            first, last = old.months(self.project)
            for r in self.records:
                start = r.months(self.project)[0]
                if r.role != old.role or r.name == old.name or start <= first:
                    continue
                if old.organisation and r.organisation != old.organisation:
                    continue
                same_job = int(bool(r.title and r.title == old.title) or bool(r.unit and r.unit == old.unit))
                rank = (same_job, -abs(start - last))
                if r.id not in ranked or rank > ranked[r.id][0]:
                    ranked[r.id] = (rank, r)
        if not ranked:
            return PeopleResult(None, (), abstained=True, no_match=True)
        best = max(rank for rank, _ in ranked.values())
        after = [r for rank, r in ranked.values() if rank == best]
        return self._list(q, sorted({r.role for r in after}), after)

    def _compare(self, q: Query, names: list[str]) -> PeopleResult | None:
        """«Hvem av A og B begynte først / var med lengst?»: the periods side by side."""
        assert self.project
        how = next((lexicon.COMPARATIVES[w] for w in q.words if w in lexicon.COMPARATIVES), None)
        if how is None:
            return None
        spans = {}
        asked = set(self.match_roles(q))
        shared = set.intersection(*({r.role for r in self.records if r.name == n} for n in names))
        for name in names:
            records = [r for r in self.records if r.name == name]
            # Compare like with like: the role asked about, else the role they shared.
            records = [r for r in records if r.role in (asked or shared)] or records
            first = min(r.months(self.project)[0] for r in records)
            last = max(r.months(self.project)[1] for r in records)
            spans[name] = (first, last, records)
        measure = {"start": lambda v: v[0], "end": lambda v: v[1], "length": lambda v: v[1] - v[0]}[how[0]]
        values = {n: measure(v) for n, v in spans.items()}
        pick = min if how[1] == "min" else max
        winner = pick(values, key=values.get)
        if list(values.values()).count(values[winner]) > 1:
            head = "De er oppført med samme tidspunkt"
        else:
            head = f"{winner} {how[2]}"
        details = [f"{n} ({_month_label(v[0])} – {_month_label(v[1])})" for n, v in spans.items()]
        records = tuple(r for v in spans.values() for r in v[2])
        return PeopleResult(None, (Line(f"{head}: {_join(details)}.", records),))

    def _list(self, q: Query, roles: list[str], pool: list[Participant]) -> PeopleResult:
        by_name: dict[str, list[Participant]] = {}
        for record in pool:
            by_name.setdefault(record.name, []).append(record)
        label = roles[0] if len(roles) == 1 else "personer"
        when = f" ({q.time.label})" if q.time else ""
        if len(by_name) == 1:
            name, records = next(iter(by_name.items()))
            roles = _join([_role_phrase(r, with_period=True) for r in records])
            text = f"{name} var {roles}."
            if q.time and q.time_mode == "start":
                text = f"{name} begynte {_time_phrase(q).lower()} som {roles}."
            elif q.time and q.time_mode == "end":
                text = f"{name} sluttet {_time_phrase(q).lower()} som {roles}."
            elif q.time:
                text = f"{_time_phrase(q)} var {name} {roles}."
            return PeopleResult(None, (Line(text, tuple(records)),))
        detailed = len(by_name) <= 4
        lines = tuple(
            Line(f"{name} ({_details(recs[0], full=detailed)})" if _details(recs[0], full=detailed) else name, tuple(recs))
            for name, recs in by_name.items()
        )
        if q.count:
            intro = f"{len(by_name)} personer er oppført som {label}{when}:"
        elif len(roles) != 1 and q.time and q.time_mode != "active":
            verb = "begynte" if q.time_mode == "start" else "sluttet"
            intro = f"{_capital(verb)} {q.time.label}:"
        elif len(roles) != 1:
            intro = f"Treff i deltakeroversikten{when}:"
        else:
            intro = f"{_capital(label)}{when}:"
        return PeopleResult(intro, lines, bullet=True)


@lru_cache(maxsize=1)
def _fixed_stems() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Lexicon words that never filter records, analysed once: time words, start/end verbs,
    and verbs of taking part."""
    time_words = frozenset(fold(w) for w in (*lexicon.MONTHS, *lexicon.SEASONS))
    start_end = frozenset(a for w in (*lexicon.START_WORDS, *lexicon.END_WORDS) for a in analyze(w))
    verbs = frozenset(a for w in lexicon.PEOPLE_VERBS for a in analyze(w))
    return time_words, start_end, verbs


def _role_quality(role_stem: str, word: str) -> int:
    """stem_quality, and 1 for a question word that begins a compound role name
    («arbeidsgrupp» in «arbeidsgruppemedlem»), unless it is a word any question may use
    («prosjektet» does not point at «prosjektkoordinator»)."""
    quality = stem_quality(role_stem, word)
    if (not quality and len(word) >= 6 and len(role_stem) > len(word) + 3 and role_stem.startswith(word)
            and word not in _generic()):
        return 1
    return quality


@lru_cache(maxsize=1)
def _generic() -> frozenset[str]:
    return frozenset(s for w in lexicon.GENERIC_WORDS for s in analyze(w))


def _succession(q: Query) -> bool:
    """«… tok over etter …», «… begynte etter ham»: asks who came after someone."""
    text = fold(q.text)
    return any(has_phrase(text, fold(w)) for w in lexicon.SUCCESSION_WORDS) or (
        "etter" in q.words and q.time is None and q.time_mode == "start"
    )


def _whole_period(q: Query) -> bool:
    text = fold(q.text)
    return any(has_phrase(text, fold(p)) for p in lexicon.WHOLE_PERIOD)


def _negated(q: Query) -> bool:
    return any(w in lexicon.NEGATIONS for w in q.words)


def _month_label(index: int) -> str:
    return f"{lexicon.MONTH_NAMES[index % 12]} {index // 12}"


@lru_cache(maxsize=1)
def _frame_stems() -> frozenset[str]:
    """Stems of the words that frame questions about people rather than name their subject."""
    words = (
        *lexicon.MONTHS, *lexicon.SEASONS, *lexicon.PERSON_ABOUT, *lexicon.PRONOUNS_ONE, *lexicon.PRONOUNS_MANY,
        *lexicon.START_WORDS, *lexicon.END_WORDS, *lexicon.SUCCESSION_WORDS, *lexicon.PEOPLE_FRAME,
        *(phrase for _, _, phrase in lexicon.COMPARATIVES.values()), *lexicon.WHOLE_PERIOD,
    )
    return frozenset(s for w in words for s in analyze(w))


def _time_phrase(q: Query) -> str:
    assert q.time
    label = q.time.label
    return _capital(label) if label.split()[0] in lexicon.SEASONS else f"I {label}"


def _span(value: str) -> tuple[int, int]:
    return month_index(value, end=False), month_index(value, end=True)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " og " + parts[-1]


def month_words(value: str) -> str:
    year, _, month = value.partition("-")
    return f"{lexicon.MONTH_NAMES[int(month) - 1]} {year}" if month else year


def _period(record: Participant) -> str:
    if not record.period:
        return ""
    interpreted = [v for v in (record.start, record.end) if v]
    if interpreted and any(v[:4] not in record.period for v in interpreted):
        # The source's wording does not show the dates it means (a typo in the year): say both.
        start = f"fra {month_words(record.start)}" if record.start else ""
        end = f"til {month_words(record.end)}" if record.end else ""
        return f"{record.period}, dvs. {' '.join(x for x in (start, end) if x)}"
    return record.period


def _details(record: Participant, *, full: bool) -> str:
    if full:
        job = [record.title, record.unit if record.unit and record.unit not in (record.title or "") else None, record.organisation]
    else:
        job = [record.organisation or record.unit]
    text = ", ".join(x for x in job if x)
    period = _period(record)
    return f"{text}; {period}" if text and period else text or period


def _role_phrase(record: Participant, *, with_period: bool) -> str:
    details = _details(record, full=True) if with_period else ""
    return f"{record.role} ({details})" if details else record.role
