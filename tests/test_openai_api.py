"""The OpenAI-compatible `/v1` chat API, driven by the official ``openai`` client (and httpx
for what that client never sends) against the real app served on loopback, as ``python -m
ui`` serves it: answers with sources, streaming, follow-ups, the key, and bad requests."""
from __future__ import annotations

import copy
import os
import subprocess
import sys

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from assistant.errors import MAX_QUESTION_CHARS
from assistant.verify import language
from ingest.errors import IndexMissing
from tests.conftest import CORPUS, make_settings
from tests.fake_llm_server import FakeLLMServer, Reply
from tests.ui_server import ROOT, free_port, serve
from ui.openai_api import MODEL, ChatAPI, answer_only

LEADER = "Ina Synøve Borsheim"
QUESTION = "Hvem var prosjektleder?"
FOLLOW_UP = "Hvilken stilling hadde hun?"
STAFF = "Hvor mange ansatte var involvert i prosjektarbeidet?"
KEY = "hemmelig-nokkel-123"
CONTRACT = {"question", "answer", "abstained", "citations", "timings_ms"}


@pytest.fixture(scope="module")
def client(corpus_url):
    return openai.OpenAI(base_url=f"{corpus_url}v1", api_key="ubrukt", max_retries=0, timeout=120)


def sources(answer: dict) -> str:
    """The «Kilder:» block the reply text must end with, made from the answer object."""
    if not answer["citations"]:
        return ""
    return "\n\nKilder:\n" + "\n".join(f"[{c['n']}] {c['document']} – {c['section']}" for c in answer["citations"])


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert {"message", "type"} <= set(body["error"]), body
    assert "Traceback" not in response.text
    return body["error"]


# --- answers --------------------------------------------------------------------------------


def test_models_lists_the_assistant(client):
    """`GET /v1/models` names one model, the assistant."""
    assert [MODEL] == [m.id for m in client.models.list().data]


def test_an_answer_ends_with_its_sources_and_carries_the_answer_object(client):
    """The reply is the Norwegian answer, a blank line and one «Kilder:» line per citation; the
    contract's answer object, with the cited passages, comes along as `assistant`."""
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])

    answer = reply.model_extra["assistant"]
    content = reply.choices[0].message.content
    assert CONTRACT <= set(answer)
    assert answer["abstained"] is False and answer["citations"]
    assert all({"n", "document", "section", "text", "chunk_id"} <= set(c) and c["text"] for c in answer["citations"])
    assert QUESTION == answer["question"]
    assert LEADER in answer["answer"] and "en" != language(answer["answer"])
    assert answer["answer"] + sources(answer) == content
    assert ("chat.completion", MODEL, "assistant", "stop") == (
        reply.object, reply.model, reply.choices[0].message.role, reply.choices[0].finish_reason)


def test_streaming_sends_chunks_ending_with_the_sources_and_the_answer_object(client):
    """With `stream: true` the reply arrives as `chat.completion.chunk` events whose text adds up
    to the same reply; the last chunk says `stop` and carries the answer object."""
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}],
                                                 stream=True))

    answer = chunks[-1].model_extra["assistant"]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert {"chat.completion.chunk"} == {c.object for c in chunks}
    assert "assistant" == chunks[0].choices[0].delta.role
    assert "stop" == chunks[-1].choices[0].finish_reason
    assert 1 == len({c.id for c in chunks})
    assert CONTRACT <= set(answer) and LEADER in answer["answer"]
    assert answer["answer"] + sources(answer) == text


def test_the_stream_ends_with_done(corpus_url):
    """The event stream is standard SSE and its last event is `data: [DONE]`."""
    with httpx.stream("POST", f"{corpus_url}v1/chat/completions", timeout=120,
                      json={"model": MODEL, "messages": [{"role": "user", "content": QUESTION}], "stream": True}) as r:
        events = [line for line in r.iter_lines() if line]

    assert r.headers["content-type"].startswith("text/event-stream")
    assert all(e.startswith("data: ") for e in events)
    assert "data: [DONE]" == events[-1]


def test_a_follow_up_is_answered_from_the_earlier_messages(client):
    """Earlier user/assistant messages (our own reply, sources and all, as a chat client sends it
    back) are the history: «hun» in the follow-up is the leader named before."""
    first = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
    messages = [
        {"role": "system", "content": "Du er en hjelpsom assistent."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},
    ]

    reply = client.chat.completions.create(model=MODEL, messages=messages)

    answer = reply.model_extra["assistant"]
    assert FOLLOW_UP == answer["question"]
    assert LEADER in answer["answer"] and "Bibliotekar" in answer["answer"]
    assert answer["answer"] + sources(answer) == reply.choices[0].message.content


def test_our_earlier_reply_is_read_back_as_its_answer_text():
    """The history keeps the answer of an earlier reply, without the sources or the streamed text a correction replaced."""
    assert "Svar [1]." == answer_only("Svar [1].\n\nKilder:\n[1] a.md – A > B")
    assert "Rettet [1]." == answer_only("Strømmet [1] [2].\n\nKontrollert svar: Rettet [1].\n\nKilder:\n[1] a.md – A")
    assert "Uten kilder." == answer_only("Uten kilder.")


def test_a_language_model_s_tokens_are_streamed_as_it_writes(assistant, corpus_index):
    """With a language model configured, its reply reaches the client in many small chunks,
    ending in the verified answer with its sources."""
    from assistant.llm import LLMAnswerer

    with FakeLLMServer() as fake:
        llm = make_settings(CORPUS, corpus_index, llm_backend="openai", llm_base_url=f"{fake.url}/v1",
                            llm_model="test", llm_timeout=10.0)
        phrased = copy.copy(assistant)
        phrased.answerer = LLMAnswerer(llm)
        chunks = assistant.generation.chunks
        passages = assistant.evidence(STAFF).passages
        staff = next(n for n, p in enumerate(passages, 1) if chunks[p].section.endswith("Organisering"))
        fake.script(Reply(f"Totalt 17 ansatte var involvert i prosjektarbeidet [{staff}].", chunk=6))
        with serve(phrased, make_settings(CORPUS, corpus_index, port=free_port())) as url:
            client = openai.OpenAI(base_url=f"{url}v1", api_key="ubrukt", max_retries=0, timeout=120)
            stream = list(client.chat.completions.create(model=MODEL, stream=True,
                                                         messages=[{"role": "user", "content": STAFF}]))

    answer = stream[-1].model_extra["assistant"]
    pieces = [c.choices[0].delta.content for c in stream if c.choices[0].delta.content]
    assert len(pieces) >= 4
    assert "Totalt 17 ansatte var involvert i prosjektarbeidet [1]." == answer["answer"]
    assert "llm:openai" == answer["backend"]
    assert answer["answer"] + sources(answer) == "".join(pieces)


# --- access -----------------------------------------------------------------------------------


def test_with_a_key_requests_need_it(assistant, corpus_index):
    """With ASSISTANT_API_KEY set, a wrong or missing key gets 401 in OpenAI's format, the right key an answer."""
    settings = make_settings(CORPUS, corpus_index, port=free_port(), api_key=KEY)

    with serve(assistant, settings) as url:
        wrong = openai.OpenAI(base_url=f"{url}v1", api_key="feil", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
        bare = httpx.get(f"{url}v1/models")
        right = openai.OpenAI(base_url=f"{url}v1", api_key=KEY, max_retries=0, timeout=120)
        models = right.models.list()
        reply = right.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])

    assert 401 == caught.value.status_code
    assert "ASSISTANT_API_KEY" in caught.value.body["message"]
    assert 401 == bare.status_code and "invalid_api_key" == error_of(bare)["code"]
    assert [MODEL] == [m.id for m in models.data]
    assert LEADER in reply.choices[0].message.content


@pytest.mark.parametrize(("host", "key", "status"), [("0.0.0.0", None, 403), ("192.0.2.7", None, 403),
                                                     ("0.0.0.0", KEY, 200), ("127.0.0.1", None, 200)])
def test_beyond_loopback_the_api_needs_a_key(tmp_path, host, key, status):
    """Listening beyond loopback without a key, `/v1` is closed (403, saying how to open it), as uploads are."""
    settings = make_settings(CORPUS, tmp_path / "index", host=host, api_key=key)
    app = Starlette(routes=[ChatAPI(IndexMissing(tmp_path), settings).mount()])

    response = TestClient(app).get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})

    assert status == response.status_code
    if status == 403:
        assert "ASSISTANT_API_KEY" in error_of(response)["message"]


# --- bad requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "messages", "expected"),
    [
        ("gpt-4o", [{"role": "user", "content": QUESTION}], "Ukjent modell «gpt-4o»"),
        (MODEL, [{"role": "system", "content": "Vær kort."}], "ingen melding med rollen «user»"),
        (MODEL, [], "ingen melding med rollen «user»"),
        (MODEL, [{"role": "user", "content": "  "}], "Spørsmålet er tomt"),
        (MODEL, [{"role": "user", "content": "x" * (MAX_QUESTION_CHARS + 1)}], f"grensen er {MAX_QUESTION_CHARS} tegn"),
    ],
)
def test_bad_requests_get_400_with_a_norwegian_message(client, model, messages, expected):
    """An unknown model, no user message or an empty or overlong question is a 400 in OpenAI's error format."""
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=messages)

    assert 400 == caught.value.status_code
    assert expected in caught.value.body["message"]
    assert "invalid_request_error" == caught.value.body["type"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"model": "prosjektassistent", "messages": [', "ikke gyldig JSON"),
        (b"\xff\xfe", "ikke gyldig JSON"),
        (b'{"messages": [{"role": "user", "content": "Hei"}]}', "«model»"),
        (b'{"model": "prosjektassistent", "messages": [{"role": "bruker", "content": "Hei"}]}', "«messages.0.role»"),
        (b'{"model": "prosjektassistent", "messages": "Hei"}', "«messages»"),
        (b'[1, 2]', "forespørselen"),
    ],
)
def test_malformed_requests_get_400_never_500(corpus_url, body, expected):
    """Broken JSON or fields of the wrong shape get a 400 in OpenAI's format naming the problem, never a traceback."""
    response = httpx.post(f"{corpus_url}v1/chat/completions", content=body,
                          headers={"Content-Type": "application/json"})

    assert 400 == response.status_code
    assert expected in error_of(response)["message"]


def test_without_an_index_questions_say_how_to_build_it(tmp_path):
    """When the assistant could not start, the API still answers, with 503 and the page's Norwegian how-to."""
    settings = make_settings(CORPUS, tmp_path / "missing", port=free_port())

    with serve(IndexMissing(tmp_path / "missing"), settings) as url:
        models = httpx.get(f"{url}v1/models")
        response = httpx.post(f"{url}v1/chat/completions",
                              json={"model": MODEL, "messages": [{"role": "user", "content": QUESTION}]})

    assert 200 == models.status_code
    assert 503 == response.status_code
    assert "Fant ingen indeks" in error_of(response)["message"]


def test_python_m_ui_serves_the_api_and_reads_the_key_from_the_environment(tmp_path):
    """`python -m ui` serves `/v1` on the page's host and port, with the key from ASSISTANT_API_KEY."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", ASSISTANT_PORT=str(port), ASSISTANT_API_KEY=KEY,
               ASSISTANT_INDEX_DIR=str(tmp_path / "none"))
    proc = subprocess.Popen([sys.executable, "-m", "ui"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        anonymous = httpx.get(f"http://127.0.0.1:{port}/v1/models")
        models = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0).models.list()
    finally:
        proc.terminate()
        proc.wait(30)

    assert 401 == anonymous.status_code
    assert [MODEL] == [m.id for m in models.data]
