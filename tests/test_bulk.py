"""Bulk folders: ``python -m ingest --skip-unreadable`` ingests what it can read, names every
file it left out with the reason on one line, and counts them; without the flag one bad file
still stops the run and the index in use is untouched."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.__main__ import main
from ingest.index import load_current
from tests.docs import write_encrypted_pdf

REPORT = "# Testrapport\n\nBiblioteket i Testby hadde 4 100 besøk i mars 2024.\n"


@pytest.fixture
def mixed_corpus(tmp_path) -> Path:
    """A readable report beside a password-protected PDF, a damaged Word file and a broken participant file."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rapport.md").write_text(REPORT)
    write_encrypted_pdf(corpus / "referat.pdf", ["Hemmelig referat."], user_password="hemmelig")
    (corpus / "plan.docx").write_bytes(b"PK\x03\x04 not really a zip archive")
    (corpus / "deltakere.yaml").write_text("kind: participants\nparticipants: [\n")
    return corpus


def test_skip_unreadable_ingests_the_rest_and_names_each_skipped_file(mixed_corpus, tmp_path, model_dir, capsys):
    """Exit 0; one «skipped NAME: reason» line per unreadable file; the summary counts them; the report is indexed."""
    index = tmp_path / "index"
    code = main(["--corpus", str(mixed_corpus), "--index", str(index), "--quiet", "--skip-unreadable"])
    out, err = capsys.readouterr()
    assert 0 == code
    skipped = sorted(line for line in err.splitlines() if line.startswith("skipped "))
    assert ["skipped deltakere.yaml: malformed YAML", "skipped plan.docx: not a readable Word document",
            "skipped referat.pdf: the PDF is encrypted"] == [line.split(" (")[0].split(" at line")[0] for line in skipped]
    assert all(str(mixed_corpus) not in line for line in skipped)
    assert out.strip().endswith("Skipped 3 unreadable files.") and "Ingested 1 documents" in out
    _, generation = load_current(index)
    assert {"rapport.md"} == {c.document for c in generation.chunks}


def test_without_the_flag_one_bad_file_stops_the_run(mixed_corpus, tmp_path, model_dir, capsys):
    """Today's behaviour stays: exit 1 with one «error:» line, and no index is written."""
    index = tmp_path / "index"
    code = main(["--corpus", str(mixed_corpus), "--index", str(index), "--quiet"])
    out, err = capsys.readouterr()
    assert (1, "") == (code, out)
    assert 1 == len(err.strip().splitlines()) and err.startswith("error: ")
    assert not (index / "manifest.json").exists()


def test_nothing_readable_is_an_error_even_when_skipping(tmp_path, model_dir, capsys):
    """A folder where no file can be read still fails (exit 1), with one line naming the first skipped file."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plan.docx").write_bytes(b"not a zip")
    code = main(["--corpus", str(corpus), "--index", str(tmp_path / "index"), "--quiet", "--skip-unreadable"])
    _, err = capsys.readouterr()
    assert 1 == code
    assert ["error: no file in"] == [line[:17] for line in err.strip().splitlines()]
    assert "plan.docx: not a readable Word document" in err
