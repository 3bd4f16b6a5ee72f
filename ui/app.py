"""The Gradio app: a Norwegian chat over the project material whose answers link their
``[n]`` markers to the cited passages, a «Hvem gjorde hva» table of participants, and
the ``/ask`` API endpoint of ../shared/CONTRACT.md. A thin shell over ``assistant``.
"""

import html
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from assistant.errors import AssistantError
from assistant.feedback import FeedbackStore
from assistant.models import Answer
from ingest.participants import Participant
from ingest.settings import Settings
from ui import download, feedback, i18n, library_tab, openai_api, render, sources_panel, timeline
from ui.live import LiveAssistant

log = logging.getLogger(__name__)

TITLE = "Prosjektassistenten"
STATIC = Path(__file__).resolve().parent / "static"
# Answers are retrieval plus (optionally) a language model; a few at once keeps one
# slow answer from holding up everyone else without overloading a small server.
CONCURRENCY = 4

GENERAL_EXAMPLES = [
    ("Om prosjektet", "Hva var målet med prosjektet?"),
    ("Om prosjektet", "Hvilke kommuner samarbeidet i prosjektet?"),
]
FOLLOW_UP_EXAMPLE = ("Oppfølging", "Hvilken stilling hadde vedkommende?")


def examples(people: list[Participant]) -> list[tuple[str, str]]:
    """Example questions for the material at hand: the people questions are made from the
    participant records (a role one person held, the most shared role in a year when
    someone came or went), so added material brings its own examples."""
    out = list(GENERAL_EXAMPLES)
    holders: dict[str, set[str]] = {}
    for p in people:
        holders.setdefault(p.role, set()).add(p.name)
    single = next((p.role for p in people if len(holders[p.role]) == 1 and p.title), None)
    if single:
        out.append(("Personer og roller", f"Hvem var {single}?"))
    if holders:
        shared = max(holders, key=lambda role: len(holders[role]))
        changes = sorted(v[:4] for p in people for v in (p.start, p.end) if v)
        if changes:
            out.append(("Personer og roller", f"Hvem var {shared} i {changes[0]}?"))
    if single:
        out.append(FOLLOW_UP_EXAMPLE)
    return out


def search_placeholder(people: list[Participant]) -> str:
    """«For eksempel «<an organisation>» eller «<a surname>»», from the records."""
    someone = next((p for p in people if p.organisation), None)
    if someone is None:
        return "Navn, stilling eller sted"
    return f"For eksempel «{someone.organisation.split()[0]}» eller «{someone.name.split()[-1]}»"


@dataclass(frozen=True)
class Exchange:
    """One question in the conversation and what came back: an answer or an error message."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    final: bool = True


def chat_messages(exchanges: list[Exchange]) -> list[dict]:
    """The Chatbot value for a conversation: escaped HTML bubbles, answers numbered for unique ids."""
    messages = []
    for turn, ex in enumerate(exchanges, start=1):
        messages.append({"role": "user", "content": render.question_html(ex.question)})
        if ex.error is not None:
            content = render.error_html(ex.error)
        elif ex.answer is None:
            content = render.pending_html()
        else:
            content = render.answer_html(ex.answer, turn, final=ex.final)
        messages.append({"role": "assistant", "content": content})
    return messages


def prior_turns(exchanges: list[Exchange]) -> list[dict]:
    """Earlier answered turns in the contract's history format, oldest first."""
    turns = []
    for ex in exchanges:
        if ex.answer is not None and ex.final:
            turns.append({"role": "user", "content": ex.question})
            turns.append({"role": "assistant", "content": ex.answer.answer})
    return turns


class Handlers:
    """The app's event functions, bound to one assistant (or the error that kept it from starting)."""

    def __init__(self, assistant_or_error) -> None:
        self.assistant = None if isinstance(assistant_or_error, BaseException) else assistant_or_error
        self.startup_error = assistant_or_error if isinstance(assistant_or_error, BaseException) else None
        self._people: list[Participant] | None = None

    # --- chat -----------------------------------------------------------------------

    def respond(self, question: str, exchanges: list[Exchange] | None) -> Iterator[tuple]:
        """Validate, show the question at once, then stream the answer into the last bubble.

        Yields (question box, chatbot, conversation state). Bad input is stopped by
        ``validate`` and leaves the text in the box; every other failure ends up as a
        bubble, never a traceback.
        """
        exchanges = list(exchanges or [])
        try:
            text = render.check_question(question)
        except AssistantError:  # the validator has already said why, next to the box
            yield gr.skip(), gr.skip(), gr.skip()
            return
        if self.assistant is None:
            done = [*exchanges, Exchange(text, error=render.error_message(self.startup_error))]
            yield "", chat_messages(done), done
            return
        yield "", chat_messages([*exchanges, Exchange(text)]), exchanges
        last = None
        try:
            for partial in self.assistant.stream(text, prior_turns(exchanges)):
                last = partial
                current = [*exchanges, Exchange(text, partial, final=False)]
                yield gr.skip(), chat_messages(current), exchanges
        except AssistantError as exc:
            done = [*exchanges, Exchange(text, error=render.error_message(exc))]
            yield gr.skip(), chat_messages(done), done
            return
        except Exception as exc:  # a bug must not reach the page as a traceback
            log.exception("answering %r failed", text)
            done = [*exchanges, Exchange(text, error=render.error_message(exc))]
            yield gr.skip(), chat_messages(done), done
            return
        done = [*exchanges, Exchange(text, last) if last else Exchange(text, error=render.error_message(RuntimeError()))]
        yield gr.skip(), chat_messages(done), done

    @staticmethod
    def validate(question: str, exchanges: list[Exchange] | None) -> list[dict]:
        """Says next to the question box, in Norwegian, why an empty or overlong question can't be asked."""
        try:
            render.check_question(question)
        except AssistantError as exc:
            return [gr.validate(False, render.error_message(exc)), gr.validate(True, "")]
        return [gr.validate(True, ""), gr.validate(True, "")]

    # --- API ------------------------------------------------------------------------

    def ask(self, question: str, history: list[dict] | None = None) -> dict:
        """Answer one question (with optional earlier turns) and return the contract's JSON object.

        history: earlier turns, oldest first, each {"role": "user" | "assistant", "content": "..."}.
        """
        if self.assistant is None:
            raise gr.Error(render.error_message(self.startup_error))
        try:
            return self.assistant.ask(render.check_question(question), history or None).contract()
        except AssistantError as exc:
            raise gr.Error(render.error_message(exc)) from None
        except Exception as exc:
            log.exception("API question %r failed", question)
            raise gr.Error(render.error_message(exc)) from None

    # --- participants -----------------------------------------------------------------

    def people(self) -> list[Participant]:
        """The participant records of the index in use; empty if the assistant could not start."""
        if self._people is None:
            if self.assistant is None:
                return []
            return list(self.assistant.participants())  # follows the index when new material is added
        return self._people

    def table(self, text: str, role: str | None, organisation: str | None) -> tuple[list[list[str]], str]:
        """The filtered table rows and the count line above them."""
        people = self.people()
        chosen = render.filter_participants(people, text, role, organisation)
        return [render.participant_row(p) for p in chosen], render.count_text(len(chosen), len(people))


def header_html(settings: Settings) -> str:
    """Title and a two-sentence guide; says whether a language model writes the answers."""
    from ingest.sources import project_name

    name = project_name(settings.corpus_dir)
    about = f"Spør om prosjektet «{html.escape(name)}»." if name else "Spør om prosjektmaterialet."
    how = ("Svarene skrives av en språkmodell, men bygger bare på prosjektmaterialet."
           if settings.llm_backend != "none" else
           "Svarene er setninger hentet fra prosjektmaterialet.")
    return (
        '<header class="topp"><h1>Prosjektassistenten</h1>'
        f"<p>{about} {how} "
        'Tallene i klammer, som <span class="eksempel-markor">[1]</span>, viser til kildene under svaret – '
        "klikk på dem for å se teksten svaret bygger på.</p></header>"
    )


def build_app(assistant_or_error, settings: Settings) -> gr.Blocks:
    """The whole page for one assistant, or for the error that kept it from starting."""
    live = None if isinstance(assistant_or_error, BaseException) else LiveAssistant(settings, assistant_or_error)
    handlers = Handlers(live or assistant_or_error)
    from ingest.sources import project_name

    ratings = feedback.FeedbackHandlers(FeedbackStore(settings.feedback_db), settings.index_dir, prior_turns)
    files = download.ConversationFiles(project_name(settings.corpus_dir))
    try:
        people = handlers.people()
    except Exception as exc:  # the table is a side panel: the chat must still work
        log.exception("reading participants failed")
        people, people_error = [], render.error_message(exc)
        handlers._people = people
    else:
        people_error = None

    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=False) as app:
        gr.HTML(header_html(settings))
        if handlers.startup_error is not None:
            gr.HTML(render.startup_banner_html(handlers.startup_error), elem_id="oppstartsfeil")

        conversation = gr.State([])
        with gr.Tabs():
            with gr.Tab("Spør prosjektet", id="chat"):
                chatbot = gr.Chatbot(
                    label="Samtale",
                    show_label=False,
                    elem_id="samtale",
                    height=560,
                    render_markdown=False,  # we send escaped HTML; markdown would reinterpret corpus text
                    sanitize_html=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    feedback_options=("Like", "Dislike"),
                    buttons=[],
                    placeholder=(
                        "<div class=\"tom-samtale\"><strong>Still et spørsmål om prosjektet.</strong><br>"
                        "Du kan spørre om hva prosjektet gjorde, hvem som hadde hvilke roller og når, "
                        "og stille oppfølgingsspørsmål.</div>"
                    ),
                )
                feedback.rating_panel(chatbot, conversation, ratings)
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Spørsmål",
                        placeholder="Skriv spørsmålet ditt her, for eksempel «Hva var målet med prosjektet?», og trykk Enter",
                        lines=1,
                        max_lines=6,
                        scale=5,
                        elem_id="sporsmal",
                        autofocus=True,
                    )
                    send = gr.Button("Spør", variant="primary", scale=1, min_width=90, elem_id="send")
                gr.Markdown("**Prøv for eksempel** (klikk for å spørre):", elem_classes="eksempel-tittel")
                with gr.Row(elem_classes="eksempler"):
                    example_buttons = [
                        (gr.Button(f"{kind}: {text}", size="sm", variant="secondary", elem_classes="eksempel"), text)
                        for kind, text in examples(people)
                    ]
                with gr.Row():
                    new_chat = gr.Button("Ny samtale", size="sm", variant="secondary", elem_id="ny-samtale")
                    download.download_button(chatbot, conversation, files)

            with gr.Tab("Hvem gjorde hva", id="personer") as people_tab:
                gr.Markdown(
                    "Alle som er nevnt i prosjektmaterialet, med rolle og periode slik kilden oppgir den. "
                    "Søk på navn, stilling eller sted, eller filtrer på rolle og organisasjon."
                )
                if people_error:
                    gr.HTML(render.error_html(people_error))
                elif handlers.startup_error is not None:
                    gr.HTML(render.error_html(render.error_message(handlers.startup_error)))
                with gr.Row():
                    search = gr.Textbox(label="Søk", placeholder=search_placeholder(people), scale=2, elem_id="sok")
                    role = gr.Dropdown(render.role_choices(people), value=render.ALL_ROLES, label="Rolle", elem_id="rolle")
                    org = gr.Dropdown(render.organisation_choices(people), value=render.ALL_ORGANISATIONS,
                                      label="Organisasjon", elem_id="organisasjon")
                plot = gr.Plot(timeline.figure(people), show_label=False, elem_id="tidslinje")
                rows, count = handlers.table("", None, None) if not people_error else ([], "")
                counter = gr.Markdown(count, elem_id="antall")
                table = gr.Dataframe(
                    value=rows,
                    headers=render.PARTICIPANT_COLUMNS,
                    datatype=["str"] * len(render.PARTICIPANT_COLUMNS),
                    interactive=False,
                    wrap=True,
                    elem_id="personer-tabell",
                    column_widths=["13%", "12%", "15%", "12%", "11%", "10%", "12%", "15%"],
                    max_height=720,
                )

            with gr.Tab("Legg til materiale", id="materiale"):
                library_tab.build(live, settings)

        sources_panel.build(live or assistant_or_error, conversation)

        submit = dict(
            fn=handlers.respond,
            validator=handlers.validate,
            inputs=[question, conversation],
            outputs=[question, chatbot, conversation],
            api_visibility="private",
            concurrency_limit=CONCURRENCY,
            concurrency_id="answer",
            show_progress="minimal",
        )
        send.click(**submit)
        question.submit(**submit)
        for button, text in example_buttons:
            button.click(lambda t=text: t, None, question, api_visibility="private", queue=False).then(**submit)
        new_chat.click(lambda: ("", [], []), None, [question, chatbot, conversation], api_visibility="private", queue=False)
        # The chatbot's own bin icon empties the display; forget the conversation with it.
        chatbot.clear(lambda: [], None, conversation, api_visibility="private", queue=False)

        filters = [search, role, org]
        for component in filters:
            component.change(handlers.table, filters, [table, counter], api_visibility="private", queue=False)
            component.change(lambda *f: timeline.figure(render.filter_participants(handlers.people(), *f)), filters,
                             plot, api_visibility="private", queue=False)

        def people_again(*chosen):
            """Dropdowns, table and timeline anew: added material may bring people, roles and organisations."""
            people = handlers.people()
            return (gr.Dropdown(choices=render.role_choices(people)),
                    gr.Dropdown(choices=render.organisation_choices(people)),
                    *handlers.table(*chosen), timeline.figure(render.filter_participants(people, *chosen)))

        people_tab.select(people_again, filters, [role, org, table, counter, plot], api_visibility="private", queue=False)

        gr.api(handlers.ask, api_name="ask", concurrency_limit=CONCURRENCY, concurrency_id="answer",
               api_description="Svar på ett spørsmål som JSON (se CONTRACT.md).")
        gr.api(ratings.api, api_name="feedback", api_description="Lagre en vurdering (up/down) av et svar fra /ask.")
    # The OpenAI-compatible /v1 over the same assistant; launch() serves it beside the page.
    app.chat_api = openai_api.ChatAPI(live or assistant_or_error, settings)
    return app


def launch(app: gr.Blocks, settings: Settings, **kwargs):
    """Serve ``app`` as ``python -m ui`` does: host, port and optional basic auth from ``settings``.

    Extra keyword arguments go to ``gr.Blocks.launch`` (tests pass ``prevent_thread_lock``).
    """
    auth = None
    if settings.auth_user and settings.auth_password:
        auth = (settings.auth_user, settings.auth_password.get_secret_value())
    options = dict(
        server_name=settings.host,
        server_port=settings.port,
        auth=auth,
        auth_message="Logg inn med brukernavnet og passordet for prosjektassistenten.",
        theme=theme(),
        css_paths=[STATIC / "app.css"],
        head_paths=[STATIC / "head.html", STATIC / "sources_panel.html"],
        footer_links=["api"],
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        show_error=False,
        quiet=True,
        **i18n.launch_options(),
    )
    chat_api = getattr(app, "chat_api", None)
    if chat_api is not None:  # routes given to the app Gradio creates, ahead of its own
        # Merged, not replaced: app_kwargs already carries the bokmål middleware (ui/i18n.py).
        options["app_kwargs"] = {**options.get("app_kwargs", {}), "routes": [chat_api.mount()]}
    options.update(kwargs)
    app.queue(default_concurrency_limit=CONCURRENCY)
    return app.launch(**options)


def theme() -> gr.themes.Base:
    """The default look with system fonts, so the page loads nothing from the internet."""
    system = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
    return gr.themes.Default(
        primary_hue="blue",
        font=system,
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )
