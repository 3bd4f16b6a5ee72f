"""The new parts of the page in Debian's Chromium: uploading and removing material in
«Legg til materiale», the timeline in «Hvem gjorde hva», and the source panel. The app
runs over a temp copy of the corpus and a temp index.

With UPDATE_SCREENSHOT=1 the README's docs/legg-til-materiale.png and
docs/hvem-gjorde-hva.png are rewritten from the real app.
"""
from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import CORPUS, make_settings
from tests.test_ui_browser import ARTIFACTS, TIMEOUT, ask, browser, last_answer  # noqa: F401  (fixture)
from tests.ui_server import ROOT, free_port, serve

INGEST_TIMEOUT = 180_000  # ms; an upload is checked, embedded, stored and swapped in (seconds, more on a busy machine)
SCRIPT_FACT = "Kodeklubben på Nordbyen limte inn <script>window.__xss=7</script> i invitasjonen til foreldremøtet."


@pytest.fixture(scope="module")
def site(tmp_path_factory, model_dir):
    from assistant.service import Assistant
    from ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("library-browser")
    shutil.copytree(CORPUS, root / "corpus")
    settings = make_settings(root / "corpus", root / "index", port=free_port())
    ingest(settings, progress=False)
    with serve(Assistant(settings), settings) as url:
        yield url, settings


@pytest.fixture
def page(browser, site) -> Page:  # noqa: F811
    context = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site[0])
    expect(page.get_by_role("heading", name="Prosjektassistenten")).to_be_visible()
    yield page
    context.close()
    assert [] == errors


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, animations="disabled")
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(ARTIFACTS / name, ROOT / "docs" / name)


def bars(page: Page):
    return page.locator("#tidslinje .barlayer .point")


def test_the_timeline_has_one_bar_per_record_and_follows_the_filters(page):
    """The timeline draws a bar for each of the 18 records, shows the source's wording on hover, and the role
    filter and the search box narrow it together with the table."""
    page.get_by_role("tab", name="Hvem gjorde hva").click()
    expect(bars(page)).to_have_count(18)

    page.get_by_role("combobox", name="Rolle").click()
    page.get_by_role("option", name="Prosjektkoordinator").click()
    expect(bars(page)).to_have_count(3)
    expect(page.locator("#antall")).to_have_text("Viser 3 av 18 oppføringer.")
    box = bars(page).nth(1).bounding_box()  # Plotly's drag layer lies on top: point at the bar, as a mouse does
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#tidslinje .hoverlayer")).to_contain_text("Periode i kilden: «sept. 2021 – feb. 2022»")

    page.get_by_role("textbox", name="Søk").fill("Indre Østfold")
    expect(bars(page)).to_have_count(1)
    page.get_by_role("combobox", name="Rolle").click()
    page.get_by_role("option", name="Alle roller").click()
    expect(page.locator("#antall")).to_have_text("Viser 5 av 18 oppføringer.")
    expect(bars(page)).to_have_count(5)
    page.get_by_role("textbox", name="Søk").fill("")
    expect(bars(page)).to_have_count(18)
    page.mouse.move(0, 0)
    screenshot(page, "hvem-gjorde-hva.png")


def test_a_citation_opens_the_whole_section_in_the_side_panel(page):
    """«Vis hele avsnittet» under a source opens the side panel with the whole section and the quote marked."""
    ask(page, "Hvem var prosjektleder?")
    answer = last_answer(page)
    answer.get_by_role("link", name="[1]").click()
    answer.get_by_role("link", name="Vis hele avsnittet").first.click()

    panel = page.locator("#kildepanel-innhold")
    expect(panel.locator("mark")).to_have_text("Prosjektleder: Ina Synøve Borsheim – Bibliotekar Svelvik bibliotek")
    expect(panel).to_contain_text("Om prosjektet › Involverte i prosjektet")
    expect(panel).to_contain_text("Dette er de involverte i prosjektet fra Drammen kommune og Indre Østfold kommune:")
    expect(panel.locator("mark")).to_be_in_viewport()


def test_an_uploaded_document_is_listed_answered_as_text_and_removed(page, tmp_path):
    """A Markdown file with a <script> uploaded on the page is listed, its text is answered and shown literally
    (never run), and «Fjern dokumentet» takes it out of the list again."""
    upload = tmp_path / "kodeklubb.md"
    upload.write_text(f"# Kodeklubben\n\n## Foreldremøtet\n\n{SCRIPT_FACT}\n", encoding="utf-8")
    page.get_by_role("tab", name="Legg til materiale").click()
    documents = page.locator("#dokumenter-tabell")
    expect(documents).to_contain_text("om-prosjektet.md")

    page.locator("#opplasting input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Legg til").click()
    expect(page.locator("#opplasting-resultat")).to_contain_text(
        "«kodeklubb.md» er lagt til (1 avsnitt) og kan spørres om nå.", timeout=INGEST_TIMEOUT)
    expect(documents).to_contain_text("kodeklubb.md")
    screenshot(page, "legg-til-materiale.png")

    page.get_by_role("tab", name="Spør prosjektet").click()
    ask(page, "Hva limte kodeklubben inn i invitasjonen til foreldremøtet?")
    expect(last_answer(page)).to_contain_text("<script>window.__xss=7</script>")
    assert 0 == page.locator("#samtale script").count()
    assert page.evaluate("typeof window.__xss") == "undefined"

    page.get_by_role("tab", name="Legg til materiale").click()
    page.get_by_role("combobox", name="Dokument som skal fjernes").click()
    page.get_by_role("option", name="kodeklubb.md").click()
    page.get_by_role("button", name="Fjern dokumentet").click()
    expect(page.locator("#opplasting-resultat")).to_contain_text("«kodeklubb.md» er fjernet fra materialet.",
                                                                 timeout=INGEST_TIMEOUT)
    expect(documents).not_to_contain_text("kodeklubb.md")
