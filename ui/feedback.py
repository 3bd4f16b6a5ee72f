"""Rating answers: the chatbot's thumbs up/down with an optional comment on the page, and
the ``/feedback`` API endpoint (../shared/CONTRACT.md). Both store through
:class:`assistant.feedback.FeedbackStore`; maintainers export the ratings as evaluation
cases with ``python -m assistant feedback export``.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from assistant.errors import AssistantError, BadFeedback, FeedbackUnavailable
from assistant.feedback import MAX_COMMENT_CHARS, FeedbackStore
from ingest.index import Manifest

log = logging.getLogger(__name__)

THANKS = {"up": "Takk for vurderingen – svaret er merket som godt.",
          "down": "Takk for vurderingen – svaret er merket som feil eller mangelfullt."}
ASK_COMMENT = {
    "up": "Vil du si hva som var bra? (valgfritt)",
    "down": "Vil du si hva som var feil, og hva svaret burde ha sagt? (valgfritt)",
}
COMMENT_SAVED = "Takk! Kommentaren er lagret sammen med vurderingen."
WITHDRAWN = "Vurderingen er trukket tilbake."
NOT_AN_ANSWER = "Bare ferdige svar kan vurderes."

_FIELD_MESSAGES = {
    "rating": "Vurderingen må være «up» (godt svar) eller «down» (dårlig svar).",
    "answer": "Svaret må være JSON-objektet som /ask ga, sendt som tekst.",
    "question": "Spørsmålet mangler eller er for langt (høyst 2000 tegn).",
    "comment": f"Kommentaren må være tekst på høyst {MAX_COMMENT_CHARS} tegn.",
    "history": 'Samtalehistorikken har feil format. Den skal være en liste med '
               '{"role": "user" eller "assistant", "content": "tekst"}, eldste først.',
}


def error_message(error: BaseException) -> str:
    """The Norwegian sentence for a rating that could not be stored."""
    if isinstance(error, BadFeedback):
        return _FIELD_MESSAGES.get(error.field, "Vurderingen kunne ikke lagres slik den ble sendt.")
    if isinstance(error, FeedbackUnavailable):
        return "Vurderingen kunne ikke lagres akkurat nå. Prøv igjen senere, eller si fra til den som drifter assistenten."
    return "Noe gikk galt da vurderingen skulle lagres. Prøv igjen senere."


@dataclass(frozen=True)
class RatingPanel:
    """The components under the chat that thank for a rating and take the optional comment."""

    panel: gr.Column
    status: gr.Markdown
    comment: gr.Textbox
    send: gr.Button
    rated: gr.State  # {"ids": {answer key: row id}, "last": row id of the latest rating}


class FeedbackHandlers:
    """Stores ratings from the page and the API in ``store``, tagged with the index generation."""

    def __init__(self, store: FeedbackStore, index_dir: Path, history_of: Callable[[list], list[dict]]) -> None:
        self.store = store
        self.index_dir = Path(index_dir)
        self.history_of = history_of  # earlier exchanges -> the contract's history turns

    def generation(self) -> str | None:
        """The generation the index serves now (the one that answered, barring a swap in between)."""
        try:
            manifest = Manifest.read(self.index_dir)
        except AssistantError:
            return None
        return manifest.generation if manifest else None

    # --- API ------------------------------------------------------------------------

    def api(self, question: str, answer: str, rating: str, comment: str = "",
            history: list[dict] | None = None) -> dict:
        """Store a user's rating of an answer; returns {"stored": true, "id": N}.

        question: the question that was asked. answer: the JSON object /ask returned, as a string.
        rating: "up" or "down". comment: optional free text. history: optional earlier turns, oldest first.
        """
        try:
            feedback_id = self.store.add(question, answer, rating, comment, history, self.generation())
        except AssistantError as exc:
            raise gr.Error(error_message(exc)) from None
        except Exception:
            log.exception("storing a rating from the API failed")
            raise gr.Error(error_message(RuntimeError())) from None
        return {"stored": True, "id": feedback_id}

    # --- the page ---------------------------------------------------------------------

    def rate(self, exchanges: list | None, rated: dict | None, data: gr.LikeData):
        """A thumb was clicked (or clicked again to take it back): store, change or remove the
        rating of that answer, and show the comment box. Returns (rated, panel, status, comment, send)."""
        rated = {"ids": dict((rated or {}).get("ids", {})), "last": (rated or {}).get("last")}
        exchanges = list(exchanges or [])
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = int(index) // 2  # the chat alternates question, answer
        exchange = exchanges[turn] if 0 <= turn < len(exchanges) else None
        if exchange is None or getattr(exchange, "answer", None) is None:
            return rated, *self._panel(NOT_AN_ANSWER, ask_comment=False)
        key = _answer_key(turn, exchange.question, exchange.answer.answer)
        known = rated["ids"].get(key)
        rating = {True: "up", False: "down"}.get(data.liked) if isinstance(data.liked, bool) else None
        try:
            if rating is None:  # the same thumb clicked again: the rating is taken back
                if known is not None:
                    self.store.remove(known)
                    rated["ids"].pop(key)
                rated["last"] = None
                return rated, *self._panel(WITHDRAWN, ask_comment=False)
            if known is not None and self.store.update(known, rating=rating):
                feedback_id = known
            else:
                feedback_id = self.store.add(exchange.question, exchange.answer, rating, "",
                                             self.history_of(exchanges[:turn]), self.generation())
        except AssistantError as exc:
            return rated, *self._panel(error_message(exc), ask_comment=False)
        except Exception:
            log.exception("storing a rating failed")
            return rated, *self._panel(error_message(RuntimeError()), ask_comment=False)
        rated["ids"][key] = feedback_id
        rated["last"] = feedback_id
        return rated, *self._panel(f"**{THANKS[rating]}** {ASK_COMMENT[rating]}", ask_comment=True)

    def comment(self, text: str, rated: dict | None):
        """Save the comment on the latest rating. Returns (status, comment box, send button)."""
        feedback_id = (rated or {}).get("last")
        if feedback_id is None:
            return NOT_AN_ANSWER, gr.update(visible=False), gr.update(visible=False)
        if not (text or "").strip():
            return gr.skip(), gr.skip(), gr.skip()
        try:
            self.store.update(feedback_id, comment=text)
        except AssistantError as exc:
            return error_message(exc), gr.skip(), gr.skip()
        return COMMENT_SAVED, gr.update(value="", visible=False), gr.update(visible=False)

    @staticmethod
    def _panel(status: str, *, ask_comment: bool) -> tuple:
        """Updates for (panel, status, comment box, send button)."""
        return (gr.update(visible=True), status,
                gr.update(value="", visible=ask_comment), gr.update(visible=ask_comment))


def _answer_key(turn: int, question: str, answer: str) -> str:
    """Which answer a thumb belongs to, so clicking it again changes that rating instead of adding one."""
    return f"{turn}:" + hashlib.sha1(f"{question}\0{answer}".encode()).hexdigest()[:16]


def rating_panel(chatbot: gr.Chatbot, conversation: gr.State, handlers: FeedbackHandlers) -> RatingPanel:
    """Put the comment box under ``chatbot`` (call right after creating it) and wire the thumbs to ``handlers``."""
    rated = gr.State({"ids": {}, "last": None})
    with gr.Column(visible=False, elem_id="vurdering") as panel:
        status = gr.Markdown(elem_id="vurdering-status")
        with gr.Row(equal_height=True):
            comment = gr.Textbox(label="Kommentar til vurderingen", show_label=False, lines=2, max_lines=8, scale=5,
                                 max_length=MAX_COMMENT_CHARS, elem_id="kommentar",
                                 placeholder="Skriv en kommentar til den som vedlikeholder assistenten")
            send = gr.Button("Send kommentar", scale=1, min_width=120, elem_id="send-kommentar")
    parts = RatingPanel(panel, status, comment, send, rated)
    chatbot.like(handlers.rate, [conversation, rated], [rated, panel, status, comment, send],
                 api_visibility="private", queue=False)
    for event in (send.click, comment.submit):
        event(handlers.comment, [comment, rated], [status, comment, send], api_visibility="private", queue=False)
    # An emptied chat («Ny samtale», the bin icon) has nothing left to comment on.
    chatbot.change(_hide_when_empty, chatbot, panel, api_visibility="private", queue=False, show_progress="hidden")
    return parts


def _hide_when_empty(messages: Sequence | None):
    return gr.update(visible=False) if not messages else gr.skip()
