"""Pure functions that turn the assistant's typed objects into what the page shows:
answer HTML with clickable ``[n]`` markers and escaped sources, the participants
table, and Norwegian wording for every error. No Gradio here, so it tests without a server.

Everything that comes from the corpus or the assistant is passed through
``html.escape`` before it is put into markup; only the tags composed here are HTML.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from assistant.answer import BOLD
from assistant.errors import (
    MAX_QUESTION_CHARS,
    AssistantError,
    BadHistory,
    EmptyQuestion,
    IndexMissing,
    IndexUnusable,
    ModelError,
    QuestionTooLong,
    StoreUnavailable,
)
from assistant.models import Answer, Citation
from ingest.participants import Participant

NO_ANSWER_TITLE = "Fant ikke svar i prosjektmaterialet"
SEARCHING = "Leter i prosjektmaterialet …"
ALL_ROLES = "Alle roller"
ALL_ORGANISATIONS = "Alle organisasjoner"
NO_ORGANISATION = "Ikke oppgitt"
WHOLE_PROJECT = "hele prosjektet"
PARTICIPANT_COLUMNS = ["Navn", "Rolle", "Stilling", "Enhet", "Organisasjon", "Periode", "Merknad", "Kilde"]

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


# --- errors ------------------------------------------------------------------------


def error_message(error: BaseException) -> str:
    """The Norwegian sentence a user sees for ``error`` (the library's own messages are English)."""
    if isinstance(error, EmptyQuestion):
        return "Spørsmålet er tomt. Skriv et spørsmål om prosjektet, for eksempel «Hvem var prosjektleder?»."
    if isinstance(error, QuestionTooLong):
        length = getattr(error, "length", None)
        size = f"{length} tegn langt" if length else "for langt"
        return (f"Spørsmålet er {size}; grensen er {MAX_QUESTION_CHARS} tegn. "
                "Kort det ned og prøv igjen.")
    if isinstance(error, StoreUnavailable):
        return ("Søkeindeksen (Chroma-serveren) svarer ikke akkurat nå, så spørsmålet kunne ikke besvares. "
                "Prøv igjen om litt; assistenten kobler seg til igjen av seg selv.")
    if isinstance(error, IndexMissing):
        return "Fant ingen indeks. Bygg den med `python -m ingest` (eller `make run`)."
    if isinstance(error, IndexUnusable):
        return ("Indeksen kan ikke brukes slik den er (den kan være laget med en annen modell eller være skadet). "
                "Bygg den på nytt med `python -m ingest`.")
    if isinstance(error, ModelError):
        return ("Søkemodellen kunne ikke lastes. Kjør `python -m ingest` én gang med nettilgang, "
                "eller pek `ASSISTANT_EMBED_MODEL` til en lokal kopi av modellen.")
    if isinstance(error, BadHistory):
        return ('Samtalehistorikken har feil format. Den skal være en liste med '
                '{"role": "user" eller "assistant", "content": "tekst"}, eldste først.')
    if isinstance(error, AssistantError):
        return f"Assistenten kunne ikke svare. Teknisk detalj (engelsk): {error}"
    return "Noe gikk galt under svaret. Prøv igjen, eller kontakt den som drifter assistenten."


def check_question(question: object) -> str:
    """The stripped question, or the library's error for an empty or overlong one.

    The assistant checks this too; checking first lets the page keep the text in the
    box and say what is wrong before anything is sent.
    """
    text = question.strip() if isinstance(question, str) else ""
    if not text:
        raise EmptyQuestion()
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(len(text))
    return text


def _code_spans(escaped: str) -> str:
    """`command` → <code>command</code> in already escaped text."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def error_html(message: str) -> str:
    """A chat bubble or banner for an error message."""
    return (f'<div class="svar feil" role="alert"><span class="svar-ikon ikon-feil" aria-hidden="true"></span>'
            f'<div class="svar-tekst">{_code_spans(html.escape(message))}</div></div>')


def startup_banner_html(error: BaseException) -> str:
    """The banner shown above the chat when the assistant could not start."""
    return (f'<div class="oppstartsfeil" role="alert"><strong>Assistenten er ikke klar.</strong> '
            f'{_code_spans(html.escape(error_message(error)))}</div>')


# --- the chat --------------------------------------------------------------------------


def source_id(turn: int, n: int) -> str:
    """The element id of source ``n`` under answer number ``turn`` (unique on the page)."""
    return f"kilde-{turn}-{n}"


def question_html(question: str) -> str:
    """A user message, shown exactly as typed."""
    return f'<div class="spm">{_lines(html.escape(question))}</div>'


def pending_html() -> str:
    """The bubble shown while the assistant searches."""
    return (f'<div class="svar venter" aria-live="polite"><span class="spinner" aria-hidden="true"></span>'
            f'{html.escape(SEARCHING)}</div>')


def answer_html(answer: Answer, turn: int, *, final: bool = True) -> str:
    """An answer with linked ``[n]`` markers and, once final, its sources.

    Abstentions get their own look and never show sources. ``turn`` numbers the
    answer on the page so that the ids of its sources are unique.
    """
    notice = ""
    if answer.notice:
        notice = (f'<div class="svar-merknad"><span class="svar-ikon ikon-info" aria-hidden="true"></span>'
                  f"{html.escape(answer.notice)}</div>")
    if answer.abstained:
        text = answer.answer.strip()
        body = ""
        if text and text.rstrip(".") != NO_ANSWER_TITLE:
            body = f'<div class="svar-tekst">{_paragraphs(html.escape(text))}</div>'
        return ('<div class="svar avstatt"><div class="avstatt-tittel">'
                f'<span class="svar-ikon ikon-ingen" aria-hidden="true"></span>{NO_ANSWER_TITLE}</div>{body}{notice}</div>')
    cited = {c.n for c in answer.citations}
    text = _link_markers(_strong(_paragraphs(html.escape(answer.answer.strip()))), cited, turn)
    classes = "svar" if final else "svar strommer"
    sources = sources_html(answer.citations, turn) if final and answer.citations else ""
    return f'<div class="{classes}"><div class="svar-tekst">{text}</div>{notice}{sources}</div>'


def sources_html(citations: Sequence[Citation], turn: int) -> str:
    """The numbered sources under an answer, each a closed ``<details>`` with the passage."""
    items = []
    for c in sorted(citations, key=lambda c: c.n):
        heading = " › ".join(html.escape(part.strip()) for part in c.section.split(" > "))
        items.append(
            f'<details class="kilde" id="{source_id(turn, c.n)}">'
            f'<summary><span class="kilde-nr">[{c.n}]</span> <span class="kilde-dok">{html.escape(c.document)}</span>'
            f' <span class="kilde-seksjon">{heading}</span></summary>'
            f'<blockquote class="kilde-tekst">{highlight(c.text, c.quote)}</blockquote>'
            f'<a class="hele-avsnittet" href="#{source_id(turn, c.n)}">Vis hele avsnittet</a></details>'
        )
    return f'<div class="kilder"><div class="kilder-tittel">Kilder</div>{"".join(items)}</div>'


def highlight(text: str, quote: str) -> str:
    """``text`` escaped, with the sentences of ``quote`` found in it wrapped in ``<mark>``.

    The quote is matched with whitespace relaxed; sentences of a multi-sentence quote
    are marked one by one, so a quote stitched from two places still shows.
    """
    spans = _find(text, quote)
    if not spans:
        parts = [p for p in re.split(r"(?<=[.!?…])\s+|\n+", quote) if len(p.strip()) > 3]
        spans = [s for part in parts for s in _find(text, part)]
    out, at = [], 0
    for start, end in sorted(set(spans)):
        if start < at:
            continue
        out.append(html.escape(text[at:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _find(text: str, quote: str) -> list[tuple[int, int]]:
    words = quote.split()
    if not words:
        return []
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return [match.span()] if match else []


def _link_markers(escaped: str, cited: set[int], turn: int) -> str:
    """Replace ``[1]`` / ``[1, 2]`` with links to the sources that exist; leave others as text."""

    def link(match: re.Match) -> str:
        numbers = [int(x) for x in re.split(r"\s*,\s*", match.group(1))]
        if not all(n in cited for n in numbers):
            return match.group(0)
        return "".join(
            f'<a class="kilde-lenke" href="#{source_id(turn, n)}" title="Vis kilde {n}">[{n}]</a>' for n in numbers
        )

    return _MARKER.sub(link, escaped)


def _strong(escaped: str) -> str:
    """``**words**`` (what a sure answer points at) → <strong>, in already escaped text."""
    return BOLD.sub(r'<strong class="svar-kjerne">\1</strong>', escaped)


def _lines(escaped: str) -> str:
    return escaped.replace("\n", "<br>")


def _paragraphs(escaped: str) -> str:
    """Plain text → paragraphs, with runs of ``- item`` lines as a list (language models write those)."""
    blocks = []
    for block in re.split(r"\n\s*\n", escaped):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if len(lines) > 1 and all(_LIST_ITEM.match(line) for line in lines[1:]):
            head = lines[0] if not _LIST_ITEM.match(lines[0]) else None
            items = lines[1:] if head is not None else lines
            lis = "".join(f"<li>{_LIST_ITEM.sub('', line, count=1)}</li>" for line in items)
            blocks.append((f"<p>{head}</p>" if head else "") + f"<ul>{lis}</ul>")
        else:
            blocks.append(f"<p>{'<br>'.join(lines)}</p>")
    return "".join(blocks)


# --- the participants table --------------------------------------------------------------


def _cap(text: str | None) -> str:
    return text[:1].upper() + text[1:] if text else ""


def participant_row(p: Participant) -> list[str]:
    """One table row, in the order of ``PARTICIPANT_COLUMNS``; corpus text stays plain text."""
    period = p.period or (WHOLE_PROJECT if not (p.start or p.end) else f"{p.start or ''}–{p.end or ''}")
    source = " › ".join(part.strip() for part in p.section.split(" > "))
    return [
        p.name,
        _cap(p.role),
        p.title or "",
        p.unit or "",
        p.organisation or "",
        period,
        p.period_note or "",
        f"{p.document}: {source}" if p.document else source,
    ]


def role_choices(people: Iterable[Participant]) -> list[str]:
    """The role filter: «Alle roller» then every role in the data, sorted."""
    return [ALL_ROLES, *sorted({_cap(p.role) for p in people}, key=str.casefold)]


def organisation_choices(people: Iterable[Participant]) -> list[str]:
    """The organisation filter: «Alle organisasjoner», every organisation, and «Ikke oppgitt» if some lack one."""
    people = list(people)
    orgs = sorted({p.organisation for p in people if p.organisation}, key=str.casefold)
    missing = [NO_ORGANISATION] if any(not p.organisation for p in people) else []
    return [ALL_ORGANISATIONS, *orgs, *missing]


def filter_participants(
    people: Iterable[Participant], text: str = "", role: str | None = None, organisation: str | None = None
) -> list[Participant]:
    """People matching every word of ``text`` (in any column) and the chosen role and organisation."""
    words = (text or "").casefold().split()
    chosen = []
    for p in people:
        if role and role != ALL_ROLES and _cap(p.role) != role:
            continue
        if organisation and organisation != ALL_ORGANISATIONS:
            if (p.organisation or NO_ORGANISATION) != organisation:
                continue
        haystack = " ".join(participant_row(p)).casefold()
        if all(w in haystack for w in words):
            chosen.append(p)
    return chosen


def count_text(shown: int, total: int) -> str:
    """The line above the table saying how many rows the filters let through."""
    if shown == total:
        return f"Viser alle {total} oppføringer (én per person og rolle)."
    return f"Viser {shown} av {total} oppføringer."
