"""Rating answers without a browser: the SQLite store under concurrent writers, the
``/feedback`` API on the real server through gradio_client, ``python -m assistant feedback
export`` as a subprocess, and the downloadable Markdown of a conversation."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.feedback import FeedbackStore
from ingest.index import Manifest
from tests.conftest import CORPUS, ROOT, make_settings
from tests.ui_server import free_port, serve

LEADER_QUESTION = "Hvem var prosjektleder?"
OFF_TOPIC = "Hvem er ordfører i Drammen?"


def export(db: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m assistant feedback export`` with ASSISTANT_FEEDBACK_DB pointing at ``db``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_FEEDBACK_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "assistant", "feedback", "export", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def rows(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        return con.execute("SELECT id, question, rating, comment FROM feedback ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("feedback") / "ratings.sqlite3"


@pytest.fixture(scope="module")
def client(assistant, corpus_index, db):
    """gradio_client on the real app over the bundled corpus, storing ratings in ``db``."""
    with serve(assistant, make_settings(CORPUS, corpus_index, port=free_port(), feedback_db=db)) as url:
        yield Client(url, verbose=False)


# --- the API --------------------------------------------------------------------------------


def test_api_rating_is_stored_with_its_answer_and_exported_as_an_evaluation_case(client, db, corpus_index):
    """/feedback returns {"stored": true, "id": N}; the export holds the question, history, answer,
    rating, comment, empty expect/abstain, and the citations and generation for the maintainer."""
    history = [{"role": "user", "content": LEADER_QUESTION},
               {"role": "assistant", "content": "Ina Synøve Borsheim var prosjektleder [1]."}]
    answer = client.predict("Hvilken stilling hadde hun?", history, api_name="/ask")

    stored = client.predict("Hvilken stilling hadde hun?", json.dumps(answer, ensure_ascii=False), "down",
                            "Svaret burde si at hun var bibliotekar.", history, api_name="/feedback")
    done = export(db)

    assert 0 == done.returncode, done.stderr
    (case,) = [c for c in yaml.safe_load(done.stdout) if c["id"] == stored["id"]]
    assert {"stored": True, "id": stored["id"]} == stored
    assert {
        "id": stored["id"], "question": "Hvilken stilling hadde hun?", "history": history,
        "answer": answer["answer"], "rating": "down", "comment": "Svaret burde si at hun var bibliotekar.",
        "expect": [], "abstain": None,
    } == {k: case[k] for k in ("id", "question", "history", "answer", "rating", "comment", "expect", "abstain")}
    assert [(c["document"], c["section"]) for c in answer["citations"]] == \
        [(c["document"], c["section"]) for c in case["citations"]]
    assert Manifest.read(corpus_index).generation == case["generation"]


@pytest.mark.parametrize(
    ("question", "answer", "rating", "message"),
    [
        (LEADER_QUESTION, None, "meh", "Vurderingen må være «up» (godt svar) eller «down» (dårlig svar)."),
        (LEADER_QUESTION, "Ina var prosjektleder", "down", "Svaret må være JSON-objektet som /ask ga, sendt som tekst."),
        (LEADER_QUESTION, '{"svar": "Ina"}', "down", "Svaret må være JSON-objektet som /ask ga, sendt som tekst."),
        ("   ", None, "up", "Spørsmålet mangler eller er for langt (høyst 2000 tegn)."),
    ],
)
def test_api_refuses_bad_ratings_in_norwegian_and_stores_nothing(client, db, question, answer, rating, message):
    """A rating other than up/down, an answer that is not the /ask JSON, or no question: one Norwegian line, no row."""
    if answer is None:  # a real answer, so only the named input is wrong
        answer = json.dumps(client.predict(LEADER_QUESTION, api_name="/ask"), ensure_ascii=False)
    before = rows(db)

    with pytest.raises(AppError) as caught:
        client.predict(question, answer, rating, "", api_name="/feedback")

    assert message == str(caught.value)
    assert before == rows(db)


# --- the store and the export ------------------------------------------------------------------


def test_concurrent_ratings_are_all_stored_in_wal_mode(assistant, tmp_path):
    """Twenty threads rating at once (as Gradio's handler threads do) each get their own id and row."""
    answer = assistant.ask(LEADER_QUESTION)
    db = tmp_path / "ratings.sqlite3"

    def rate(i: int) -> int:
        return FeedbackStore(db).add(f"{LEADER_QUESTION} ({i})", answer, "down" if i % 2 else "up", f"kommentar {i}")

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = list(pool.map(rate, range(20)))

    assert sorted(ids) == list(range(1, 21))
    assert 20 == len(rows(db))
    with sqlite3.connect(db) as con:
        assert "wal" == con.execute("PRAGMA journal_mode").fetchone()[0]
    assert {f"{LEADER_QUESTION} ({i})" for i in range(1, 20, 2)} == {r.question for r in FeedbackStore(db).all("down")}


def test_export_only_down_ratings(assistant, tmp_path):
    """``--rating down`` exports only the answers users marked as wrong."""
    store = FeedbackStore(tmp_path / "ratings.sqlite3")
    store.add(LEADER_QUESTION, assistant.ask(LEADER_QUESTION), "up")
    store.add(OFF_TOPIC, assistant.ask(OFF_TOPIC), "down", "Burde vite det.")

    done = export(store.path, "--rating", "down")

    assert 0 == done.returncode, done.stderr
    assert [(OFF_TOPIC, "down", "Burde vite det.")] == [(c["question"], c["rating"], c["comment"])
                                                         for c in yaml.safe_load(done.stdout)]


@pytest.mark.parametrize(
    ("content", "code", "stdout", "stderr"),
    [
        (None, 0, "[]\n", ""),
        ("dette er ingen database\n" * 100, 1, "", "error: cannot use the ratings database {db} (file is not a database)"),
    ],
)
def test_export_of_a_missing_or_broken_database(tmp_path, content, code, stdout, stderr):
    """No ratings yet exports an empty list; a file that is not SQLite is one English line and exit 1."""
    db = tmp_path / "ratings.sqlite3"
    if content is not None:
        db.write_text(content)

    done = export(db)

    assert code == done.returncode
    assert stdout == done.stdout
    assert done.stderr.startswith(stderr.format(db=db)) and len(done.stderr.splitlines()) <= 1


# --- the download --------------------------------------------------------------------------------


def test_conversation_markdown_has_every_answer_with_its_numbered_sources(assistant):
    """The Markdown lists each question, its answer and, under it, the numbered sources with document,
    section and the quoted passage; an abstention has no sources and a failed question shows why."""
    from ui.app import Exchange
    from ui.download import conversation_markdown

    leader = assistant.ask(LEADER_QUESTION)
    off_topic = assistant.ask(OFF_TOPIC)
    exchanges = [Exchange(LEADER_QUESTION, leader), Exchange(OFF_TOPIC, off_topic),
                 Exchange("x" * 3, error="Noe gikk galt under svaret.")]

    text = conversation_markdown(exchanges, "Beste praksis")
    first, second, third = text.split("\n## ")[1:]

    assert first.startswith(f"1. {LEADER_QUESTION}\n\n{leader.answer}\n\n**Kilder**\n\n")
    assert "1. om-prosjektet.md – Om prosjektet › Involverte i prosjektet\n" in first
    assert "   > - Prosjektleder: Ina Synøve Borsheim – Bibliotekar Svelvik bibliotek\n" in first
    assert all(f"{c.n}. {c.document} – " in first for c in leader.citations)
    assert second.startswith(f"2. {OFF_TOPIC}\n\n{off_topic.answer}") and "Kilder" not in second
    assert "*Ikke besvart: Noe gikk galt under svaret.*" in third
