"""The reranker's training data (training/) as the asset it is: every annotation points at words the
material holds, the splits are by collection, and it keeps the size and mix it is documented with."""
from __future__ import annotations

import functools
import importlib.util
import sys

import pytest
import yaml

from assistant.evaluation import quoted_source
from assistant.reranker.data import SPLITS_FILE, load_sources
from ingest.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "check_training_data.py"
spec = importlib.util.spec_from_file_location("check_training_data", SCRIPT)
check_training_data = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_training_data)
COLLECTIONS = sorted(p.name for p in check_training_data.COLLECTIONS.iterdir() if (p / "questions.yaml").is_file())


@functools.cache
def report_of(name: str):
    """One collection checked once per run (reading its documents as ingest does takes seconds)."""
    return check_training_data.check(check_training_data.COLLECTIONS / name)


@pytest.mark.parametrize("name", COLLECTIONS)
def test_every_annotation_of_a_collection_stands_in_its_material(name):
    """Each source sentence is in the documents as ingest reads them, each answer in its source, each
    record id in the participant file: otherwise mining finds no positive and the question teaches nothing."""
    report = report_of(name)
    assert report.problems == [], "\n".join(report.problems[:10])
    assert report.questions >= 300 and report.documents >= 5


def test_the_data_keeps_the_size_and_mix_the_issue_asks_for():
    reports = [report_of(name) for name in COLLECTIONS]
    questions = sum(r.questions for r in reports)
    assert sum(r.documents for r in reports) >= 40 and questions >= 3000
    assert sum(r.unanswerable for r in reports) / questions >= 0.20
    forms = {form for r in reports for form in r.forms}
    assert forms == check_training_data.FORMS


def test_the_splits_are_by_collection_and_the_test_split_is_never_trained_on():
    plan = yaml.safe_load(SPLITS_FILE.read_text(encoding="utf-8"))
    named = {split: [next(iter(e.values())) for e in entries] for split, entries in plan.items()}
    everything = [n for names in named.values() for n in names]
    assert len(everything) == len(set(everything)), "a source is in two splits"
    assert set(COLLECTIONS) <= set(everything), "a collection is in no split"
    assert {"train", "dev", "test"} <= set(named) and "test" in {s.split for s in load_sources(["test"])}


def test_the_check_names_a_source_the_material_does_not_hold_and_reads_past_html_markup(tmp_path):
    """A writer who copied «<li>…</li>» from the page source still marks the sentence ingest reads; a
    misquoted sentence, an answer outside its source and an unknown record are each named."""
    folder = tmp_path / "c99"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "nyhet.html").write_text(
        "<html><body><h1>Åpning</h1><ul><li>Ordføreren klippet snora klokka 12.</li></ul></body></html>",
        encoding="utf-8")
    (folder / "questions.yaml").write_text(yaml.safe_dump([
        {"id": "c99-0001", "document": "nyhet.html", "form": "full", "question": "Hvem klippet snora?",
         "source": "<li>Ordføreren klippet snora klokka 12.</li>", "answer": "Ordføreren", "expect": [["ordfører"]]},
        {"id": "c99-0002", "document": "nyhet.html", "form": "short", "question": "snorklipping når",
         "source": "Ordføreren klippet snora klokka 13.", "answer": "klokka 13", "expect": [["13"]]},
        {"id": "c99-0003", "document": "nyhet.html", "form": "full", "question": "Hvem klippet snora?",
         "source": "Ordføreren klippet snora klokka 12.", "answer": "varaordføreren", "expect": [["vara"]]},
        {"id": "c99-0004", "document": "nyhet.html", "form": "full", "question": "Hvem var prosjektleder?",
         "record": "kari-nordmann", "expect": [["Nordmann"]]},
        {"id": "c99-0005", "document": "nyhet.html", "form": "nynorsk", "question": "Kven heldt tale?", "abstain": True},
    ], allow_unicode=True), encoding="utf-8")
    report = check_training_data.check(folder)
    assert [p.split(":")[0] for p in report.problems] == ["c99-0002", "c99-0003", "c99-0004"]
    assert (report.questions, report.unanswerable) == (5, 1)
    assert quoted_source({"source": "<li>Ordføreren klippet snora klokka 12.</li>"}) == "ordføreren klippet snora klokka 12."
