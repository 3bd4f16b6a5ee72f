"""Shared fixtures: the real corpus ingested once per session into a temp index, with
the real embedding model and an embedded Chroma store."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"


def make_settings(corpus: Path, index: Path, **extra):
    from ingest.settings import Settings

    env_free = {k: None for k in ("chroma_host",)}
    # Ratings go beside the test's index, never into the project's data folder.
    extra.setdefault("feedback_db", Path(index).parent / f"{Path(index).name}-feedback.sqlite3")
    return Settings(corpus_dir=corpus, index_dir=index, **{**env_free, **extra})


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The converted default embedding model (converted once, reused across runs)."""
    from ingest.embedmodel import ensure_model
    from ingest.settings import DEFAULT_MODEL_DIR

    return ensure_model(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, model_dir) -> Path:
    """The bundled corpus ingested into a fresh index folder."""
    from ingest.pipeline import ingest

    index = tmp_path_factory.mktemp("index")
    ingest(make_settings(CORPUS, index), progress=False)
    return index


@pytest.fixture(scope="session")
def corpus_settings(corpus_index):
    return make_settings(CORPUS, corpus_index)


@pytest.fixture(scope="session")
def assistant(corpus_settings):
    """One warm assistant over the bundled corpus, shared by the read-only tests."""
    from assistant.service import Assistant

    return Assistant(corpus_settings)


@pytest.fixture(scope="module")
def corpus_url(assistant, corpus_index):
    """The real app over the bundled corpus, served on a free loopback port (one server per test
    module), without a key; yields its URL."""
    from tests.ui_server import free_port, serve

    with serve(assistant, make_settings(CORPUS, corpus_index, port=free_port())) as url:
        yield url


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
