"""Adding and removing material from the page: the checks on one file, the swap to a new
index generation, and the ``/add_document`` API on a real server over a temp copy of the
corpus and a temp index (never the project's own), driven through gradio_client."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from tests.conftest import CORPUS, make_settings
from tests.docs import write_encrypted_pdf
from tests.test_sheets import write_xlsx
from tests.ui_server import UI_DATA, free_port, serve
from ui import library, timeline
from ui.live import LiveAssistant

LEADER = "Ina Synøve Borsheim"
DOCX_FACT = "Lesesirkelen på Fjellstad bibliotek ble ledet av Torunn Vassbotn fra mars 2022."
DOCX_QUESTION = "Hvem ledet lesesirkelen på Fjellstad bibliotek?"
MD_FACT = "Sykkelverkstedet på Nordbyen innbyggertorg ble drevet av Per Kristian Stormyr hver torsdag."
MD_QUESTION = "Hvem drev sykkelverkstedet på Nordbyen innbyggertorg?"
SLIDE_FACT = "Det meråpne biblioteket på Hestnes hadde 6412 besøkende i 2024."
SHEET_HEADER = ["Navn", "Rolle", "Stilling", "Kommune", "Fra", "Til"]


def make_docx(path: Path, title: str, body: list[str]) -> Path:
    """A Word document with a title, one heading and the given paragraphs."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    document.add_heading("Aktiviteter", level=1)
    for text in body:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def make_pptx(path: Path, title: str, slides: list[tuple[str, str, str]]) -> Path:
    """A presentation with one title-and-content slide per (title, text, speaker's notes)."""
    from pptx import Presentation

    deck = Presentation()
    deck.core_properties.title = title
    for heading, text, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        slide.placeholders[1].text_frame.text = text
        slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path


def cited_for(answer: dict, words: str) -> set[str]:
    """The documents of the citations whose passage holds ``words``."""
    return {c["document"] for c in answer["citations"] if words in c["text"]}


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def site(tmp_path_factory, model_dir):
    """The real app over a temp copy of the bundled corpus and its own temp index."""
    from assistant.service import Assistant
    from ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("library")
    corpus = root / "materiale" / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(corpus, root / "index", port=free_port())
    ingest(settings, progress=False)
    with serve(Assistant(settings), settings) as url:
        yield url, settings


@pytest.fixture(scope="module")
def client(site):
    return Client(site[0], verbose=False)


# --- names and checks (no server) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_name", "stored"),
    [
        ("../../x.md", "x.md"),
        ("..\\..\\windows\\x.md", "x.md"),
        ("/etc/cron.d/plan.MD", "plan.md"),
        ("møtereferat 12. mai?.txt", "møtereferat-12.-mai-.txt"),
        (".skjult.md", "skjult.md"),
    ],
)
def test_a_client_name_becomes_a_safe_base_name(client_name, stored):
    """Whatever path the client sends, the stored name is one sanitised file name in the corpus folder."""
    assert stored == library.safe_name(client_name)


@pytest.mark.parametrize("client_name", ["..", "../", "noextension", ".md"])
def test_a_name_without_a_usable_file_name_is_refused(client_name):
    """Names that leave nothing usable are refused with a Norwegian sentence."""
    with pytest.raises(library.Refused, match="kan ikke brukes"):
        library.safe_name(client_name)


@pytest.mark.parametrize(
    ("host", "user", "username", "open_"),
    [
        ("127.0.0.1", None, None, True),
        ("localhost", None, None, True),
        ("0.0.0.0", None, None, False),
        ("0.0.0.0", "bibliotek", "bibliotek", True),
        ("0.0.0.0", "bibliotek", None, False),
    ],
)
def test_changes_are_open_on_loopback_and_need_the_login_beyond_it(tmp_path, host, user, username, open_):
    """Beyond loopback, adding and removing material needs the login; on loopback without one it is open."""
    settings = make_settings(tmp_path, tmp_path / "index", host=host, auth_user=user,
                             auth_password="hemmelig-123" if user else None)

    reason = library.closed_reason(settings, username)

    assert open_ is (reason is None)


@pytest.mark.parametrize("tesseract", [True, False], ids=["with-tesseract", "without-tesseract"])
def test_a_scanned_pdf_is_checked_with_ocr(tesseract, tmp_path, monkeypatch):
    """An uploaded scan is read by OCR during the check; without Tesseract it is refused with one line
    saying how to install it, rather than stored and left out of the index."""
    import ingest.ocr
    from tests.test_ocr import SENTENCES, render_scan

    if tesseract and not ingest.ocr.available():
        pytest.skip("Tesseract with Norwegian is not installed (make setup)")
    if not tesseract:
        monkeypatch.setattr(ingest.ocr, "available", lambda: False)
    settings = make_settings(tmp_path, tmp_path / "index", ocr_cache_dir=tmp_path / "ocr-cache")
    scan = tmp_path / "referat.pdf"
    render_scan(scan, [SENTENCES[:2]])

    if tesseract:
        assert () == library.check_file(scan, "referat.pdf", settings)
    else:
        with pytest.raises(library.Refused) as refused:
            library.check_file(scan, "referat.pdf", settings)
        assert ("«referat.pdf» er en skannet PDF uten tekstlag, og tekstgjenkjenning (Tesseract med norsk) er ikke "
                "installert her; den som drifter assistenten kan installere den med apt-get install tesseract-ocr "
                "tesseract-ocr-nor (make setup gjør det).") == str(refused.value)


# --- the API on a real server --------------------------------------------------------------------


def test_an_uploaded_docx_can_be_asked_about_and_is_cited(site, client, tmp_path):
    """A Word file added through `/add_document` is answerable when the call returns, and the answer cites it."""
    url, settings = site
    docx = make_docx(tmp_path / "lesesirkel.docx", "Lesesirkel", [DOCX_FACT, "Sirkelen møttes annenhver uke."])
    before = client.predict(DOCX_QUESTION, api_name="/ask")

    result = client.predict(handle_file(str(docx)), api_name="/add_document")
    after = client.predict(DOCX_QUESTION, api_name="/ask")

    assert "Torunn Vassbotn" not in before["answer"]
    assert {"status": "ok", "document": "lesesirkel.docx"} == {k: result[k] for k in ("status", "document")}
    assert "kan spørres om nå" in result["message"]
    assert (Path(settings.corpus_dir) / "lesesirkel.docx").is_file()
    assert "Torunn Vassbotn" in after["answer"]
    assert {"lesesirkel.docx"} == cited_for(after, "Torunn Vassbotn")


def test_an_uploaded_participant_sheet_becomes_participant_records(site, client, tmp_path):
    """An Excel participant list added through `/add_document` becomes participant records cited by sheet and
    row, with the dates as written kept beside their reading, and its person is cited from it."""
    from ingest.index import load_current

    url, settings = site
    sheet = tmp_path / "frivillige.xlsx"
    write_xlsx(sheet, {"Deltakere": [SHEET_HEADER, ["Solveig Ravnåsen", "Frivilligkoordinator", "Kulturkonsulent",
                                                    "Testby kommune", "mars 2022", "høsten 2023"]]})

    result = client.predict(handle_file(str(sheet)), api_name="/add_document")
    people = [p for p in load_current(Path(settings.index_dir))[1].participants if p.document == "frivillige.xlsx"]
    answer = client.predict("Hvem var frivilligkoordinator?", api_name="/ask")

    assert {"status": "ok", "document": "frivillige.xlsx",
            "message": "«frivillige.xlsx» er lagt til (1 deltakerpost) og kan spørres om nå."} == result
    assert [("Solveig Ravnåsen", "frivilligkoordinator", "Testby kommune", "mars 2022 – høsten 2023", "2022-03",
             "2023-12", "Deltakere > rad 2")] == [(p.name, p.role, p.organisation, p.period, p.start, p.end, p.section)
                                                   for p in people]
    assert ["frivillige.xlsx", "Regneark (Excel)", "1 post"] in [row[:3] for row in library.document_rows(settings)]
    assert {"frivillige.xlsx"} == cited_for(answer, "Solveig Ravnåsen")


def test_an_uploaded_presentation_is_indexed_slide_by_slide(site, client, tmp_path):
    """A PowerPoint file added through `/add_document` is in the index when the call returns, one passage per
    slide under «Lysbilde N: tittel», with the speaker's notes, and listed as a presentation."""
    from ingest.index import load_current

    url, settings = site
    deck = make_pptx(tmp_path / "orientering.pptx", "Orientering for kommunestyret", [
        ("Meråpent bibliotek", SLIDE_FACT, "Tallene er fra dørtelleren."),
        ("Veien videre", "Kommunestyret tar stilling til utvidet åpningstid i juni.", ""),
    ])

    result = client.predict(handle_file(str(deck)), api_name="/add_document")
    slides = [(c.section, c.text) for c in load_current(Path(settings.index_dir))[1].chunks
              if c.document == "orientering.pptx"]

    assert {"status": "ok", "document": "orientering.pptx",
            "message": "«orientering.pptx» er lagt til (2 avsnitt) og kan spørres om nå."} == result
    assert [("Orientering for kommunestyret > Lysbilde 1: Meråpent bibliotek",
             f"{SLIDE_FACT}\n\nNotater: Tallene er fra dørtelleren."),
            ("Orientering for kommunestyret > Lysbilde 2: Veien videre",
             "Kommunestyret tar stilling til utvidet åpningstid i juni.")] == slides
    assert ["orientering.pptx", "PowerPoint", "2"] in [row[:3] for row in library.document_rows(settings)]


def _broken_pdf(path: Path) -> Path:
    good = (CORPUS.parent / "tests" / "data" / "tillegg" / "veileder-samlokalisering.pdf").read_bytes()
    path.write_bytes(good[: len(good) // 3])
    return path


def _exe_as_pdf(path: Path) -> Path:
    path.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(2000))
    return path


def _huge(path: Path) -> Path:
    with open(path, "wb") as fh:
        fh.write(("Linje med tekst om biblioteket.\n" * 1000).encode() * 820)  # ~25 MB of valid UTF-8
    return path


def _latin1(path: Path) -> Path:
    path.write_bytes("# Møte\n\nVi møttes på Ås.".encode("latin-1"))
    return path


def _text(content: str) -> Callable[[Path], Path]:
    """A maker of a UTF-8 text file with ``content``."""
    def make(path: Path) -> Path:
        path.write_text(content, encoding="utf-8")
        return path
    return make


PEOPLE = "kind: participants\nproject_period: {start: '2021-06', end: '2023-09'}\nparticipants:\n"


def _sheet(rows: list[list]) -> Callable[[Path], Path]:
    """A maker of a workbook whose one sheet, «Deltakere», holds ``rows``."""
    def make(path: Path) -> Path:
        write_xlsx(path, {"Deltakere": rows})
        return path
    return make


def _locked_xlsx(path: Path) -> Path:
    """What Excel writes for a workbook with a password to open: an OLE container with an EncryptionInfo stream."""
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(512))
    return path


def _locked_pdf(path: Path) -> Path:
    write_encrypted_pdf(path, ["Referat fra styringsgruppen."], user_password="hemmelig")
    return path


def _not_a_zip(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 avbrutt nedlasting" + bytes(200))
    return path


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (_broken_pdf, "veileder.pdf", "PDF-en «veileder.pdf» kan ikke leses: fila er skadet"),
        (_exe_as_pdf, "program.pdf", "«program.pdf» er ikke en PDF-fil, selv om navnet slutter på .pdf."),
        (_huge, "stor.md", "grensen er 20 MB per fil"),
        (_exe_as_pdf, "program.exe", "filtypen «.exe» støttes ikke"),
        (_latin1, "latin.md", "«latin.md» er ikke lagret som UTF-8"),
        (_text("kind: participants\nparticipants: [\n  - id: a\n"), "personer.yaml",
         "«personer.yaml» er ikke gyldig YAML (linje 3)"),
        (_text(PEOPLE + "  - {id: jorgen-hovde-prosjekteier, name: Noen Andre, role: leder, section: X}\n"), "flere.yaml",
         "Id-en «jorgen-hovde-prosjekteier» i «flere.yaml» finnes allerede i «deltakere.yaml»"),
        (_text(PEOPLE + "  - {id: ny-leder, name: Kari Nordmann, role: leder, section: X}\n"
                        "  - {id: ny-leder, name: Ola Nordmann, role: leder, section: X}\n"), "dobbel.yaml",
         "Deltakerfila «dobbel.yaml» har id-en «ny-leder» to ganger"),
        (_text("tittel: Møteplan\nmøter: [januar, mars]\n"), "plan.yaml",
         "«plan.yaml» er ikke en deltakerfil: den må ha «kind: participants»"),
        (_text(PEOPLE + "  - {id: uten-navn, role: leder, section: X}\n"), "mangler.yaml",
         "Deltakerfila «mangler.yaml» har en feil (på engelsk: mangler.yaml: participant uten-navn: field 'name'"),
        (_locked_xlsx, "deltakere.xlsx", "«deltakere.xlsx» er passordbeskyttet. Lagre en kopi uten passord og last opp den."),
        (_locked_pdf, "referat.pdf", "PDF-en «referat.pdf» er passordbeskyttet. Lagre en kopi uten passord og last opp den."),
        (_not_a_zip, "lysbilder.pptx", "«lysbilder.pptx» er ikke en PowerPoint-presentasjon (.pptx), selv om navnet "
                                       "slutter på .pptx; er fila skadet?"),
        (_not_a_zip, "plan.odt", "«plan.odt» er ikke et LibreOffice-dokument (.odt), selv om navnet slutter på .odt; "
                                 "er fila skadet?"),
        (_sheet([["Kari Nordmann", "frivillig", "1.3.2024"], ["Ola Nordmann", "frivillig", "2024"]]), "uten-overskrift.xlsx",
         "«uten-overskrift.xlsx», ark «Deltakere», rad 1, kolonne C: arket har ingen overskriftsrad (første rad har "
         "verdien «1.3.2024»). Legg inn en rad øverst med navnet på hver kolonne, for eksempel Navn, Rolle, Fra, Til."),
        (_sheet([SHEET_HEADER, ["Kari Nordmann", "frivillig", None, "Testby", "snart", None]]), "datoer.xlsx",
         "«datoer.xlsx», ark «Deltakere», rad 2, kolonne E: datoen «snart» kan ikke leses. Skriv den som «mars 2024», "
         "«03.2024», «1.3.2024», «2024» eller «høsten 2022»."),
    ],
    ids=["broken-pdf", "exe-as-pdf", "huge", "exe", "latin1", "bad-yaml", "taken-id", "duplicate-id", "not-participants",
         "no-name-yaml", "locked-xlsx", "locked-pdf", "corrupt-pptx", "corrupt-odt", "no-header", "bad-date"],
)
def test_a_bad_file_is_refused_in_norwegian_and_nothing_is_stored(site, client, tmp_path, make, name, message):
    """A broken PDF, an .exe, a 25 MB file, non-UTF-8 text, faulty participant files, password-protected
    workbooks and PDFs, damaged presentations and documents, and sheets without a header row or with an
    unreadable date are refused with one Norwegian line; the corpus folder and its parent are unchanged and
    questions are still answered."""
    url, settings = site
    corpus = Path(settings.corpus_dir)
    before, around = files_under(corpus), files_under(corpus.parent)
    upload = make(tmp_path / name)

    result = client.predict(handle_file(str(upload)), api_name="/add_document")
    answer = client.predict("Hvem var prosjektleder?", api_name="/ask")

    assert "error" == result["status"]
    assert message in result["message"]
    assert before == files_under(corpus)
    assert around == files_under(corpus.parent)
    assert LEADER in answer["answer"]


def test_a_path_in_the_file_name_stays_inside_the_corpus_folder(site, client, tmp_path):
    """A file sent with the name «../../x.md» is stored as «x.md» in the corpus folder and nowhere else."""
    url, settings = site
    corpus = Path(settings.corpus_dir)
    around = files_under(corpus.parent.parent)
    body = f"# Verksted\n\n{MD_FACT}\n".encode()
    uploaded = httpx.post(f"{url}gradio_api/upload", files={"files": ("../../x.md", body, "text/markdown")}).json()[0]

    result = client.predict({"path": uploaded, "orig_name": "../../x.md", "meta": {"_type": "gradio.FileData"}},
                            api_name="/add_document")
    answer = client.predict(MD_QUESTION, api_name="/ask")

    assert {"status": "ok", "document": "x.md"} == {k: result[k] for k in ("status", "document")}
    assert {"materiale/corpus/x.md"} == {f for f in files_under(corpus.parent.parent) - around
                                         if not f.startswith("index/")}
    assert (corpus / "x.md").read_bytes() == body
    assert {"x.md"} == cited_for(answer, "Per Kristian Stormyr")


def test_a_different_file_under_a_taken_name_is_refused(site, client, tmp_path):
    """Uploading another file named like a document already in the material is refused, not overwritten."""
    url, settings = site
    original = (Path(settings.corpus_dir) / "om-prosjektet.md").read_bytes()
    upload = tmp_path / "om-prosjektet.md"
    upload.write_text("# Noe annet\n\nEn helt annen tekst.\n", encoding="utf-8")

    result = client.predict(handle_file(str(upload)), api_name="/add_document")

    assert "error" == result["status"]
    assert "Det finnes allerede et dokument som heter «om-prosjektet.md»" in result["message"]
    assert original == (Path(settings.corpus_dir) / "om-prosjektet.md").read_bytes()


def test_twenty_askers_during_an_upload_get_answers_from_complete_generations(site, client, tmp_path):
    """While a document is being ingested, twenty clients asking over and over get no errors, every answer's
    citations come from one complete generation (the old or the new), and the new document is answered at the end."""
    from ingest.index import load_current

    url, settings = site
    index_dir = Path(settings.index_dir)
    old_chunks = {c.id: c.text for c in load_current(index_dir)[1].chunks}
    upload = tmp_path / "verksted.md"
    upload.write_text(f"# Verksted\n\n## Sykkelverksted\n\n{MD_FACT.replace('Nordbyen', 'Sørbyen')}\n", encoding="utf-8")
    question = MD_QUESTION.replace("Nordbyen", "Sørbyen")
    done = threading.Event()
    answers, errors, results = [], [], {}

    def upload_it() -> None:
        results["upload"] = Client(url, verbose=False).predict(handle_file(str(upload)), api_name="/add_document")
        done.set()

    def ask(i: int) -> None:
        asker = Client(url, verbose=False)
        asked = 0
        while not done.is_set() or asked < 2:
            q = "Hvem var prosjektleder?" if (i + asked) % 2 else question
            try:
                answers.append((q, asker.predict(q, api_name="/ask")))
            except Exception as exc:  # collected, asserted below
                errors.append(repr(exc))
            asked += 1

    askers = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in askers:
        t.start()
    uploader = threading.Thread(target=upload_it)
    uploader.start()
    uploader.join(300)
    for t in askers:
        t.join(300)
    new_chunks = {c.id: c.text for c in load_current(index_dir)[1].chunks}
    final = client.predict(question, api_name="/ask")

    assert [] == errors
    assert "ok" == results["upload"]["status"]
    assert len(answers) >= 40
    for q, answer in answers:
        # Each citation's passage is the text of the chunk its id names, all in one generation.
        assert any(all(c["chunk_id"] in chunks and c["text"].split("\n\n", 1)[-1] in chunks[c["chunk_id"]]
                       for c in answer["citations"]) for chunks in (old_chunks, new_chunks))
        if q == "Hvem var prosjektleder?":
            assert LEADER in answer["answer"]
    assert "verksted.md" in cited_for(final, "Per Kristian Stormyr")  # x.md, added above, names him too


def test_uploads_are_refused_when_the_app_listens_beyond_loopback_without_login(assistant, tmp_path):
    """Served for other machines (ASSISTANT_HOST 0.0.0.0) without a login, `/add_document` refuses and stores nothing."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(corpus, assistant.settings.index_dir, host="0.0.0.0", port=free_port())
    upload = tmp_path / "notat.md"
    upload.write_text("# Notat\n\nEt kort notat.\n", encoding="utf-8")

    from ui.app import build_app, launch

    app = build_app(assistant, settings)
    _, url, _ = launch(app, settings, prevent_thread_lock=True, server_name="127.0.0.1")
    try:
        result = Client(url, verbose=False).predict(handle_file(str(upload)), api_name="/add_document")
        page = httpx.get(f"{url}config").text
    finally:
        app.close()

    assert "error" == result["status"]
    assert "stengt fordi appen er tilgjengelig fra andre maskiner" in result["message"]
    assert "stengt fordi appen er tilgjengelig fra andre maskiner" in page
    assert not (corpus / "notat.md").exists()


# --- the library over a small corpus (no server) ------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory, model_dir):
    """A live assistant over a copy of the small two-file test corpus."""
    from assistant.service import Assistant
    from ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("small")
    shutil.copytree(UI_DATA / "ui_xss", root / "corpus")
    settings = make_settings(root / "corpus", root / "index")
    ingest(settings, progress=False)
    return LiveAssistant(settings, Assistant(settings))


def test_added_then_removed_document_comes_and_goes_from_answers_and_the_list(small, tmp_path):
    """A document added is listed and cited; once removed it is gone from the folder, the list and the answers."""
    upload = tmp_path / "verksted.md"
    upload.write_text(f"# Verksted\n\n{MD_FACT}\n", encoding="utf-8")

    reports: list[tuple[int, int]] = []
    (added,) = library.add_files(small, [(upload, "verksted.md")], lambda done, total: reports.append((done, total)))
    listed = [row[:3] for row in library.document_rows(small.settings)]
    cited = [c.document for c in small.ask(MD_QUESTION).citations]
    removed = library.remove_document(small, "verksted.md")
    after = small.ask(MD_QUESTION)

    assert "ok" == added.status
    assert reports[0] == (0, 1) and reports[-1] == (1, 1)  # the progress bar: the one new passage, embedded
    assert ["verksted.md", "Markdown", "1"] in listed
    assert "verksted.md" in cited
    assert ("ok", "«verksted.md» er fjernet fra materialet.") == (removed.status, removed.message)
    assert not (Path(small.settings.corpus_dir) / "verksted.md").exists()
    assert "verksted.md" not in library.removable(small.settings)
    assert "verksted.md" not in [c.document for c in after.citations]


def test_the_last_text_document_cannot_be_removed(small):
    """Removing the only document with text is refused, and it stays in the folder and the index."""
    result = library.remove_document(small, "testside.md")

    assert "error" == result.status
    assert "Det siste dokumentet kan ikke fjernes" in result.message
    assert (Path(small.settings.corpus_dir) / "testside.md").is_file()
    assert "testside.md" in library.removable(small.settings)


def test_an_upload_while_another_ingest_runs_is_refused_in_norwegian(small, tmp_path):
    """An upload while an ingest from elsewhere holds the index says so in Norwegian, and the file is
    not left in the material; the next upload works."""
    from tests.test_ingest import ingest_running_elsewhere

    upload = tmp_path / "travel.md"
    upload.write_text(f"# Travelt\n\n{MD_FACT}\n", encoding="utf-8")
    with ingest_running_elsewhere(Path(small.settings.index_dir)):
        (busy,) = library.add_files(small, [(upload, "travel.md")])
    stored_while_busy = (Path(small.settings.corpus_dir) / "travel.md").exists()
    (later,) = library.add_files(small, [(upload, "travel.md")])
    library.remove_document(small, "travel.md")

    assert ("error", f"Fila er ikke lagt til. {library.BUSY}") == (busy.status, busy.message)
    assert "En annen innlesing av materialet pågår nå" in busy.message
    assert not stored_while_busy
    assert "ok" == later.status


def test_a_participant_file_added_appears_in_the_timeline(small, tmp_path):
    """Records of an added participant file show up in the participants and as bars in the timeline."""
    before = len(small.participants())
    upload = tmp_path / "frivillige.yaml"
    upload.write_text(
        "kind: participants\ndocument: testside.md\nproject_period: {start: '2022-01', end: '2022-12'}\n"
        "participants:\n"
        "  - {id: kari-frivillig, name: Kari Frivillig, role: frivillig, organisation: Testkommune, "
        "start: '2022-03', section: Nettsiden til prosjektet}\n", encoding="utf-8")

    (added,) = library.add_files(small, [(upload, "frivillige.yaml")])
    people = small.participants()
    bars = timeline.bars(people)

    assert "ok" == added.status and "(1 deltakerpost)" in added.message
    assert before + 1 == len(people)
    assert len(people) == len(bars)
    kari = next(b for b in bars if b["name"] == "Kari Frivillig")
    assert ("2022-03-01", "2023-01-01") == (kari["start"].isoformat(), kari["end"].isoformat())


def test_a_csv_in_a_legacy_encoding_is_added_with_a_note(small, tmp_path):
    """A semicolon CSV saved by Excel in Windows-1252 is accepted, and the message says how it was read;
    each row is a passage «Kolonne: verdi; …» named by its row."""
    from ingest.index import load_current

    upload = tmp_path / "besok.csv"
    upload.write_bytes("Filial;Måned;Besøk\nSentrum;februar;5200\nSkåre;mars;4117\n".encode("cp1252"))

    (added,) = library.add_files(small, [(upload, "besok.csv")])
    rows = [row[:3] for row in library.document_rows(small.settings)]
    passages = [(c.section, c.text) for c in load_current(Path(small.settings.index_dir))[1].chunks
                if c.document == "besok.csv"]
    library.remove_document(small, "besok.csv")

    assert ("ok", "«besok.csv» er lagt til (2 avsnitt) og kan spørres om nå. Fila var ikke lagret som UTF-8 og er "
                  "lest som Windows-1252; se etter at æ, ø og å er riktige.") == (added.status, added.message)
    assert ["besok.csv", "Regneark (CSV)", "2"] in rows
    assert [("besok > rad 2", "Filial: Sentrum; Måned: februar; Besøk: 5200"),
            ("besok > rad 3", "Filial: Skåre; Måned: mars; Besøk: 4117")] == passages
