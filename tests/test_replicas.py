"""Several app servers over one Chroma server, as real processes: a `chroma run` server on
loopback, two `python -m ui` replicas with empty, separate index folders, and `python -m
ingest` from a third process. Both replicas answer alike, follow a new ingest without a
restart, say so in Norwegian while Chroma is down and recover when it returns; server mode
answers the evaluation questions exactly as embedded mode does.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.conftest import CORPUS, make_settings
from tests.ui_server import free_port

ROOT = Path(__file__).resolve().parent.parent
NAME = "replicas"
LEADER = "Hvem var prosjektleder?"  # answered from the participant records
PERIOD = "Når ble prosjektet gjennomført?"  # answered from the text: needs Chroma's vector search
NEW_QUESTION = "Hvem leverte de nye dekkene til bokbussen?"
NEW_FACT = "# Vedlikehold\n\nBokbussen fikk nye dekk i mars 2024. Dekkene ble levert av Dekkmann Svelvik AS.\n"
DOWN_MESSAGE = "Chroma-serveren) svarer ikke"
STARTUP_SECONDS = 240  # a replica loads the model and the index; the machine is shared
SWITCH_SECONDS = 90  # pointer polled every 2 s, then a load of a few seconds


def env(**settings: str) -> dict[str, str]:
    """A child's environment: offline, one torch thread, this worktree's code, ASSISTANT_* as given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    base.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", OMP_NUM_THREADS="1")
    base.update({f"ASSISTANT_{k.upper()}": v for k, v in settings.items()})
    return base


def wait_for(url: str, seconds: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"process exited with {proc.returncode} (see its log beside the index)")
            if time.time() > deadline:
                raise AssertionError(f"{url} did not answer within {seconds} s")
            time.sleep(0.5)


class ChromaServer:
    """`chroma run` on a fixed loopback port and data folder, so it can be stopped and started again."""

    def __init__(self, data: Path) -> None:
        self.data, self.port, self.proc = data, free_port(), None

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        self.proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(),
        )
        wait_for(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", 60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, model_dir):
    """Chroma, two replicas that start before any index exists, and the first ingest from a third process."""
    work = tmp_path_factory.mktemp("replicas")
    corpus = work / "corpus"
    shutil.copytree(CORPUS, corpus)
    chroma = ChromaServer(work / "chroma")
    chroma.start()
    server = {"chroma_host": "127.0.0.1", "chroma_port": str(chroma.port), "index_name": NAME}
    replicas, urls = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = open(work / f"replica-{name}.log", "w")  # a file, not a pipe nobody drains
            proc = subprocess.Popen(
                [sys.executable, "-m", "ui"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env=env(**server, index_dir=str(work / f"replica-{name}"), corpus_dir=str(work / f"empty-{name}"),
                        port=str(port), feedback_db=str(work / f"feedback-{name}.sqlite3")),
            )
            replicas.append(proc)
            urls.append(f"http://127.0.0.1:{port}/")

        ingest_env = env(**server, corpus_dir=str(corpus), index_dir=str(work / "ingest-index"))

        def ingest() -> None:
            done = subprocess.run([sys.executable, "-m", "ingest", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                                  env=ingest_env)
            assert 0 == done.returncode, done.stderr

        ingest()
        for proc, url in zip(replicas, urls):
            wait_for(url, STARTUP_SECONDS, proc)
        yield {"chroma": chroma, "urls": urls, "corpus": corpus, "ingest": ingest, "ingest_env": ingest_env,
               "work": work, "server": server}
    finally:
        for proc in replicas:
            proc.terminate()
        for proc in replicas:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        chroma.stop()


def ask(url: str, question: str) -> dict:
    return Client(url, verbose=False).predict(question, api_name="/ask")


def without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def test_replicas_with_empty_folders_give_the_same_cited_answer(cluster):
    """Both replicas, neither with a local index, name the project leader and cite the same passage."""
    first, second = (ask(url, LEADER) for url in cluster["urls"])
    assert "Ina Synøve Borsheim" in first["answer"]
    assert ["om-prosjektet.md"] == [c["document"] for c in first["citations"]]
    assert without_timings(first) == without_timings(second)
    assert not any((cluster["work"] / f"replica-{n}").exists() for n in "ab")


def test_server_mode_answers_the_dev_set_exactly_as_embedded_mode(cluster, assistant, tmp_path):
    """An assistant loaded from the Chroma server alone gives the embedded index's answers to every dev question."""
    from assistant.evaluation import load_sets
    from assistant.service import Assistant

    server = cluster["server"]
    remote = Assistant(make_settings(CORPUS, tmp_path / "empty", chroma_host="127.0.0.1",
                                     chroma_port=int(server["chroma_port"]), index_name=NAME))
    questions = next(s for s in load_sets(["dev"])).questions
    assert len(questions) > 100
    for case in questions:
        history = case.get("history") or []
        expected = without_timings(assistant.ask(case["question"], history).contract())
        assert expected == without_timings(remote.ask(case["question"], history).contract()), case["id"]


def test_an_ingest_killed_midway_leaves_every_replica_on_the_generation_in_use(cluster):
    """An ingest killed while it embeds new material moves no pointer: the replicas go on answering from the old index."""
    from ingest import remote, store
    from ingest.index import index_collections
    from ingest.settings import Settings

    server = cluster["server"]
    settings = Settings(chroma_host="127.0.0.1", chroma_port=int(server["chroma_port"]), index_name=NAME,
                        index_dir=cluster["work"] / "probe")
    client, names = store.connect(settings, settings.index_dir), index_collections(settings)
    before = remote.current_generation(client, names)
    cache = cluster["work"] / "ingest-index"
    folders = set(cache.glob("gen-*"))
    (cluster["corpus"] / "vedlikehold.md").write_text(NEW_FACT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "ingest", "--quiet"], cwd=ROOT, env=cluster["ingest_env"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while set(cache.glob("gen-*")) == folders:  # the new generation is being written
        assert proc.poll() is None and time.time() < deadline, "the ingest ended before it could be killed"
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)
    assert before == remote.current_generation(client, names)
    for url in cluster["urls"]:
        assert "Dekkmann" not in ask(url, NEW_QUESTION)["answer"]
        assert "Ina Synøve Borsheim" in ask(url, LEADER)["answer"]


def test_both_replicas_follow_a_new_ingest_without_a_restart(cluster):
    """After changed material is ingested from a third process, both replicas answer from it within a bounded wait."""
    assert "Dekkmann" not in ask(cluster["urls"][0], NEW_QUESTION)["answer"]
    (cluster["corpus"] / "vedlikehold.md").write_text(NEW_FACT, encoding="utf-8")
    cluster["ingest"]()
    for url in cluster["urls"]:
        deadline = time.time() + SWITCH_SECONDS
        while "Dekkmann Svelvik AS" not in (answer := ask(url, NEW_QUESTION))["answer"]:
            assert time.time() < deadline, f"{url} still answers from the old generation: {answer['answer']}"
            time.sleep(1)
        assert "vedlikehold.md" in {c["document"] for c in answer["citations"]}
        assert "Ina Synøve Borsheim" in ask(url, LEADER)["answer"]


def test_chroma_down_gives_a_norwegian_error_then_answers_again_when_it_returns(cluster):
    """With Chroma stopped, /ask says so in Norwegian within seconds; after a restart on the same data it answers again."""
    url = cluster["urls"][1]
    assert "01.06.2021" in ask(url, PERIOD)["answer"]
    cluster["chroma"].stop()
    try:
        started = time.time()
        with pytest.raises(AppError) as caught:
            ask(url, PERIOD)
        assert time.time() - started < 20
        assert DOWN_MESSAGE in str(caught.value)
        assert "Traceback" not in str(caught.value)
    finally:
        cluster["chroma"].start()
    deadline = time.time() + 30
    while True:
        try:
            answer = ask(url, PERIOD)
            break
        except AppError:
            assert time.time() < deadline, "the replica did not recover after Chroma came back"
            time.sleep(1)
    assert "01.06.2021" in answer["answer"]


@pytest.mark.parametrize("command", [["-m", "ui"], ["-m", "assistant", "ask", "--json", LEADER]])
def test_an_unreachable_chroma_server_at_start_is_one_line_and_a_failed_exit(command, tmp_path):
    """Starting the UI or the CLI against a Chroma server that is not there prints one clear line and exits non-zero."""
    port = free_port()  # nothing listens there
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=env(chroma_host="127.0.0.1", chroma_port=str(port), index_name=NAME, index_dir=str(tmp_path / "index"),
                port=str(free_port())),
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert 1 == done.returncode
    assert [f"error: cannot reach the Chroma server at 127.0.0.1:{port}"] == [e.split(" (")[0] for e in errors]
    assert "Traceback" not in done.stderr
