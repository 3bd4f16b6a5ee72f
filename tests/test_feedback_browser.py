"""Rating, downloading and Gradio's own strings in a real headless Chromium: a thumbs-down
given on the page (and one through /feedback) is still in SQLite after the server restarts
and comes out of the export; the downloaded Markdown holds the answers and their sources;
the page and the login page speak bokmål even to a browser that asks for English."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from gradio_client import Client
from playwright.sync_api import Browser, Page, expect

from tests.conftest import CORPUS, make_settings
from tests.test_feedback import LEADER_QUESTION, OFF_TOPIC, export
from tests.test_ui_browser import ARTIFACTS, TIMEOUT, ask, browser, last_answer, screenshot  # noqa: F401  (fixture)
from tests.ui_server import ROOT, free_port, serve
from ui.feedback import COMMENT_SAVED, WITHDRAWN

FOLLOW_UP = "Hvilken stilling hadde hun?"
# Gradio's English for what this page shows (visible text, or aria-label/title values).
ENGLISH_TEXT = ["Use via API", "Built with Gradio", "Settings", "Login", "username", "password",
                "Incorrect Credentials", "Loading"]
ENGLISH_LABELS = ["Like", "Dislike", "Liked", "Disliked", "Clear", "More tabs", "chatbot conversation",
                  "Gradio footer navigation", "Copy table data", "Fullscreen", "Dataframe", "Table actions"]


def open_page(browser: Browser, url: str, locale: str = "nb-NO") -> Page:
    page = browser.new_page(locale=locale, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    return page


def labels(page: Page) -> set[str]:
    """Every aria-label and title on the page."""
    return set(page.evaluate(
        "Array.from(document.querySelectorAll('[aria-label], [title]'))"
        ".flatMap(e => [e.getAttribute('aria-label'), e.getAttribute('title')]).filter(Boolean)"
    ))


def assert_no_english(page: Page) -> None:
    text = page.inner_text("body")
    assert [] == [s for s in ENGLISH_TEXT if s in text]
    assert [] == sorted(set(ENGLISH_LABELS) & labels(page))


def test_a_thumbs_down_survives_a_restart_and_is_exported(browser, assistant, corpus_index, tmp_path):
    """A thumbs-down with a comment on a follow-up answer in the page, and one through /feedback, are in
    SQLite after the server restarts (the restarted server adds the next id) and in the export, with history."""
    db = tmp_path / "ratings.sqlite3"
    settings = make_settings(CORPUS, corpus_index, port=free_port(), feedback_db=db)
    with serve(assistant, settings) as url:
        page = open_page(browser, url)
        ask(page, LEADER_QUESTION)
        ask(page, FOLLOW_UP)
        shown = last_answer(page).locator(".svar-tekst").inner_text()
        page.get_by_role("button", name="Liker ikke").last.click()
        expect(page.locator("#vurdering-status")).to_contain_text("Takk for vurderingen")
        page.get_by_role("textbox", name="Kommentar til vurderingen").fill("Hun var bibliotekar, ikke rådgiver.")
        screenshot(page, "vurdering.png")
        if os.environ.get("UPDATE_SCREENSHOT") == "1":
            shutil.copy(ARTIFACTS / "vurdering.png", ROOT / "docs" / "vurdering.png")
        page.get_by_role("button", name="Send kommentar").click()
        expect(page.locator("#vurdering-status")).to_have_text(COMMENT_SAVED)
        expect(page.get_by_role("button", name="Du likte ikke svaret")).to_have_count(1)
        page.close()
        client = Client(url, verbose=False)
        answer = client.predict(OFF_TOPIC, api_name="/ask")
        by_api = client.predict(OFF_TOPIC, json.dumps(answer, ensure_ascii=False), "down", "", api_name="/feedback")

    with serve(assistant, settings.model_copy(update={"port": free_port()})) as url:
        after_restart = Client(url, verbose=False).predict(
            LEADER_QUESTION, json.dumps(assistant.ask(LEADER_QUESTION).contract()), "up", "", api_name="/feedback")
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT id, question, rating, comment FROM feedback ORDER BY id").fetchall()
    done = export(db)

    assert {"stored": True, "id": 2} == by_api
    assert {"stored": True, "id": 3} == after_restart
    assert [(1, FOLLOW_UP, "down", "Hun var bibliotekar, ikke rådgiver."), (2, OFF_TOPIC, "down", ""),
            (3, LEADER_QUESTION, "up", "")] == stored
    assert 0 == done.returncode, done.stderr
    cases = yaml.safe_load(done.stdout)
    assert [1, 2, 3] == [c["id"] for c in cases]
    first = cases[0]
    assert shown.replace("\n", " ").split() == first["answer"].split()
    assert [("user", LEADER_QUESTION), ("assistant", assistant.ask(LEADER_QUESTION).answer)] == \
        [(t["role"], t["content"]) for t in first["history"]]
    assert ([], None) == (first["expect"], first["abstain"])
    assert first["citations"] and all(c["document"] for c in first["citations"])


def test_clicking_the_same_thumb_again_takes_the_rating_back(browser, assistant, corpus_index, tmp_path):
    """A thumbs-up clicked twice leaves no rating behind, and says so."""
    db = tmp_path / "ratings.sqlite3"
    with serve(assistant, make_settings(CORPUS, corpus_index, port=free_port(), feedback_db=db)) as url:
        page = open_page(browser, url)
        ask(page, LEADER_QUESTION)
        page.get_by_role("button", name="Liker", exact=True).click()
        expect(page.locator("#vurdering-status")).to_contain_text("Takk for vurderingen")
        with sqlite3.connect(db) as con:
            rated = con.execute("SELECT question, rating FROM feedback").fetchall()
        page.get_by_role("button", name="Du likte svaret").click()
        expect(page.locator("#vurdering-status")).to_have_text(WITHDRAWN)
        page.close()

    assert [(LEADER_QUESTION, "up")] == rated
    with sqlite3.connect(db) as con:
        assert [] == con.execute("SELECT id FROM feedback").fetchall()


@pytest.fixture(scope="module")
def url(assistant, corpus_index, tmp_path_factory):
    settings = make_settings(CORPUS, corpus_index, port=free_port(),
                             feedback_db=tmp_path_factory.mktemp("ratings") / "ratings.sqlite3")
    with serve(assistant, settings) as url:
        yield url


def test_the_downloaded_conversation_holds_the_answers_and_their_sources(browser, url, assistant):
    """«Last ned samtalen» is off until something is answered, then downloads Markdown with each question,
    its answer, and the numbered sources (document, section, passage) under it."""
    page = open_page(browser, url)
    button = page.get_by_role("button", name="Last ned samtalen")
    expect(button).to_be_disabled()
    ask(page, LEADER_QUESTION)
    ask(page, "Hva var målet med prosjektet?")
    expect(button).to_be_enabled()

    with page.expect_download() as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    name = download.value.suggested_filename
    page.close()

    goal = assistant.ask("Hva var målet med prosjektet?")
    assert name.startswith("samtale-") and name.endswith(".md")
    assert text.startswith("# Samtale med prosjektassistenten\n")
    leader, goal_part = text.split("\n## ")[1:]
    assert leader.startswith(f"1. {LEADER_QUESTION}\n\n{assistant.ask(LEADER_QUESTION).answer}\n\n**Kilder**")
    assert "1. om-prosjektet.md – Om prosjektet › Involverte i prosjektet" in leader
    assert "> - Prosjektleder: Ina Synøve Borsheim – Bibliotekar Svelvik bibliotek" in leader
    assert goal_part.startswith(f"2. Hva var målet med prosjektet?\n\n{goal.answer}\n\n**Kilder**")
    for c in goal.citations:
        assert f"{c.n}. {c.document} – {c.section.replace(' > ', ' › ')}" in goal_part
        assert f"> {c.text.strip().splitlines()[0]}" in goal_part


def test_gradio_strings_are_bokmal_for_an_english_browser(browser, url):
    """A browser asking for English still gets Gradio's own strings in bokmål: the API link, the
    thumbs, the chat and table labels, and the page language."""
    page = open_page(browser, url, locale="en-US")
    ask(page, LEADER_QUESTION)

    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("footer")).to_contain_text("Bruk via API")
    expect(page.get_by_role("button", name="Liker ikke")).to_be_visible()
    expect(page.get_by_role("button", name="Tøm samtalen")).to_be_visible()
    assert_no_english(page)
    page.get_by_role("tab", name="Hvem gjorde hva").click()
    expect(page.locator("#personer-tabell")).to_contain_text("Ina Synøve Borsheim")
    assert_no_english(page)
    page.close()


def test_the_login_page_is_bokmal_for_an_english_browser(browser, assistant, corpus_index, tmp_path):
    """With a login, an English browser sees «Logg inn», «Brukernavn», «Passord», a Norwegian message for a
    wrong password, and after logging in a Norwegian page."""
    settings = make_settings(CORPUS, corpus_index, port=free_port(), auth_user="bibliotek",
                             auth_password="hemmelig-123", feedback_db=tmp_path / "ratings.sqlite3")
    with serve(assistant, settings) as url:
        page = open_page(browser, url, locale="en-US")
        expect(page.get_by_role("button", name="Logg inn")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "nb")
        assert_no_english(page)
        page.get_by_label("Brukernavn").fill("bibliotek")
        page.get_by_label("Passord").fill("feil-passord")
        page.get_by_role("button", name="Logg inn").click()
        expect(page.get_by_text("Feil påloggingsinformasjon")).to_be_visible()
        screenshot(page, "innlogging.png")
        assert_no_english(page)

        page.get_by_label("Brukernavn").fill("bibliotek")  # the failed attempt emptied the form
        page.get_by_label("Passord").fill("hemmelig-123")
        page.get_by_role("button", name="Logg inn").click()
        expect(page.get_by_role("heading", name="Prosjektassistenten")).to_be_visible()
        expect(page.locator("footer")).to_contain_text("Bruk via API")
        assert_no_english(page)
        page.close()
