"""The source panel: «Vis hele avsnittet» under a cited passage opens the whole section
(for a PDF, the whole page) in a side panel, with the quoted sentence marked.

The section is put together from the chunks of the generation in use: the cited chunk
and its neighbours with the same document and heading, their overlap removed. The
click travels through a hidden textbox and button (static/sources_panel.html sets them),
so the panel is an ordinary Gradio event.
"""
from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import gradio as gr

from assistant.models import Citation
from ingest.chunking import Chunk
from ui import render

log = logging.getLogger(__name__)

PANEL_TITLE = "Kilde"
EMPTY = '<p class="kildepanel-tom">Klikk «Vis hele avsnittet» under en kilde for å lese hele avsnittet her.</p>'
_CHOICE = re.compile(r"^kilde-(\d+)-(\d+)$")


@dataclass(frozen=True)
class SectionText:
    """A whole section as the index holds it."""

    document: str
    heading: str
    text: str


def whole_section(chunks: Sequence[Chunk], citation: Citation) -> SectionText | None:
    """The section the citation's chunk belongs to, or None when the index no longer holds it."""
    at = next((i for i, c in enumerate(chunks) if c.id == citation.chunk_id), None)
    if at is not None and chunks[at].kind != "text":
        # A participant record: show the report's section that names the person.
        record = chunks[at]
        at = next((i for i, c in enumerate(chunks)
                   if c.kind == "text" and c.document == record.document and c.section == record.section), None)
    if at is None:
        at = next((i for i, c in enumerate(chunks) if c.kind == "text" and c.document == citation.document
                   and c.section == citation.section), None)
    if at is None:
        return None
    first = last = at

    def same(i: int) -> bool:
        return (0 <= i < len(chunks) and chunks[i].kind == "text" and chunks[i].document == chunks[at].document
                and chunks[i].section == chunks[at].section)

    while same(first - 1):
        first -= 1
    while same(last + 1):
        last += 1
    text = chunks[first].text
    for chunk in chunks[first + 1:last + 1]:
        text = _join(text, chunk.text)
    return SectionText(chunks[at].document, chunks[at].section, text)


def _join(left: str, right: str) -> str:
    """``left`` + ``right`` without the text they share (long sections are split with overlap)."""
    for size in range(min(len(left), len(right)), 9, -1):
        if left.endswith(right[:size]):
            return left + right[size:]
    return f"{left}\n\n{right}"


def panel_html(citation: Citation, section: SectionText | None) -> str:
    """The panel's content: document, heading path, and the section with the quote marked; all escaped."""
    quote = citation.quote or citation.text
    if section is None:
        note = ('<p class="kildepanel-merknad">Materialet er endret siden svaret ble gitt; '
                "her er utdraget svaret bygde på.</p>")
        document, heading, text = citation.document, citation.section, citation.text
    else:
        note, document, heading, text = "", section.document, section.heading, section.text
    path = " › ".join(html.escape(part.strip()) for part in heading.split(" > "))
    return (f'<div class="kildepanel"><div class="kildepanel-dok">[{citation.n}] {html.escape(document)}</div>'
            f'<div class="kildepanel-seksjon">{path}</div>{note}'
            f'<div class="kildepanel-tekst">{render.highlight(text, quote)}</div></div>')


def citation_for(choice: str, exchanges: list) -> Citation | None:
    """The citation behind ``kilde-<turn>-<n>`` in the conversation (turns count from 1)."""
    match = _CHOICE.match((choice or "").strip())
    if not match:
        return None
    turn, n = int(match.group(1)), int(match.group(2))
    if not 1 <= turn <= len(exchanges or []):
        return None
    answer = getattr(exchanges[turn - 1], "answer", None)
    return next((c for c in (answer.citations if answer else []) if c.n == n), None)


def build(assistant, conversation: gr.State) -> None:
    """The right-hand panel and its hidden trigger; call inside the page's ``gr.Blocks``.

    ``assistant`` is anything with ``current()`` (ui.live.LiveAssistant) or an Assistant.
    """
    with gr.Sidebar(label=PANEL_TITLE, open=False, position="right", width=460, elem_id="kildepanel") as sidebar:
        content = gr.HTML(EMPTY, elem_id="kildepanel-innhold")
    choice = gr.Textbox(visible="hidden", elem_id="kilde-valg")
    show = gr.Button(visible="hidden", elem_id="kilde-vis")

    def open_panel(chosen: str, exchanges: list):
        citation = citation_for(chosen, exchanges)
        if citation is None:
            return gr.Sidebar(open=True), EMPTY
        try:
            current = assistant.current() if hasattr(assistant, "current") else assistant
            section = whole_section(current.generation.chunks, citation)
        except Exception:  # the panel is an extra: fall back to the excerpt
            log.exception("finding the section of %s failed", chosen)
            section = None
        return gr.Sidebar(open=True), panel_html(citation, section)

    show.click(open_panel, [choice, conversation], [sidebar, content], api_visibility="private", queue=False,
               js="(chosen, conversation) => [window.kildeValg || chosen, conversation]")
