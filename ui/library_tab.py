"""The «Legg til materiale» tab and the ``/add_document`` API over :mod:`ui.library`:
upload files, watch the ingest's progress, see and remove what the index holds.

Changes run one at a time (a Gradio concurrency group of one, and the ingest lock in
:class:`ui.live.LiveAssistant`); questions go on being answered meanwhile.
"""
from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import gradio as gr

from ingest.settings import Settings
from ui import library
from ui.library import Outcome
from ui.live import LiveAssistant

log = logging.getLogger(__name__)

T = TypeVar("T")
FILE_TYPES = list(library.KINDS)
INTRO = (
    f"Last opp {library.ACCEPTED}, høyst {library.MAX_BYTES // 1024 // 1024} MB per fil. "
    "Filene kontrolleres, lagres i materialmappen og leses inn; så snart innlesingen er ferdig, kan du spørre om dem. "
    "En skannet PDF leses med tekstgjenkjenning, som tar noen sekunder per side. Et regneark med kolonnene Navn og "
    "Rolle (eller Stilling) blir deltakerposter; andre regneark leses rad for rad. "
    "Spørsmål besvares som før mens det skjer."
)
CHANGES = "material"  # one concurrency group: uploads and removals never run side by side


def outcomes_html(outcomes: list[Outcome]) -> str:
    """The result list under the upload button, escaped."""
    if not outcomes:
        return ""
    items = "".join(
        f'<li class="{"ok" if o.status == "ok" else "feil"}">{html.escape(o.message)}</li>' for o in outcomes
    )
    return f'<div class="opplasting-resultat" role="status"><ul>{items}</ul></div>'


def _in_background(work: Callable[[Callable[[int, int], None]], T], progress: gr.Progress, label: str) -> T:
    """Run ``work`` in its own thread and show the ingest's progress (passages embedded of all to
    embed, with Gradio's ETA) until it is done; seconds while nothing is being embedded."""
    result: dict = {}
    embedded: dict[str, int] = {}

    def report(done: int, total: int) -> None:
        embedded.update(done=done, total=total)

    def run() -> None:
        try:
            result["value"] = work(report)
        except BaseException as exc:  # handed back to the request thread below
            result["error"] = exc

    worker = threading.Thread(target=run, name="ingest", daemon=True)
    started = time.monotonic()
    worker.start()
    while worker.is_alive():
        if embedded.get("total"):
            progress((embedded["done"], embedded["total"]), desc=label, unit="avsnitt")
        else:
            progress((round(time.monotonic() - started), None), desc=label, unit="s")
        worker.join(0.5)
    if "error" in result:
        raise result["error"]
    return result["value"]


class LibraryHandlers:
    """The tab's event functions for one live assistant."""

    def __init__(self, live: LiveAssistant, settings: Settings) -> None:
        self.live = live
        self.settings = settings

    def _closed(self, request: gr.Request | None) -> str | None:
        return library.closed_reason(self.settings, getattr(request, "username", None))

    def listing(self):
        """The documents table and the choices of the remove dropdown."""
        names = library.removable(self.settings)
        return library.document_rows(self.settings), gr.Dropdown(choices=names, value=None)

    def upload(self, files: list[str] | None, request: gr.Request, progress=gr.Progress()):
        """Add the chosen files; yields the result list, the documents table, the dropdown and the cleared picker."""
        closed = self._closed(request)
        if closed:
            yield outcomes_html([Outcome("error", "", closed)]), *self.listing(), gr.skip()
            return
        paths = [Path(f) for f in files or []]
        if not paths:
            yield outcomes_html([Outcome("error", "", "Velg én eller flere filer først.")]), *self.listing(), gr.skip()
            return
        progress(0, desc="Kontrollerer filene …")
        outcomes = _in_background(lambda report: library.add_files(self.live, [(p, p.name) for p in paths], report),
                                  progress, "Leser inn materialet …")
        yield outcomes_html(outcomes), *self.listing(), None

    def remove(self, name: str | None, request: gr.Request, progress=gr.Progress()):
        """Remove the chosen document; yields the result, the documents table and the dropdown."""
        closed = self._closed(request)
        if closed:
            return outcomes_html([Outcome("error", "", closed)]), *self.listing()
        if not name:
            return outcomes_html([Outcome("error", "", "Velg dokumentet som skal fjernes.")]), *self.listing()
        outcome = _in_background(lambda report: library.remove_document(self.live, name, report), progress, "Leser inn materialet på nytt …")
        return outcomes_html([outcome]), *self.listing()

    def add_document(self, file: str | None, request: gr.Request) -> dict:
        """Add one file and return {"status": "ok"|"error", "document": name, "message": Norwegian text},
        once the document can be asked about (or has been refused; nothing is then stored)."""
        closed = self._closed(request)
        if closed:
            return Outcome("error", "", closed).contract()
        if not file:
            return Outcome("error", "", "Ingen fil mottatt.").contract()
        path = Path(file)
        try:
            (outcome,) = library.add_files(self.live, [(path, path.name)])
        except Exception:  # a bug must not reach the client as a traceback
            log.exception("adding %s failed", path.name)
            outcome = Outcome("error", path.name, "Noe gikk galt da fila skulle legges til. Ingenting er lagret; "
                                                  "prøv igjen, eller kontakt den som drifter assistenten.")
        return outcome.contract()


def build(live: LiveAssistant | None, settings: Settings, startup_error: BaseException | None = None) -> None:
    """The tab's content (call inside ``gr.Tab``) and the ``/add_document`` endpoint."""
    gr.Markdown(INTRO)
    closed = library.closed_reason(settings) if live is not None else (
        "Assistenten er ikke klar, så materiale kan ikke legges til her ennå. Bygg indeksen med python -m ingest.")
    if closed:
        gr.HTML(f'<div class="stengt" role="alert">{html.escape(closed)}</div>', elem_id="stengt")
    open_ = closed is None
    files = gr.File(label="Filer", file_count="multiple", file_types=FILE_TYPES, interactive=open_,
                    elem_id="opplasting", height=150)
    add = gr.Button("Legg til", variant="primary", interactive=open_, elem_id="legg-til")
    result = gr.HTML("", elem_id="opplasting-resultat")
    gr.Markdown("### Dokumenter i materialet")
    handlers = LibraryHandlers(live, settings) if live is not None else None
    rows, choices = (library.document_rows(settings), library.removable(settings)) if live is not None else ([], [])
    table = gr.Dataframe(value=rows, headers=library.DOCUMENT_COLUMNS, datatype=["str"] * 4, interactive=False,
                         wrap=True, elem_id="dokumenter-tabell", max_height=420)
    with gr.Row(equal_height=False):
        chosen = gr.Dropdown(choices, value=None, label="Dokument som skal fjernes", interactive=open_,
                             elem_id="fjern-valg", scale=3)
        remove = gr.Button("Fjern dokumentet", variant="stop", interactive=open_, elem_id="fjern", scale=1)
    # The API's own input and output, out of sight: the page uses the multi-file picker above.
    api_file = gr.File(visible=False, file_types=None)
    api_result = gr.JSON(visible=False)
    api_trigger = gr.Button(visible=False)
    if handlers is None:
        return
    change = dict(concurrency_limit=1, concurrency_id=CHANGES, api_visibility="private")
    add.click(handlers.upload, [files], [result, table, chosen, files], show_progress="full", **change)
    remove.click(handlers.remove, [chosen], [result, table, chosen], show_progress="full", **change)
    api_trigger.click(handlers.add_document, [api_file], [api_result], api_name="add_document",
                      concurrency_limit=1, concurrency_id=CHANGES,
                      api_description="Legg til ett dokument; svarer når det kan spørres om (se CONTRACT.md).")
