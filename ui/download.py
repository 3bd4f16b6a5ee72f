"""«Last ned samtalen»: the conversation as a Markdown file, each question with its answer
and the numbered sources (document, section, quoted passage) under the answer, so the
answers can be checked and passed on without the app.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import gradio as gr

from ui.render import NO_ANSWER_TITLE

LABEL = "Last ned samtalen"
TITLE = "Samtale med prosjektassistenten"


def conversation_markdown(exchanges: Sequence, project: str | None = None) -> str:
    """The finished exchanges as Markdown; an exchange that failed shows its error message."""
    lines = [f"# {TITLE}", ""]
    if project:
        lines += [f"Prosjekt: {project}", ""]
    lines += ["Tallene i klammer, som [1], viser til kildene under hvert svar.", ""]
    for number, ex in enumerate(exchanges, start=1):
        lines += [f"## {number}. {_one_line(ex.question)}", ""]
        if ex.error is not None:
            lines += [f"*Ikke besvart: {_one_line(ex.error)}*", ""]
            continue
        answer = ex.answer
        text = answer.answer.strip() or NO_ANSWER_TITLE
        lines += [text, ""]
        if answer.notice:
            lines += [f"*Merknad: {_one_line(answer.notice)}*", ""]
        if answer.abstained or not answer.citations:
            continue
        lines += ["**Kilder**", ""]
        for c in sorted(answer.citations, key=lambda c: c.n):
            section = " › ".join(part.strip() for part in c.section.split(" > "))
            lines += [f"{c.n}. {c.document} – {section}", ""]
            lines += [f"   > {line}" if line.strip() else "   >" for line in c.text.strip().splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class ConversationFiles:
    """Writes conversations to files for the download button, in a folder of its own."""

    def __init__(self, project: str | None = None) -> None:
        self.project = project
        self._folder = tempfile.TemporaryDirectory(prefix="prosjektassistenten-samtaler-")

    def button(self, exchanges: Sequence | None):
        """The download button's update: the file for the finished exchanges, or disabled if there are none."""
        done = [ex for ex in exchanges or [] if ex.error is not None or (ex.answer is not None and ex.final)]
        if not done:
            return gr.update(value=None, interactive=False)
        text = conversation_markdown(done, self.project)
        # Named by content: sessions never overwrite each other's file, and an unchanged
        # conversation reuses its file.
        folder = Path(self._folder.name) / hashlib.sha1(text.encode()).hexdigest()[:16]
        folder.mkdir(exist_ok=True)
        path = folder / f"samtale-{date.today().isoformat()}.md"
        path.write_text(text, encoding="utf-8")
        return gr.update(value=str(path), interactive=True)


def download_button(chatbot: gr.Chatbot, conversation: gr.State, files: ConversationFiles) -> gr.DownloadButton:
    """The «Last ned samtalen» button, kept up to date with the conversation shown in ``chatbot``."""
    button = gr.DownloadButton(LABEL, value=None, interactive=False, size="sm", variant="secondary",
                               elem_id="last-ned")
    # The chat changes when an answer arrives, on «Ny samtale» and on the bin icon; the
    # conversation state is final by the time the chat shows the final answer.
    chatbot.change(files.button, conversation, button, api_visibility="private", queue=False, show_progress="hidden")
    return button
