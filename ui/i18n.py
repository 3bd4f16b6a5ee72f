"""Gradio's own strings in bokmål, whatever language the visitor's browser asks for.

Gradio 6 ships a Norwegian bokmål translation (locale ``nb``) and picks the locale from
``navigator.language`` when its script starts. The login page is served without the
app's ``head`` or custom translations, so the only place that reaches every page early
enough is the HTML itself: :class:`NorwegianPage` (ASGI middleware) puts a small script
first in ``<head>`` that reports ``nb-NO`` as the browser language, and marks the page
``lang="nb"`` for screen readers. :data:`MISSING` fills the keys Gradio's ``nb`` file
lacks (it falls back to English for those) for the components this app uses.
"""
from __future__ import annotations

import json

import gradio as gr
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCALE = "nb"

# Labels Gradio writes in English outside its i18n (aria-label/title only, for screen
# readers and tooltips), as they appear on this app's pages.
FIXED_LABELS = {
    "Liked": "Du likte svaret",
    "Disliked": "Du likte ikke svaret",
    "More tabs": "Flere faner",
    "chatbot conversation": "Samtale",
    "Gradio footer navigation": "Bunntekst",
    "Copy table data": "Kopier tabellen",
    "Copied to clipboard": "Kopiert",
    "Fullscreen": "Fullskjerm",
    "Exit fullscreen mode": "Avslutt fullskjerm",
    "Open cell menu": "Åpne cellemenyen",
    "Table actions": "Tabellhandlinger",
    "Dataframe": "Tabell",
    "File upload": "Last opp fil",
    "Scroll down": "Rull ned",
    "Edit cell": "Rediger cellen",
}

# Runs before Gradio's module script (which is deferred), on the app page and the login page.
SCRIPT = """<script>
(function () {
  var langs = ["nb-NO", "nb", "no"];
  try {
    Object.defineProperty(Navigator.prototype, "language", { get: function () { return langs[0]; }, configurable: true });
    Object.defineProperty(Navigator.prototype, "languages", { get: function () { return langs.slice(); }, configurable: true });
  } catch (e) {}
  var fixed = %s;
  function translate(el) {
    ["aria-label", "title"].forEach(function (name) {
      var value = el.getAttribute && el.getAttribute(name);
      if (value && Object.prototype.hasOwnProperty.call(fixed, value)) el.setAttribute(name, fixed[value]);
    });
  }
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      if (record.type === "attributes") return translate(record.target);
      record.addedNodes.forEach(function (node) {
        if (node.nodeType !== 1) return;
        translate(node);
        node.querySelectorAll("[aria-label], [title]").forEach(translate);
      });
    });
  }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-label", "title"] });
})();
</script>""" % json.dumps(FIXED_LABELS, ensure_ascii=False)

# Gradio's English keys that its nb file (6.31) lacks, so they would show in English.
MISSING = {
    "chatbot.complete": "Ferdig",
    "chatbot.copy_message": "Kopier meldingen",
    "chatbot.copied_message": "Meldingen er kopiert",
    "chat_interface.new_chat": "Ny samtale",
    "chat_interface.message_placeholder": "Skriv en melding …",
    "chat_interface.additional_inputs": "Flere valg",
    "chat_interface.chatbot": "Samtale",
    "chat_interface.conversation": "Samtale",
    "common.download_all": "Last ned alle",
    "common.runs": "Kjøringer",
    "common.runs_description": "Se kjøringer lagret i denne nettleseren",
    "common.back_to_app": "Appen",
    "common.back_to_app_description": "Tilbake til appen",
    "common.progress": "Framdrift",
    "common.record": "Ta opp",
    "common.stop_recording": "Stopp opptaket",
    "common.run": "Kjør",
    "dataframe.import_empty_file": "Filen er tom.",
    "dataframe.import_no_column_names": "Filen har ingen kolonnenavn.",
    "dataframe.filter": "Filtrer",
    "dataframe.clear_filter": "Fjern filtrene",
    "status.queue_position": "I kø: {position} av {size}",
}


class NorwegianPage:
    """ASGI middleware: every HTML page starts with :data:`SCRIPT` and says ``lang="nb"``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                is_html = headers.get("content-type", "").startswith("text/html")
                if not is_html or headers.get("content-encoding"):
                    start = None
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = norwegian(b"".join(body).decode("utf-8")).encode("utf-8")
            headers = MutableHeaders(raw=start["headers"])
            headers["content-length"] = str(len(page))
            await send(start)
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, capture)


def norwegian(page: str) -> str:
    """``page`` with the locale script first in ``<head>`` and the document language set to bokmål."""
    if "<head>" not in page:
        return page
    page = page.replace("<head>", "<head>" + SCRIPT, 1)
    return page.replace('lang="en"', f'lang="{LOCALE}"', 1)


def launch_options() -> dict:
    """Keyword arguments for ``gr.Blocks.launch`` that make Gradio speak bokmål."""
    return {
        "app_kwargs": {"middleware": [Middleware(NorwegianPage)]},
        "i18n": gr.I18n(**{LOCALE: MISSING}),
    }
