"""Ingest: every supported format becomes sections and chunks in Chroma; re-runs are
incremental; bad input is refused with one line naming the file, and the index in use
is never lost."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.index import Manifest, load_current
from ingest.pipeline import ingest
from tests.conftest import CORPUS, ROOT, make_settings
from tests.docs import write_docx, write_encrypted_pdf, write_pdf, write_scanned_pdf, write_zip_bomb_docx

MINI_REPORT = """# Testrapport

Prosjektet «Lesekroken» ble gjennomført i Testby kommune i 2022.

## Organisering

Prosjektet hadde en prosjektleder og en styringsgruppe med tre medlemmer.
"""


@pytest.fixture
def mini_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rapport.md").write_text(MINI_REPORT)
    return corpus


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ingest", "--quiet", *args],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=600,
    )


def test_bundled_corpus_becomes_sections_chunks_and_records(corpus_index):
    """The report's headings become section paths; each participant record becomes a passage."""
    manifest, generation = load_current(corpus_index)
    sections = {c.section for c in generation.chunks if c.kind == "text"}
    assert "Om prosjektet > Involverte i prosjektet > Styringsgruppe" in sections
    assert "Om prosjektet > Kontakt med andre kommuner > Vi har besøkt > I egne kommuner" in sections
    assert (1, 9, 18) == (manifest.counts["documents"], manifest.counts["sections"], manifest.counts["participants"])
    assert 18 == sum(c.kind == "participant" for c in generation.chunks)
    assert len({c.id for c in generation.chunks}) == len(generation.chunks)


def test_chunks_fit_the_model_window(corpus_index, model_dir):
    """No passage (with its heading) is longer than the model's 512-token window."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    _, generation = load_current(corpus_index)
    assert max(len(tokenizer.encode("passage: " + c.embed_text)) for c in generation.chunks) <= 512


def test_every_supported_format_is_read_with_its_headings(tmp_path, model_dir):
    """Markdown, text, HTML, PDF and Word files dropped into the corpus are all indexed by section."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text(MINI_REPORT)
    (corpus / "b.txt").write_text("Notat fra Testby\n\nBiblioteket og servicetorget flyttet sammen i 2021.\n")
    (corpus / "c.html").write_text(
        "<html><body><h1>Nettside</h1><h2>Åpning</h2><p>Innbyggertorget åpnet i mars.</p>"
        "<script>alert(1)</script></body></html>"
    )
    write_pdf(corpus / "d.pdf", ["Rapporten fra Sandvik beskriver samlokalisering."], title="Sandvik-rapport")
    write_docx(corpus / "e.docx", "Plan for Nordby", [("Mål", ["Et felles inngangsparti.", "- lesesal"])])
    (corpus / "bilde.png").write_bytes(b"\x89PNG\r\n")
    (corpus / "assistent.toml").write_text('[prosjekt]\nnavn = "Testprosjektet"\n')
    summary = ingest(make_settings(corpus, tmp_path / "index"), progress=False)
    _, generation = load_current(tmp_path / "index")
    sections = {(c.document, c.section) for c in generation.chunks}
    assert {
        ("a.md", "Testrapport > Organisering"),
        ("b.txt", "Notat fra Testby"),
        ("c.html", "Nettside > Åpning"),
        ("d.pdf", "Sandvik-rapport > side 1"),
        ("e.docx", "Plan for Nordby > Mål"),
    } <= sections
    assert ("bilde.png",) == summary.skipped  # the folder's own settings file is neither material nor skipped
    assert not any("alert" in c.text or "Testprosjektet" in c.text for c in generation.chunks)


def test_unchanged_corpus_is_not_embedded_again(mini_corpus, tmp_path, model_dir):
    """A second run over the same files changes nothing and embeds nothing."""
    settings = make_settings(mini_corpus, tmp_path / "index")
    first = ingest(settings, progress=False)
    before = (tmp_path / "index" / "manifest.json").read_text()
    second = ingest(settings, progress=False)
    assert (False, True, 0) == (first.unchanged, second.unchanged, second.embedded)
    assert before == (tmp_path / "index" / "manifest.json").read_text()


def _rows(index: Path) -> dict[str, str]:
    """Chroma's rows for an index folder: id -> document version key."""
    from ingest import store
    from ingest.index import collection_name
    from ingest.settings import Settings

    client = store.connect(Settings(index_dir=index, chroma_host=None), index)
    got = store.open_collection(client, collection_name(index)).get(include=["metadatas"])
    return {i: m["doc_key"] for i, m in zip(got["ids"], got["metadatas"])}


def test_changed_file_is_replaced_and_removed_file_removed(mini_corpus, tmp_path, model_dir, monkeypatch):
    """Editing one file re-embeds only its new passage and upserts only that file's rows;
    deleting a file drops its passages from the index and from Chroma."""
    from ingest import store

    settings = make_settings(mini_corpus, tmp_path / "index")
    (mini_corpus / "ekstra.md").write_text("# Ekstra\n\nEt vedlegg om Nordby bibliotek.\n")
    ingest(settings, progress=False)
    written: list[str] = []
    real_upsert = store.upsert
    monkeypatch.setattr(store, "upsert", lambda collection, ids, **kw: (written.extend(ids), real_upsert(collection, ids, **kw)))
    (mini_corpus / "rapport.md").write_text(MINI_REPORT.replace("tre medlemmer", "fem medlemmer"))
    changed = ingest(settings, progress=False)
    manifest, generation = load_current(tmp_path / "index")
    texts = " ".join(c.text for c in generation.chunks)
    assert "fem medlemmer" in texts and "tre medlemmer" not in texts
    assert 1 == changed.embedded  # the edited passage, not the whole corpus
    assert (0, 1, 1, 0) == (changed.new, changed.changed, changed.kept, changed.removed)
    assert written and all(_rows(tmp_path / "index")[i].startswith("rapport.md@") for i in written)
    assert sorted(_rows(tmp_path / "index")) == sorted(generation.row_ids())  # the old version's rows are gone
    (mini_corpus / "ekstra.md").unlink()
    removed = ingest(settings, progress=False)
    manifest, generation = load_current(tmp_path / "index")
    assert ["rapport.md"] == sorted(manifest.files) and 1 == removed.removed
    assert {"rapport.md"} == {c.document for c in generation.chunks}
    assert sorted(_rows(tmp_path / "index")) == sorted(generation.row_ids())
    assert 1 == len(list((tmp_path / "index").glob("gen-*")))


def test_a_passage_gets_the_same_vectors_whatever_is_embedded_with_it(mini_corpus, tmp_path, model_dir):
    """Vectors depend on the text alone, not on the other passages of the run (int8 scales its
    activations per batch), so an edit embeds exactly what a cold ingest would."""
    import numpy as np

    ingest(make_settings(mini_corpus, tmp_path / "alone"), progress=False)
    (mini_corpus / "ekstra.md").write_text("# Ekstra\n\nEt langt vedlegg om Nordby bibliotek og innbyggertorg. " * 3 + "\n")
    ingest(make_settings(mini_corpus, tmp_path / "together"), progress=False)
    alone, together = load_current(tmp_path / "alone")[1], load_current(tmp_path / "together")[1]
    rows = {c.content_hash: i for i, c in enumerate(together.chunks)}
    for i, chunk in enumerate(alone.chunks):
        j = rows[chunk.content_hash]
        assert np.allclose(alone.chunk_vectors[i], together.chunk_vectors[j], atol=1e-6)
        mine, theirs = alone.sentence_chunk == i, together.sentence_chunk == j
        assert mine.any() and np.allclose(alone.sentence_vectors[mine], together.sentence_vectors[theirs], atol=1e-6)


def test_passages_embedded_side_by_side_land_in_their_own_rows(mini_corpus, tmp_path, model_dir, monkeypatch):
    """Ingest embeds several passages at once (one per core); every vector still lands on its own
    passage and sentence rows, exactly as when they are embedded one after another."""
    import numpy as np

    from ingest import pipeline

    (mini_corpus / "ekstra.md").write_text("# Ekstra\n\n" + "".join(
        f"## Del {n}\n\nDel {n} handler om filial nummer {n} og dens åpningstider.\n\n" for n in range(12)))
    monkeypatch.setattr(pipeline, "WORKERS", 1)
    ingest(make_settings(mini_corpus, tmp_path / "serial"), progress=False)
    monkeypatch.setattr(pipeline, "WORKERS", 3)
    done: list[tuple[int, int]] = []
    ingest(make_settings(mini_corpus, tmp_path / "parallel"), progress=lambda n, total: done.append((n, total)))
    serial, parallel = load_current(tmp_path / "serial")[1], load_current(tmp_path / "parallel")[1]

    assert len(parallel.chunks) > 3 * 3  # more passages than the workers keep in flight
    assert [c.content_hash for c in serial.chunks] == [c.content_hash for c in parallel.chunks]
    assert np.allclose(serial.chunk_vectors, parallel.chunk_vectors, atol=1e-5)
    assert np.allclose(serial.sentence_vectors, parallel.sentence_vectors, atol=1e-5)
    assert [(n, len(parallel.chunks)) for n in range(len(parallel.chunks) + 1)] == done  # counted up in order


def test_each_sentence_is_encoded_alone_and_the_passage_is_their_mean(mini_corpus, tmp_path, model_dir, monkeypatch):
    """Sentence vectors are the sentences' own encodings as «heading: sentence» (not pooled from the
    passage, where the sentences of one passage look alike); the passage vector is the mean of their
    token states. The pooled method stays available and gives other sentence vectors."""
    import numpy as np

    from ingest import pipeline
    from ingest.chunking import last_heading
    from ingest.embedding import load_encoder

    settings = make_settings(mini_corpus, tmp_path / "sentences")
    ingest(settings, progress=False)
    monkeypatch.setattr(pipeline, "VECTOR_METHOD", "pooled")
    ingest(make_settings(mini_corpus, tmp_path / "pooled"), progress=False)
    ours, pooled = load_current(tmp_path / "sentences")[1], load_current(tmp_path / "pooled")[1]
    encoder = load_encoder(settings)
    for i, chunk in enumerate(ours.chunks):
        rows = np.flatnonzero(ours.sentence_chunk == i)
        texts = [f"{last_heading(chunk.section)}: {chunk.text[s:e]}" for s, e in ours.sentence_spans[rows]]
        states = [s for s, _ in encoder.passage_token_states(texts, batch_size=1)]
        mean = np.concatenate(states).mean(axis=0)
        assert np.allclose(ours.sentence_vectors[rows], encoder.encode_passages(texts, batch_size=1), atol=1e-5)
        assert np.allclose(ours.chunk_vectors[i], mean / np.linalg.norm(mean), atol=1e-5)
    assert (np.sum(pooled.sentence_vectors * ours.sentence_vectors, axis=1) < 0.99).any()


def test_failed_ingest_keeps_the_previous_index(mini_corpus, tmp_path, model_dir, monkeypatch):
    """A crash while the new passages stream into Chroma leaves the old index in use and answering."""
    from assistant.service import Assistant
    from ingest import store

    settings = make_settings(mini_corpus, tmp_path / "index")
    ingest(settings, progress=False)
    before = Manifest.read(tmp_path / "index")
    (mini_corpus / "rapport.md").write_text(MINI_REPORT + "\n## Nytt\n\nEn ny del om Sørby.\n")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "upsert", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest(settings, progress=False)
    monkeypatch.undo()
    assert before == Manifest.read(tmp_path / "index")
    answer = Assistant(settings).ask("Hvor ble prosjektet Lesekroken gjennomført?")
    assert "Testby" in answer.answer


def test_crash_before_the_swap_hides_the_new_rows(mini_corpus, tmp_path, model_dir, monkeypatch):
    """The new version's rows are in Chroma but the manifest was not swapped: the index in use
    retrieves only its own rows; the next ingest completes and removes the leftovers."""
    from assistant.service import Assistant

    settings = make_settings(mini_corpus, tmp_path / "index")
    ingest(settings, progress=False)
    before = Manifest.read(tmp_path / "index")
    (mini_corpus / "rapport.md").write_text(MINI_REPORT.replace("Testby", "Sørby"))

    def crash(self, index_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(Manifest, "write", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest(settings, progress=False)
    monkeypatch.undo()
    assert before == Manifest.read(tmp_path / "index")
    assert 2 == len({key for key in _rows(tmp_path / "index").values()})  # both versions are stored
    from llama_index.core.schema import QueryBundle

    assistant = Assistant(settings)
    query = QueryBundle(query_str="Sørby kommune", embedding=assistant.retriever.embed_query("Sørby kommune").tolist())
    dense = assistant.retriever._dense.retrieve(query)  # the Chroma query itself, before any mapping
    assert dense and {n.node.node_id for n in dense} <= set(assistant.generation.row_ids())
    assert "Testby" in assistant.ask("Hvor ble prosjektet Lesekroken gjennomført?").answer
    ingest(settings, progress=False)
    manifest, generation = load_current(tmp_path / "index")
    assert sorted(_rows(tmp_path / "index")) == sorted(generation.row_ids())
    assert "Sørby" in Assistant(settings).ask("Hvor ble prosjektet Lesekroken gjennomført?").answer


BAD_INPUT = {
    "missing folder": (None, "does not exist"),
    "empty folder": ({}, "holds no supported files"),
    "non-UTF-8 text": ({"latin1.md": "Bibliotek på Røa".encode("latin-1")}, "latin1.md: not UTF-8"),
    "binary file": ({"data.txt": b"\x00\x01\x02binary"}, "data.txt: looks like a binary file"),
    "corrupt PDF": ({"skadet.pdf": b"%PDF-1.4\nthis is not a pdf"}, "skadet.pdf"),
    "empty document": ({"tom.md": b"   \n"}, "tom.md: holds no text"),
    "malformed YAML": ({"folk.yaml": b"kind: participants\nparticipants: [\n  - {name: A"}, "folk.yaml: malformed YAML"),
    "participant without name": (
        {"folk.yaml": b"kind: participants\nproject_period: {start: '2021-06', end: '2023-09'}\nparticipants:\n"
                      b"  - {id: uten-navn, role: prosjektleder, section: Om}\n"},
        "participant uten-navn: field 'name'",
    ),
    "duplicate ids": (
        {"folk.yaml": b"kind: participants\nproject_period: {start: '2021-06', end: '2023-09'}\nparticipants:\n"
                      b"  - {id: a, name: Kari Nordmann, role: prosjektleder, section: Om}\n"
                      b"  - {id: a, name: Ola Nordmann, role: prosjekteier, section: Om}\n"},
        "duplicate participant id 'a'",
    ),
    "bad date": (
        {"folk.yaml": b"kind: participants\nproject_period: {start: '2021-06', end: '2023-09'}\nparticipants:\n"
                      b"  - {id: a, name: Kari Nordmann, role: prosjektleder, start: 'juni 2022', section: Om}\n"},
        "participant a: field 'start'",
    ),
    # A file given as a function is written by it (documents as people have them).
    "encrypted PDF": (
        {"kryptert.pdf": lambda path: write_encrypted_pdf(path, ["Hemmelig referat."], user_password="hemmelig")},
        "kryptert.pdf: the PDF is encrypted (password-protected)",
    ),
    "zip bomb DOCX": ({"bombe.docx": write_zip_bomb_docx}, "bombe.docx: unpacks to 300 MB (word/document.xml: 300 MB"),
}


@pytest.fixture(scope="module")
def good_index(tmp_path_factory, model_dir) -> Path:
    """A small good index that bad runs must leave alone."""
    corpus = tmp_path_factory.mktemp("good") / "corpus"
    corpus.mkdir()
    (corpus / "rapport.md").write_text(MINI_REPORT)
    index = tmp_path_factory.mktemp("good-index")
    ingest(make_settings(corpus, index), progress=False)
    return index


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_is_refused_in_one_line_and_the_index_kept(case, tmp_path, good_index):
    """Bad material gives exit 1 and one line naming the problem; the existing index is untouched."""
    files, message = BAD_INPUT[case]
    corpus = tmp_path / "corpus"
    if files is not None:
        corpus.mkdir()
        (corpus / "rapport.md").write_text(MINI_REPORT)
        if not files:
            (corpus / "rapport.md").unlink()
        for name, data in files.items():
            data(corpus / name) if callable(data) else (corpus / name).write_bytes(data)
    index = tmp_path / "index"
    shutil.copytree(good_index, index)
    before = (index / "manifest.json").read_text()
    result = run_cli("--corpus", str(corpus), "--index", str(index))
    assert 1 == result.returncode
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines) and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert before == (index / "manifest.json").read_text()
    manifest, generation = load_current(index)
    assert generation.chunks


@pytest.mark.parametrize("tesseract", [True, False], ids=["with-tesseract", "without-tesseract"])
def test_a_scanned_pdf_is_read_by_ocr_or_left_out_with_an_install_hint(tesseract, tmp_path, good_index):
    """A PDF of pictures without a text layer goes to Tesseract page by page, with progress per page; when
    its pictures hold no text, the ingest stops with one line and the index in use is kept. Without Tesseract
    on the machine, the scan is left out with one line saying how to install it, and the rest is ingested."""
    from ingest.ocr import available

    if tesseract and not available():
        pytest.skip("Tesseract with Norwegian is not installed (make setup)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rapport.md").write_text(MINI_REPORT)
    write_scanned_pdf(corpus / "skannet.pdf")  # two pages, each a grey picture without letters
    index = tmp_path / "index"
    shutil.copytree(good_index, index)
    before = (index / "manifest.json").read_text()
    env = {"ASSISTANT_OCR_CACHE_DIR": str(tmp_path / "ocr-cache")}
    if not tesseract:
        env["PATH"] = str(Path(sys.executable).parent)  # the venv's programs, not /usr/bin/tesseract

    result = run_cli("--corpus", str(corpus), "--index", str(index), env=env)

    if tesseract:
        assert 1 == result.returncode
        assert ["OCR skannet.pdf: side 1 (1/2)", "OCR skannet.pdf: side 2 (2/2)",
                f"error: {corpus / 'skannet.pdf'}: holds no text, not even by OCR of its pages"] == result.stderr.splitlines()
        assert before == (index / "manifest.json").read_text()
    else:
        assert 0 == result.returncode, result.stderr
        assert ["skipped skannet.pdf: 2 scanned page(s) without a text layer need OCR, but Tesseract with Norwegian "
                "is not installed; install it with apt-get install tesseract-ocr tesseract-ocr-nor (make setup does it)"
                ] == result.stderr.splitlines()
        assert result.stdout.strip().endswith("Skipped 1 unreadable file.")
        assert {"rapport.md"} == set(Manifest.read(index).files)


@contextlib.contextmanager
def ingest_running_elsewhere(index_dir: Path):
    """Another process holds the index folder's ingest lock, as a running `python -m ingest` does."""
    from ingest.pipeline import LOCK_FILE

    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); sys.stdin.read()", str(index_dir / LOCK_FILE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert "held" == holder.stdout.readline().strip()
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_second_ingest_of_the_same_index_is_refused_and_the_index_kept(mini_corpus, tmp_path, model_dir):
    """While one ingest updates an index, another (CLI) says so in one line, exits non-zero and
    touches nothing; once the first is done, ingesting works again."""
    index = tmp_path / "index"
    assert 0 == run_cli("--corpus", str(mini_corpus), "--index", str(index)).returncode
    before = Manifest.read(index)
    (mini_corpus / "rapport.md").write_text(MINI_REPORT + "\n## Nytt\n\nEn ny del om Sørby.\n")

    with ingest_running_elsewhere(index):
        busy = run_cli("--corpus", str(mini_corpus), "--index", str(index))
    after_busy = Manifest.read(index)
    again = run_cli("--corpus", str(mini_corpus), "--index", str(index))

    assert 1 == busy.returncode and "" == busy.stdout
    assert [f"error: another ingest is updating {index}; run this again when it has finished"] == busy.stderr.splitlines()
    assert before.generation == after_busy.generation
    assert 0 == again.returncode and Manifest.read(index).generation != before.generation


def test_cli_prints_a_one_line_summary(mini_corpus, tmp_path, model_dir):
    """A good run exits 0 with documents, sections, chunks, records and seconds on one line."""
    result = run_cli("--corpus", str(mini_corpus), "--index", str(tmp_path / "index"))
    assert 0 == result.returncode, result.stderr
    line = result.stdout.strip()
    assert line.startswith("Ingested 1 documents, 2 sections, 2 chunks, 0 participant records in ")


def test_progress_is_one_bar_over_all_passages_and_quiet_has_none(mini_corpus, tmp_path, model_dir):
    """Without --quiet, one tqdm bar counts every passage to embed up to its total (with ETA);
    with --quiet, stderr stays empty; the summary says what happened to each file."""
    loud = subprocess.run([sys.executable, "-m", "ingest", "--corpus", str(mini_corpus), "--index", str(tmp_path / "a")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert 0 == loud.returncode, loud.stderr
    bars = {line.split(":")[0].strip() for line in loud.stderr.replace("\r", "\n").splitlines() if "passage" in line}
    assert {"Embedding"} == bars and "/2 [" in loud.stderr and "<" in loud.stderr  # one bar, its total, an ETA
    assert "(files: 1 new, 0 changed, 0 unchanged, 0 removed; embedded 2 new passages)" in loud.stdout
    quiet = run_cli("--corpus", str(mini_corpus), "--index", str(tmp_path / "b"))
    assert 0 == quiet.returncode and "" == quiet.stderr


def test_environment_settings_pick_corpus_and_index(mini_corpus, tmp_path, model_dir):
    """ASSISTANT_CORPUS_DIR and ASSISTANT_INDEX_DIR work like the flags."""
    env = {"ASSISTANT_CORPUS_DIR": str(mini_corpus), "ASSISTANT_INDEX_DIR": str(tmp_path / "env-index")}
    result = run_cli(env=env)
    assert 0 == result.returncode, result.stderr
    assert (tmp_path / "env-index" / "manifest.json").is_file()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chroma_server_mode(tmp_path, model_dir):
    """With ASSISTANT_CHROMA_HOST/PORT the vectors go to a real `chroma run` server and answers come back."""
    import time
    import urllib.request

    from assistant.service import Assistant

    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if time.time() > deadline:
                    raise AssertionError("chroma server did not start")
                time.sleep(0.3)
        settings = make_settings(CORPUS, tmp_path / "index", chroma_host="127.0.0.1", chroma_port=port)
        ingest(settings, progress=False)
        assert not (tmp_path / "index" / "chroma").exists()
        manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
        assert f"127.0.0.1:{port}" == manifest["chroma"]
        answer = Assistant(settings).ask("Hvem var prosjektleder?")
        assert "Ina Synøve Borsheim" in answer.answer
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_only_changed_documents_are_read_again(mini_corpus, tmp_path, model_dir, monkeypatch):
    """After one file changes, the unchanged ones keep their chunks and are not parsed again."""
    from ingest import pipeline

    (mini_corpus / "ekstra.md").write_text("# Ekstra\n\nEt vedlegg om Nordby bibliotek.\n")
    settings = make_settings(mini_corpus, tmp_path / "index")
    ingest(settings, progress=False)
    before = {c.id: c for c in load_current(tmp_path / "index")[1].chunks if c.document == "rapport.md"}
    parsed = []
    real = pipeline.read_sections
    monkeypatch.setattr(pipeline, "read_sections",
                        lambda source, settings: parsed.append(source.name) or real(source, settings))
    (mini_corpus / "ekstra.md").write_text("# Ekstra\n\nEt vedlegg om Sørby bibliotek.\n")
    summary = ingest(settings, progress=False)
    after = {c.id: c for c in load_current(tmp_path / "index")[1].chunks if c.document == "rapport.md"}
    assert ["ekstra.md"] == parsed
    assert before == after
    assert (2, 3) == (summary.documents, summary.sections)


@pytest.mark.parametrize(
    ("files", "cores"),
    [({"cpu.max": "150000 100000\n"}, 2),  # cgroup v2, 1.5 CPUs: two workers
     ({"cpu.max": "50000 100000\n"}, 1),
     ({"cpu.max": "max 100000\n"}, None),  # no quota: the affinity
     ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
     ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
     ({}, None)],
)
def test_ingest_uses_as_many_workers_as_a_container_may_run(tmp_path, files, cores):
    """In a container with a CPU quota, ingest embeds with as many workers as the quota allows, not one
    per core of the host (which the CPU affinity shows); without a quota, one per core it may use."""
    from ingest.pipeline import usable_cores

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    affinity = len(os.sched_getaffinity(0))
    assert (affinity if cores is None else min(cores, affinity)) == usable_cores(tmp_path)
