"""The page in a real headless Chromium (Debian's ``chromium`` driven by Playwright):
asking, following a source marker, follow-ups, abstentions, input errors, the
participants tab, and corpus HTML shown as text without ever running.

Screenshots go to tests/artifacts/; with UPDATE_SCREENSHOT=1 the README's
docs/screenshot.png is rewritten from the real app too.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from ingest.errors import IndexMissing
from tests.conftest import CORPUS, make_settings
from tests.ui_server import ROOT, UI_DATA, free_port, serve

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = ROOT / "tests" / "artifacts"
TIMEOUT = 30_000  # ms; answers take well under a second, the first page load a few
# Playwright's expect() waits 5 s by default, whatever the page's timeout; on a busy 2-core CI
# machine a validation round trip once took longer. Every browser test module imports this one.
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright; a missing browser is a failure with the fix, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with 'apt-get install -y chromium' to run the browser tests")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def url(assistant, corpus_index):
    with serve(assistant, make_settings(CORPUS, corpus_index, port=free_port())) as url:
        yield url


@pytest.fixture
def page(browser, url) -> Page:
    """A fresh Norwegian-locale tab on the app, failing the test on any script error."""
    context = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    expect(page.get_by_role("heading", name="Prosjektassistenten")).to_be_visible()
    yield page
    context.close()
    assert [] == errors


def ask(page: Page, question: str) -> None:
    """Type a question and press Enter, as a user does, then wait for the answer to settle."""
    answers_before = page.locator("#samtale .svar:not(.venter)").count()
    box = page.get_by_role("textbox", name="Spørsmål")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#samtale .svar:not(.venter):not(.strommer)")).to_have_count(answers_before + 1)


def last_answer(page: Page):
    return page.locator("#samtale .svar").last


def participants():
    """The bundled participant records, as the page's examples are made from them."""
    from ingest.participants import load_participants

    return load_participants(CORPUS / "deltakere.yaml").participants


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, animations="disabled")


def test_asking_shows_the_answer_and_a_marker_opens_its_source(page):
    """A typed question gets an answer with [1]; clicking it opens the cited passage with the quote highlighted."""
    ask(page, "Hvem var prosjektleder?")
    answer = last_answer(page)
    passage = answer.locator("details.kilde blockquote")

    expect(answer.locator(".svar-tekst")).to_contain_text("Ina Synøve Borsheim")
    expect(answer.locator("summary")).to_contain_text("Om prosjektet › Involverte i prosjektet")
    expect(passage).to_be_hidden()
    answer.get_by_role("link", name="[1]").click()

    expect(passage).to_be_visible()
    expect(passage.locator("mark")).to_have_text("Prosjektleder: Ina Synøve Borsheim – Bibliotekar Svelvik bibliotek")
    expect(passage.locator("mark")).to_be_in_viewport()
    screenshot(page, "svar-med-kilde.png")
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(ARTIFACTS / "svar-med-kilde.png", ROOT / "docs" / "screenshot.png")


def test_example_buttons_ask_and_a_follow_up_uses_the_conversation(page):
    """The example buttons ask at once, and the follow-up example is answered about the person just named."""
    from ui.app import examples

    people = participants()
    (role_question,) = [text for kind, text in examples(people) if kind == "Personer og roller" and " i " not in text]
    role = role_question.removeprefix("Hvem var ").rstrip("?")
    (holder,) = [p for p in people if p.role == role]
    page.get_by_role("button", name=f"Personer og roller: {role_question}").click()
    expect(page.locator("#samtale .svar:not(.venter)")).to_have_count(1)
    page.get_by_role("button", name="Oppfølging: Hvilken stilling hadde vedkommende?").click()
    expect(page.locator("#samtale .svar:not(.venter)")).to_have_count(2)

    expect(last_answer(page)).to_contain_text(holder.name)
    expect(last_answer(page)).to_contain_text(holder.title)
    # The second answer's sources have their own ids, so its markers open its own sources.
    last_answer(page).get_by_role("link", name="[1]").click()
    expect(page.locator("#kilde-2-1 blockquote")).to_be_visible()
    expect(page.locator("#kilde-1-1 blockquote")).to_be_hidden()


def test_an_abstention_looks_different_and_has_no_sources(page):
    """A question outside the material shows «Fant ikke svar i prosjektmaterialet», styled apart, with no sources."""
    ask(page, "Hvem er ordfører i Drammen?")
    answer = last_answer(page)

    expect(answer).to_have_class("svar avstatt")
    expect(answer).to_contain_text("Fant ikke svar i prosjektmaterialet")
    expect(answer.locator("details, a")).to_have_count(0)
    screenshot(page, "avstatt.png")


@pytest.mark.parametrize(
    ("question", "message"),
    [("   ", "Spørsmålet er tomt"), ("x" * 2001, "Spørsmålet er 2001 tegn langt; grensen er 2000 tegn")],
)
def test_an_empty_or_too_long_question_is_explained_next_to_the_box(page, question, message):
    """Pressing Spør with an empty or overlong question shows a Norwegian message and keeps the conversation."""
    ask(page, "Hvem var prosjektleder?")
    page.get_by_role("textbox", name="Spørsmål").fill(question)
    page.get_by_role("button", name="Spør", exact=True).click()

    expect(page.get_by_text(message)).to_be_visible()
    expect(page.locator("#samtale .svar")).to_have_count(1)
    expect(page.get_by_role("textbox", name="Spørsmål")).to_have_value(question)


def test_new_conversation_forgets_the_earlier_questions(page):
    """«Ny samtale» empties the chat, and a follow-up afterwards has nobody to refer to."""
    ask(page, "Hvem var prosjektleder?")
    page.get_by_role("button", name="Ny samtale").click()
    expect(page.locator("#samtale .svar")).to_have_count(0)

    ask(page, "Hvilken stilling hadde hun?")

    expect(last_answer(page)).not_to_contain_text("Ina Synøve Borsheim")


def test_participants_tab_searches_and_filters(page):
    """«Hvem gjorde hva» lists everyone; the role filter and the search box narrow the table."""
    page.get_by_role("tab", name="Hvem gjorde hva").click()
    table = page.locator("#personer-tabell")
    expect(page.locator("#antall")).to_have_text("Viser alle 18 oppføringer (én per person og rolle).")

    page.get_by_role("combobox", name="Rolle").click()
    page.get_by_role("option", name="Prosjektkoordinator").click()
    expect(page.locator("#antall")).to_have_text("Viser 3 av 18 oppføringer.")
    expect(table).to_contain_text("Ranveig Hushovd")
    expect(table).to_contain_text("sept. 2021 – feb. 2022")
    expect(table).not_to_contain_text("Jørgen Hovde")

    page.get_by_role("textbox", name="Søk").fill("Indre Østfold")
    expect(page.locator("#antall")).to_have_text("Viser 1 av 18 oppføringer.")
    expect(table).to_contain_text("Madelen Ramsøy")
    screenshot(page, "hvem-gjorde-hva.png")


def test_page_without_index_says_how_to_build_it(browser, tmp_path):
    """With no index the page loads, shows how to build one, and answers a question with the same advice."""
    settings = make_settings(CORPUS, tmp_path / "missing", port=free_port())
    with serve(IndexMissing(tmp_path / "missing"), settings) as url:
        page = browser.new_page(locale="nb-NO")
        page.set_default_timeout(TIMEOUT)
        page.goto(url)
        expect(page.locator("#oppstartsfeil")).to_contain_text("Fant ingen indeks. Bygg den med python -m ingest")
        page.get_by_role("textbox", name="Spørsmål").fill("Hvem var prosjektleder?")
        page.get_by_role("textbox", name="Spørsmål").press("Enter")
        expect(page.locator("#samtale .svar.feil")).to_contain_text("Fant ingen indeks")
        screenshot(page, "uten-indeks.png")
        page.close()


def test_html_in_the_corpus_is_shown_as_text_and_never_runs(browser, tmp_path):
    """A corpus with <script>, onerror and javascript: links shows them literally in answers, sources and the table."""
    from assistant.service import Assistant
    from ingest.pipeline import ingest

    settings = make_settings(UI_DATA / "ui_xss", tmp_path / "index", port=free_port())
    ingest(settings, progress=False)
    with serve(Assistant(settings), settings) as url:
        page = browser.new_page(locale="nb-NO", viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT)
        page.goto(url)
        ask(page, "Hva ble limt inn på testsiden?")
        answer = last_answer(page)
        answer.get_by_role("link", name="[1]").first.click()

        expect(answer.locator(".svar-tekst")).to_contain_text("koden <script>window.__xss=1</script> på testsiden")
        expect(answer.locator(".svar-tekst")).to_contain_text('bildet <img src="x" onerror="window.__xss=2">')
        expect(answer.locator("summary")).to_contain_text("Testside med <b>kode</b>")
        expect(answer.locator("blockquote")).to_contain_text('<a href="javascript:window.__xss=3">klikk her</a>')
        assert 0 == page.locator("#samtale script, #samtale img, #samtale b, #samtale a[href^=javascript]").count()
        screenshot(page, "html-som-tekst.png")

        page.get_by_role("tab", name="Hvem gjorde hva").click()
        table = page.locator("#personer-tabell")
        expect(table).to_contain_text('Ola <img src=x onerror="window.__xss=4"> Nordmann')
        expect(table).to_contain_text("Utvikler <script>window.__xss=5</script>")
        expect(table).to_contain_text("<b>Testkommune</b>")
        assert 0 == table.locator("script, img, b").count()
        page.wait_for_timeout(500)  # give any injected handler the chance to fire

        assert page.evaluate("typeof window.__xss") == "undefined"
        page.close()


def test_a_language_model_answer_streams_in_and_a_failure_shows_a_notice(browser, corpus_settings):
    """With a language model the answer grows on the page before its sources appear; a failing model gives the
    offline answer with a visible notice."""
    from assistant import prompts
    from assistant.service import Assistant
    from tests.fake_llm_server import FakeLLMServer, Reply

    question = "Hvor mange ansatte var involvert i prosjektarbeidet?"
    with FakeLLMServer() as fake:
        settings = corpus_settings.model_copy(update={
            "llm_backend": "openai", "llm_base_url": f"{fake.url}/v1", "llm_model": "test", "llm_timeout": 20.0,
            "port": free_port(),
        })
        llm_assistant = Assistant(settings)
        chunks = llm_assistant.generation.chunks
        passages = llm_assistant.evidence(question).passages
        n = next(i for i, p in enumerate(passages, 1) if chunks[p].section.endswith("Organisering"))
        fake.script(Reply(f"Totalt 17 ansatte var involvert i prosjektarbeidet [{n}]. Prosjektet hadde en "
                          f"prosjektleder i 50 % stilling [{n}].", chunk=5, chunk_delay=0.15))
        with serve(llm_assistant, settings) as url:
            page = browser.new_page(locale="nb-NO", viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT)
            page.goto(url)
            expect(page.locator(".topp")).to_contain_text("Svarene skrives av en språkmodell")
            page.get_by_role("textbox", name="Spørsmål").fill(question)
            page.get_by_role("textbox", name="Spørsmål").press("Enter")

            streaming = page.locator("#samtale .svar.strommer")
            expect(streaming).to_contain_text("Totalt")
            expect(streaming.locator("details")).to_have_count(0)
            answer = page.locator("#samtale .svar:not(.venter):not(.strommer)")
            expect(answer).to_contain_text("Totalt 17 ansatte var involvert i prosjektarbeidet [1].")
            expect(answer.locator("summary")).to_contain_text("Organisering")

            fake.script(Reply(status=500))
            ask(page, question)
            expect(last_answer(page).locator(".svar-merknad")).to_have_text(prompts.NOTICE_DOWN)
            expect(last_answer(page).locator("details.kilde")).not_to_have_count(0)
            screenshot(page, "sprakmodell.png")
            page.close()
