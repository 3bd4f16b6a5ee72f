"""The UI without a browser: the pure rendering functions over real answers, and the real
Gradio server on loopback driven through gradio_client, httpx and ``python -m ui``."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, AuthenticationError

from assistant.errors import MAX_QUESTION_CHARS, BadHistory, EmptyQuestion, QuestionTooLong
from assistant.models import Answer, Citation
from ingest.errors import IndexMissing, IndexUnusable
from tests.conftest import CORPUS, make_settings
from tests.ui_server import ROOT, free_port, serve
from ui import render

LEADER = "Ina Synøve Borsheim"
LEADER_SECTION = "Om prosjektet > Involverte i prosjektet"
OFF_TOPIC = "Hvem er ordfører i Drammen?"


@pytest.fixture(scope="module")
def client(corpus_url):
    return Client(corpus_url, verbose=False)


# --- rendering (no server) ----------------------------------------------------------------


def test_answer_markers_link_to_sources_with_the_quote_highlighted(assistant):
    """Each [n] in an answer links to a closed source box holding the passage with the supporting sentence marked."""
    answer = assistant.ask("Hvem var prosjektleder?")

    page = render.answer_html(answer, turn=3)

    assert '<a class="kilde-lenke" href="#kilde-3-1" title="Vis kilde 1">[1]</a>' in page
    assert '<details class="kilde" id="kilde-3-1">' in page
    assert "Om prosjektet › Involverte i prosjektet" in page
    assert "<mark>Prosjektleder: Ina Synøve Borsheim – Bibliotekar Svelvik bibliotek</mark>" in page


def test_abstention_looks_different_and_shows_no_sources(assistant):
    """An abstention gets its own class and heading, and no source boxes or links."""
    answer = assistant.ask(OFF_TOPIC)

    page = render.answer_html(answer, turn=1)

    assert answer.abstained
    assert page.startswith('<div class="svar avstatt">')
    assert render.NO_ANSWER_TITLE in page
    assert "kilde" not in page


def test_everything_from_the_corpus_is_escaped():
    """Markup in answer text, headings, document names and passages reaches the page as text."""
    hostile = '<script>window.__xss=1</script><img src=x onerror="alert(1)">'
    answer = Answer(
        question="q",
        answer=f"Koden var {hostile} [1].",
        abstained=False,
        citations=[Citation(n=1, document=f"{hostile}.md", section=f"A > {hostile}", text=f"Før {hostile} etter.",
                            chunk_id="c", quote=f"{hostile} etter.")],
        notice=hostile,
    )

    page = render.answer_html(answer, turn=1) + render.question_html(hostile) + render.error_html(hostile)

    assert "<script" not in page and "<img" not in page
    assert page.count("&lt;script&gt;window.__xss=1&lt;/script&gt;") == 7


def test_the_words_an_answer_points_at_are_bold_and_still_escaped():
    """``**words**`` leading an answer (the reader's span) shows bold; markup inside stays text."""
    answer = Answer(question="q", answer="**Fylkes<b>kommunen</b>** [1]\n\nProsjektet ble finansiert av fylkeskommunen [1].",
                    abstained=False, citations=[Citation(n=1, document="d.md", section="S", text="t", chunk_id="c")])

    page = render.answer_html(answer, turn=1)

    assert '<p><strong class="svar-kjerne">Fylkes&lt;b&gt;kommunen&lt;/b&gt;</strong> <a class="kilde-lenke"' in page
    assert "**" not in page


def test_markers_without_a_citation_stay_plain_text():
    """A marker that names no citation is left as text instead of becoming a dead link."""
    answer = Answer(question="q", answer="Se [1] og [7].", abstained=False,
                    citations=[Citation(n=1, document="d.md", section="S", text="t", chunk_id="c")])

    page = render.answer_html(answer, turn=2)

    assert 'href="#kilde-2-1"' in page
    assert "[7]" in page and "kilde-2-7" not in page


def test_a_quote_stitched_from_two_sentences_is_highlighted_in_both_places():
    """A quote of two sentences joined by a newline marks both, each where it occurs in the passage."""
    text = "Første setning her.\n\n- Andre punkt i lista\n- Tredje punkt"

    marked = render.highlight(text, "Første setning her.\nTredje punkt")

    assert marked == "<mark>Første setning her.</mark>\n\n- Andre punkt i lista\n- <mark>Tredje punkt</mark>"


def test_streamed_partial_answers_show_no_sources_until_final(assistant):
    """While an answer streams it shows its text and a typing cursor; the sources come with the final answer."""
    answer = assistant.ask("Hvem var prosjektleder?")

    partial = render.answer_html(answer, turn=1, final=False)

    assert 'class="svar strommer"' in partial
    assert LEADER in partial and "<details" not in partial


def test_chat_shows_a_pending_bubble_then_the_answer_and_remembers_the_turn(assistant):
    """The chat shows «Leter …» at once, then the answer, and the next question is asked with that history."""
    from ui.app import Handlers

    handlers = Handlers(assistant)
    steps = list(handlers.respond("Hvem var prosjektleder?", []))
    _, first_chat, _ = steps[0]
    _, last_chat, conversation = steps[-1]
    *_, (_, follow_up, _) = handlers.respond("Hvilken stilling hadde hun?", conversation)

    assert render.SEARCHING in first_chat[-1]["content"]
    assert LEADER in last_chat[-1]["content"] and 'id="kilde-1-1"' in last_chat[-1]["content"]
    assert "Bibliotekar" in follow_up[-1]["content"] and 'id="kilde-2-1"' in follow_up[-1]["content"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (EmptyQuestion(), "Spørsmålet er tomt"),
        (QuestionTooLong(2345), f"Spørsmålet er 2345 tegn langt; grensen er {MAX_QUESTION_CHARS} tegn"),
        (IndexMissing("/tmp/x"), "Fant ingen indeks. Bygg den med `python -m ingest` (eller `make run`)."),
        (IndexUnusable("model mismatch"), "Bygg den på nytt med `python -m ingest`"),
        (BadHistory("x"), "Samtalehistorikken har feil format"),
        (RuntimeError("bug"), "Noe gikk galt under svaret"),
    ],
)
def test_errors_are_shown_in_norwegian(error, expected):
    """Every error a user can meet gets a Norwegian sentence saying what to do."""
    assert expected in render.error_message(error)


def test_participants_table_lists_every_record_with_source(assistant):
    """The table has one row per person and role, with the columns in order and the source section."""
    people = assistant.participants()

    rows = [render.participant_row(p) for p in people]

    leader = next(r for r in rows if r[0] == LEADER and r[1] == "Prosjektleder")
    assert ["Ina Synøve Borsheim", "Prosjektleder", "Bibliotekar", "Svelvik bibliotek", "", "hele prosjektet", "",
            "om-prosjektet.md: Om prosjektet › Involverte i prosjektet"] == leader
    assert 18 == len(rows)


def test_participants_filter_by_role_organisation_and_free_text(assistant):
    """Role and organisation dropdowns come from the data, and filters and free-text search combine."""
    people = assistant.participants()

    coordinators = render.filter_participants(people, "", "Prosjektkoordinator", render.ALL_ORGANISATIONS)
    in_drammen = render.filter_participants(people, "", "Prosjektkoordinator", "Drammen kommune")
    searched = render.filter_participants(people, "ramsøy", render.ALL_ROLES, render.ALL_ORGANISATIONS)
    two_words = render.filter_participants(people, "avdelingsleder askim", None, None)

    assert "Prosjektkoordinator" in render.role_choices(people)
    assert {"Drammen kommune", "Indre Østfold kommune", render.NO_ORGANISATION} <= set(render.organisation_choices(people))
    assert ["Madelen Ramsøy", "Ranveig Hushovd", "Frida Joakimsen Grønvold"] == [p.name for p in coordinators]
    assert ["Ranveig Hushovd", "Frida Joakimsen Grønvold"] == [p.name for p in in_drammen]
    assert [("Madelen Ramsøy", "rapportforfatter"), ("Madelen Ramsøy", "prosjektkoordinator")] == [
        (p.name, p.role) for p in searched
    ]
    assert ["Grethe Iversen"] == [p.name for p in two_words]


# --- the API on a real server -------------------------------------------------------------


def test_api_answers_with_the_contract_json(client):
    """`/ask` returns the contract's object: the leader's name, and a citation of the section naming her."""
    result = client.predict("Hvem var prosjektleder?", api_name="/ask")

    assert {"question", "answer", "abstained", "citations", "timings_ms"} <= set(result)
    assert LEADER in result["answer"]
    assert result["abstained"] is False
    assert any(LEADER_SECTION in c["section"] for c in result["citations"])
    assert {"n", "document", "section", "text", "chunk_id"} <= set(result["citations"][0])


def test_api_abstains_on_questions_outside_the_material(client):
    """A question the material cannot answer comes back abstained, with no citations."""
    result = client.predict(OFF_TOPIC, api_name="/ask")

    assert result["abstained"] is True
    assert [] == result["citations"]


def test_api_uses_the_history_for_follow_up_questions(client):
    """A follow-up question is answered about the person named earlier in the history."""
    history = [
        {"role": "user", "content": "Hvem var prosjektleder?"},
        {"role": "assistant", "content": "Ina Synøve Borsheim var prosjektleder (Bibliotekar, Svelvik bibliotek) [1]."},
    ]

    result = client.predict("Hvilken stilling hadde hun?", history, api_name="/ask")

    assert LEADER in result["answer"] and "Bibliotekar" in result["answer"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("",), "Spørsmålet er tomt"),
        (("   \n ",), "Spørsmålet er tomt"),
        (("x" * (MAX_QUESTION_CHARS + 1),), f"grensen er {MAX_QUESTION_CHARS} tegn"),
        (("Hvem var prosjektleder?", [{"rolle": "bruker"}]), "Samtalehistorikken har feil format"),
    ],
)
def test_api_rejects_bad_input_with_a_clear_message(client, args, expected):
    """Bad input through the API is a Norwegian error message, not a traceback."""
    with pytest.raises(AppError) as caught:
        client.predict(*args, api_name="/ask")

    assert expected in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_twenty_concurrent_clients_all_get_correct_answers(corpus_url):
    """Twenty users asking at once, each with their own connection, all get the right answer and no errors."""
    questions = {"Hvem var prosjektleder?": LEADER, "Hvem var prosjekteier?": "Jørgen Hovde", OFF_TOPIC: None}
    results, errors = {}, []

    def ask(i: int) -> None:
        question = list(questions)[i % len(questions)]
        try:
            results[i] = (question, Client(corpus_url, verbose=False).predict(question, api_name="/ask"))
        except Exception as exc:  # collected, asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert [] == errors
    assert 20 == len(results)
    for question, result in results.values():
        expected = questions[question]
        assert result["abstained"] is (expected is None)
        assert expected is None or expected in result["answer"]


# --- start-up and settings ----------------------------------------------------------------


def test_app_without_index_starts_and_says_how_to_build_it(tmp_path):
    """With no index the app still serves, and asking returns the Norwegian how-to-build message."""
    settings = make_settings(CORPUS, tmp_path / "missing", port=free_port())

    with serve(IndexMissing(tmp_path / "missing"), settings) as url:
        config = httpx.get(f"{url}config").text
        with pytest.raises(AppError) as caught:
            Client(url, verbose=False).predict("Hvem var prosjektleder?", api_name="/ask")

    assert "Fant ingen indeks" in config
    assert "Fant ingen indeks. Bygg den med `python -m ingest` (eller `make run`)." in str(caught.value)


def _ui_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **extra}


def test_python_m_ui_serves_even_without_an_index(tmp_path):
    """`python -m ui` with no index starts, tells the user (in Norwegian, through the page) how to build it."""
    port = free_port()
    env = _ui_env(ASSISTANT_INDEX_DIR=str(tmp_path / "none"), ASSISTANT_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "ui"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, proc.stderr.read() if proc.poll() is not None else line
        with pytest.raises(AppError) as caught:
            Client(f"http://127.0.0.1:{port}/", verbose=False).predict("Hvem var prosjektleder?", api_name="/ask")
    finally:
        proc.terminate()
        proc.wait(30)

    assert "Fant ingen indeks" in str(caught.value)


@pytest.mark.parametrize(
    ("env", "code", "message"),
    [
        ({}, 1, "error: cannot listen on 127.0.0.1:{port} (the port is in use)"),
        ({"ASSISTANT_PORT": "abc"}, 2, "error: setting ASSISTANT_PORT: Input should be a valid integer"),
        ({"ASSISTANT_PORT": "70000"}, 2, "error: setting ASSISTANT_PORT: 70000 is not a port number"),
        ({"ASSISTANT_OCR_MAX_PAGES": "0"}, 2,
         "error: setting ASSISTANT_OCR_MAX_PAGES: Input should be greater than or equal to 1"),
        ({"ASSISTANT_AUTH_USER": "bibliotek"}, 2, "error: set both ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD"),
    ],
)
def test_python_m_ui_bad_settings_exit_with_one_line(env, code, message):
    """Bad settings (a busy port, a non-number, half the login) give one English line and a non-zero exit."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        done = subprocess.run([sys.executable, "-m", "ui"], cwd=ROOT, env=_ui_env(**{"ASSISTANT_PORT": port, **env}),
                              capture_output=True, text=True, timeout=60)

    lines = done.stderr.splitlines()
    assert code == done.returncode
    assert 1 == len(lines), done.stderr
    assert lines[0].startswith(message.format(port=port))


# --- basic auth -----------------------------------------------------------------------------


def test_basic_auth_refuses_strangers_and_admits_the_user(assistant, corpus_index):
    """With a user and password set, unauthenticated requests are refused and a logged-in client gets answers."""
    settings = make_settings(CORPUS, corpus_index, port=free_port(), auth_user="bibliotek", auth_password="hemmelig-123")

    with serve(assistant, settings) as url:
        config = httpx.get(f"{url}config")
        call = httpx.post(f"{url}gradio_api/call/ask", json={"data": ["Hvem var prosjektleder?"]})
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False)
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("bibliotek", "feil-passord"), verbose=False)
        logged_in = Client(url, auth=("bibliotek", "hemmelig-123"), verbose=False)
        result = logged_in.predict("Hvem var prosjektleder?", api_name="/ask")

    assert 401 == config.status_code
    assert 401 == call.status_code
    assert LEADER in result["answer"]


def test_header_names_the_project_from_the_corpus_settings(tmp_path):
    """The page names the project given in the corpus folder's assistent.toml (escaped), and
    speaks of «prosjektmaterialet» when the folder names none."""
    from ui.app import header_html

    (tmp_path / "assistent.toml").write_text('[prosjekt]\nnavn = "Torget <b>i</b> Sandvik"\n')
    named = header_html(make_settings(tmp_path, tmp_path / "index"))
    unnamed = header_html(make_settings(tmp_path / "tom", tmp_path / "index"))
    assert "Spør om prosjektet «Torget &lt;b&gt;i&lt;/b&gt; Sandvik»." in named
    assert "Spør om prosjektmaterialet." in unnamed
