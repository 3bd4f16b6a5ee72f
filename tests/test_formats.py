"""Documents as people have them: a PDF cited by page, tables from Word, HTML and PDF
kept as Markdown tables in their place, and long tables split between rows under their
header. (Scanned, encrypted and zip-bomb files are refused in tests/test_ingest.py.)"""
from __future__ import annotations

import json

import pytest

from ingest.index import load_current
from ingest.pipeline import ingest
from tests.conftest import make_settings
from tests.docs import write_docx, write_encrypted_pdf, write_pdf_pages

REPORT_PAGES = [
    [
        ("#", "Årsrapport for Testby"),
        "Innledningen forteller at biblioteket og",
        "servicetorget i Testby ble samlet i ett hus i 2022.",
        ("##", "Utlån"),
        "Tabellen viser utlån per filial.",
        ["Filial", "Utlån 2022", "Utlån 2023"],
        ["Sentrum", "12 400", "13 950"],
        ["Nordby", "3 200", "3 870"],
        "Filialen på Nordby økte mest.",
        "Testby kommune · årsrapport · side 1",
    ],
    [
        ("##", "Besøk"),
        "Besøket på biblioteket i Testby økte med 20 prosent fra 2022 til 2023.",
        "Testby kommune · årsrapport · side 2",
    ],
    [
        ("##", "Tiltak"),
        ["1.", "Flere arrangementer for barn."],  # a numbered list, its marks set apart as Word does
        ["2.", "Lengre åpningstid om kvelden."],
        ("##", "Om biblioteket"),
        ["Biblioteket i Testby ble bygget i 1962 og", "Servicetorget flyttet inn i første etasje"],
        ["pusset opp for siste gang i 2015 etter en", "i 2022, etter et vedtak i kommunestyret om"],
        ["lang debatt om plassering og kostnader.", "å samle kommunens tjenester for innbyggerne."],
    ],
]
PDF_TABLE = """| Filial | Utlån 2022 | Utlån 2023 |
| --- | --- | --- |
| Sentrum | 12 400 | 13 950 |
| Nordby | 3 200 | 3 870 |"""

DOCX_TABLE = [
    ["Fase", "Periode", "Ansvarlig"],
    ["1. Forprosjekt", "januar – april 2024", "Kari Nordmann"],
    ["2. Ombygging", "mai 2024 – februar 2025", "Ola Nordmann"],
]
HTML = """<html><body><h1>Nyhet fra Testby</h1>
<h2>Åpningstider</h2><p>Tabellen viser åpningstidene.</p>
<table><tr><td>Dag</td><td>Åpent</td></tr><tr><td>Mandag</td><td>10–18</td></tr>
<tr><td>Lørdag</td><td>10–15 | meråpent 07–22</td></tr></table>
<p>Søndag er det stengt.</p>
<h2>Kontakt</h2><p>Ring servicetorget.</p></body></html>"""


@pytest.fixture(scope="module")
def formats_index(tmp_path_factory, model_dir):
    """A corpus of a two-page PDF report, a Word plan and a web page, ingested once."""
    corpus = tmp_path_factory.mktemp("formats") / "corpus"
    corpus.mkdir()
    write_pdf_pages(corpus / "rapport.pdf", REPORT_PAGES, title="Årsrapport for Testby")
    write_docx(corpus / "plan.docx", "Plan for Nordby", [
        ("Mål", ["Et felles inngangsparti."]),
        ("Fremdrift", ["Fasene står i tabellen.", DOCX_TABLE, "Planen revideres hvert år."]),
        ("Risiko", ["- Forsinket ombygging."]),
    ])
    (corpus / "nyhet.html").write_text(HTML)
    write_encrypted_pdf(corpus / "begrenset.pdf", ["Referatet kan leses, men ikke endres."], user_password="")
    settings = make_settings(corpus, tmp_path_factory.mktemp("formats-index"))
    ingest(settings, progress=False)
    return settings


def texts_by_section(settings) -> dict[tuple[str, str], str]:
    _, generation = load_current(settings.index_dir)
    return {(c.document, c.section): c.text for c in generation.chunks if c.kind == "text"}


def test_pdf_sections_end_in_the_page_under_their_heading(formats_index):
    """Each PDF page's text sits under the heading its font size shows, with «side N» last;
    the repeated footer is gone and a wrapped line is joined to its sentence."""
    sections = texts_by_section(formats_index)
    pdf = {section for document, section in sections if document == "rapport.pdf"}
    assert {
        "Årsrapport for Testby > side 1",
        "Årsrapport for Testby > Utlån > side 1",
        "Årsrapport for Testby > Besøk > side 2",
        "Årsrapport for Testby > Tiltak > side 3",
        "Årsrapport for Testby > Om biblioteket > side 3",
    } == pdf
    assert ("Innledningen forteller at biblioteket og servicetorget i Testby ble samlet i ett hus i 2022."
            == sections[("rapport.pdf", "Årsrapport for Testby > side 1")])
    assert not any("årsrapport · side" in text for text in sections.values())


def test_answer_from_a_pdf_names_the_page_and_the_ui_shows_it(formats_index):
    """A question answered from page 2 cites «… > Besøk > side 2», and the source list shows «side 2»."""
    from assistant.service import Assistant
    from ui.render import sources_html

    answer = Assistant(formats_index).ask("Hvor mye økte besøket på biblioteket i Testby?")
    cited = next(c for c in answer.citations if "20 prosent" in c.quote)
    assert "20 prosent" in answer.answer
    assert ("rapport.pdf", "Årsrapport for Testby > Besøk > side 2") == (cited.document, cited.section)
    assert cited.text.startswith("Besøk\n\n")  # the passage is headed by its heading, not by the page
    assert "Årsrapport for Testby › Besøk › side 2</span>" in sources_html(answer.citations, turn=1)


@pytest.mark.parametrize("document, section, expected", [
    ("plan.docx", "Plan for Nordby > Fremdrift",
     "Fasene står i tabellen.\n\n| Fase | Periode | Ansvarlig |\n| --- | --- | --- |\n"
     "| 1. Forprosjekt | januar – april 2024 | Kari Nordmann |\n| 2. Ombygging | mai 2024 – februar 2025 | Ola Nordmann |"
     "\n\nPlanen revideres hvert år."),
    ("nyhet.html", "Nyhet fra Testby > Åpningstider",
     "Tabellen viser åpningstidene.\n\n| Dag | Åpent |\n| --- | --- |\n| Mandag | 10–18 |\n"
     "| Lørdag | 10–15 \\| meråpent 07–22 |\n\nSøndag er det stengt."),
    ("rapport.pdf", "Årsrapport for Testby > Utlån > side 1",
     f"Tabellen viser utlån per filial.\n\n{PDF_TABLE}\n\nFilialen på Nordby økte mest."),
], ids=["docx", "html", "pdf"])
def test_tables_arrive_as_markdown_tables_in_their_place(formats_index, document, section, expected):
    """A table becomes a Markdown table (header, rule, one line per row) between the text around it."""
    assert expected == texts_by_section(formats_index)[(document, section)]


def test_pdf_list_and_text_in_two_columns_are_not_tables(formats_index):
    """A numbered list whose marks stand apart stays a list, and prose set in two columns is not made a table."""
    sections = texts_by_section(formats_index)
    assert ("1. Flere arrangementer for barn.\n2. Lengre åpningstid om kvelden."
            == sections[("rapport.pdf", "Årsrapport for Testby > Tiltak > side 3")])
    two_columns = sections[("rapport.pdf", "Årsrapport for Testby > Om biblioteket > side 3")]
    assert "|" not in two_columns and "bygget i 1962" in two_columns


def test_word_table_stays_out_of_the_sections_after_it(formats_index):
    """The plan's last section holds its own list only, not the table from earlier in the document."""
    assert "Forsinket ombygging." == texts_by_section(formats_index)[("plan.docx", "Plan for Nordby > Risiko")].lstrip("- ")


def test_pdf_that_only_forbids_editing_is_read(formats_index):
    """An encrypted PDF that opens without a password (it only restricts editing) is indexed."""
    assert "Referatet kan leses, men ikke endres." == texts_by_section(formats_index)[("begrenset.pdf", "Testrapport > side 1")]


def test_long_table_is_split_between_rows_under_its_header(model_dir):
    """A table too long for one passage is cut between rows, and every piece starts with its header row."""
    from transformers import AutoTokenizer

    from ingest.chunking import CHUNK_TOKENS, chunk_sections
    from ingest.sources import Section, markdown_table

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    rows = [[f"Filial {i}", f"{1000 + i * 37} utlån", f"åpnet {1950 + i}", "meråpent fra kl. 07 til 22"] for i in range(80)]
    table = markdown_table([["Filial", "Utlån", "Åpnet", "Merknad"], *rows])
    section = Section("tabell.md", ("Filialer",), f"Alle filialene:\n\n{table}\n\nTallene er fra 2023.", 0)
    chunks = chunk_sections([section], lambda text: tokenizer.encode(text, add_special_tokens=False))
    header, rows_text = table.splitlines()[:2], table.splitlines()[2:]
    with_rows = [[line for line in c.text.splitlines() if line.startswith("|")] for c in chunks]
    with_rows = [lines for lines in with_rows if lines]
    assert len(with_rows) > 2
    assert all(header == lines[:2] for lines in with_rows)
    assert rows_text == [line for lines in with_rows for line in lines[2:]]  # every row once, whole, in order
    assert chunks[0].text.startswith("Alle filialene:") and chunks[-1].text.endswith("Tallene er fra 2023.")
    assert max(len(tokenizer.encode(c.text, add_special_tokens=False)) for c in chunks) <= CHUNK_TOKENS


def test_index_read_the_old_way_is_read_again(tmp_path, model_dir):
    """An index built before the readers changed is rebuilt from the documents, not kept as «unchanged»."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf_pages(corpus / "rapport.pdf", REPORT_PAGES[1:], title="Årsrapport for Testby")
    settings = make_settings(corpus, tmp_path / "index")
    ingest(settings, progress=False)
    manifest_file = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    from ingest.pipeline import VECTORS

    manifest_file.write_text(json.dumps({**manifest, "chunking": f"320/40/v1|{VECTORS}"}))  # read the old way
    again = ingest(settings, progress=False)
    assert (False, 0) == (again.unchanged, again.embedded)  # read again; the vectors of the same text are reused
