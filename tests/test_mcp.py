"""The MCP server, driven by the official ``mcp`` client session against ``python -m assistant
mcp`` over stdio (and once over streamable HTTP): the two tools, their descriptions, answers
with citations, follow-ups, the participant filters, and errors as one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import asynccontextmanager

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from assistant.mcp_server import matching
from tests.ui_server import ROOT, free_port

LEADER = "Ina Synøve Borsheim"
ENV = {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"}


def server_params(index) -> StdioServerParameters:
    # The client passes on only a safe minimum of the environment: no ASSISTANT_* settings leak in.
    return StdioServerParameters(command=sys.executable, args=["-m", "assistant", "mcp", "--index", str(index)],
                                 env=ENV, cwd=ROOT)


@asynccontextmanager
async def stdio_session(index):
    with open(os.devnull, "w") as quiet:
        async with stdio_client(server_params(index), errlog=quiet) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def text_of(result) -> str:
    assert 1 == len(result.content)
    return result.content[0].text


def run(test, index) -> None:
    """Run ``test(session)`` against a fresh ``python -m assistant mcp`` over stdio."""
    async def main():
        async with stdio_session(index) as session:
            await test(session)

    anyio.run(main)


def test_the_tools_are_described_in_norwegian_and_english(corpus_index):
    """The server offers `ask` and `who_did_what`, each described in both languages, with their parameters."""
    async def check(session):
        tools = {t.name: t for t in (await session.list_tools()).tools}

        assert {"ask", "who_did_what"} == set(tools)
        assert "Still et spørsmål" in tools["ask"].description and "Ask a question" in tools["ask"].description
        assert "Hvem hadde hvilken rolle" in tools["who_did_what"].description
        assert "Who held which role" in tools["who_did_what"].description
        assert ["question"] == tools["ask"].input_schema["required"]
        assert {"question", "history"} == set(tools["ask"].input_schema["properties"])
        assert {"name", "role", "organisation", "date"} == set(tools["who_did_what"].input_schema["properties"])
        assert not tools["who_did_what"].input_schema.get("required")

    run(check, corpus_index)


def test_ask_answers_with_the_contract_object_and_follows_up(corpus_index):
    """`ask` returns the answer object as JSON text, with cited passages; with `history` a
    follow-up question is answered about the person named before."""
    async def check(session):
        first = json.loads(text_of(await session.call_tool("ask", {"question": "Hvem var prosjektleder?"})))
        history = [{"role": "user", "content": "Hvem var prosjektleder?"},
                   {"role": "assistant", "content": first["answer"]}]
        follow = json.loads(text_of(await session.call_tool(
            "ask", {"question": "Hvilken stilling hadde hun?", "history": history})))

        assert {"question", "answer", "abstained", "citations", "timings_ms"} <= set(first)
        assert first["abstained"] is False and LEADER in first["answer"]
        assert all({"n", "document", "section", "text", "chunk_id"} <= set(c) for c in first["citations"])
        assert any(LEADER in c["text"] for c in first["citations"])
        assert LEADER in follow["answer"] and "Bibliotekar" in follow["answer"]

    run(check, corpus_index)


def test_who_did_what_filters_the_participant_records(corpus_index):
    """`who_did_what` returns the matching records with their periods and sources; filters combine,
    and a month picks those who held the role then."""
    async def records(session, **filters) -> list[dict]:
        result = await session.call_tool("who_did_what", filters)
        assert not result.is_error, text_of(result)
        return json.loads(text_of(result))

    async def check(session):
        everyone = await records(session)
        coordinators = await records(session, role="prosjektkoordinator")
        in_drammen_then = await records(session, role="koordinator", organisation="drammen", date="2021-11")
        later = await records(session, role="prosjektkoordinator", date="2022-06")
        by_name = await records(session, name="borsheim")

        assert 18 == len(everyone)
        assert ["Madelen Ramsøy", "Ranveig Hushovd", "Frida Joakimsen Grønvold"] == [p["name"] for p in coordinators]
        assert ["Ranveig Hushovd"] == [p["name"] for p in in_drammen_then]
        assert ["Madelen Ramsøy", "Frida Joakimsen Grønvold"] == [p["name"] for p in later]
        leader = next(p for p in by_name if p["role"] == "prosjektleder")
        assert {"name": LEADER, "document": "om-prosjektet.md",
                "section": "Om prosjektet > Involverte i prosjektet"}.items() <= leader.items()
        assert {"start": "2021-09", "end": "2022-02", "period": "sept. 2021 – feb. 2022"}.items() <= in_drammen_then[0].items()

    run(check, corpus_index)


def test_bad_tool_input_is_an_error_result_of_one_line(corpus_index):
    """An empty question or a date not in YYYY-MM comes back as a tool error saying what is wrong, not a traceback."""
    async def check(session):
        empty = await session.call_tool("ask", {"question": "  "})
        bad_date = await session.call_tool("who_did_what", {"date": "november 2021"})
        still_fine = await session.call_tool("who_did_what", {"name": "Hovde"})

        assert empty.is_error and "the question is empty" in text_of(empty)
        assert bad_date.is_error and "date" in text_of(bad_date)
        assert "Traceback" not in text_of(empty) + text_of(bad_date)
        assert ["Jørgen Hovde"] == sorted({p["name"] for p in json.loads(text_of(still_fine))})

    run(check, corpus_index)


def test_streamable_http_on_loopback(corpus_index):
    """`--http PORT` serves the same tools as streamable HTTP on 127.0.0.1:PORT/mcp."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "mcp", "--index", str(corpus_index), "--http", str(port)],
                            cwd=ROOT, env={**os.environ, **ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    async def check():
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("who_did_what", {"role": "prosjektleder"})
                return [p["name"] for p in json.loads(text_of(result))]

    try:
        line = proc.stderr.readline()
        while line and "Serving MCP" not in line:
            line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/mcp" in line
        for _ in range(50):  # the line comes just before uvicorn binds
            names = None
            try:
                names = anyio.run(check)
                break
            except Exception:
                time.sleep(0.2)
        assert [LEADER] == names
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--index", "{missing}"], "error: no index found in {missing}"),
        (["--http", "70000"], "error: cannot listen on 127.0.0.1:70000 (70000 is not a port number (1-65535))"),
    ],
)
def test_start_up_problems_exit_with_one_line(tmp_path, args, message):
    """A missing index or an impossible port ends `python -m assistant mcp` with one English line and status 1."""
    missing = str(tmp_path / "none")
    done = subprocess.run([sys.executable, "-m", "assistant", "mcp", *(a.format(missing=missing) for a in args)],
                          cwd=ROOT, env={**{k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")},
                                         **ENV, "ASSISTANT_INDEX_DIR": missing},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    lines = done.stderr.splitlines()
    assert 1 == done.returncode
    assert 1 == len(lines), done.stderr
    assert lines[0].startswith(message.format(missing=missing))
    assert "" == done.stdout


def test_matching_reads_a_month_against_a_record_without_a_project_period():
    """Without a stored project period a record's own start and end bound it, open where missing."""
    from ingest.participants import Participant

    early = Participant(id="a", name="Åse Øvre", role="leder", start="2021-03", end="2021-05", section="S")
    open_ended = Participant(id="b", name="Bo Berg", role="leder", start="2022-01", section="S")

    assert ["Åse Øvre"] == [p.name for p in matching([early, open_ended], date="2021-05")]
    assert ["Bo Berg"] == [p.name for p in matching([early, open_ended], date="2030-01")]
    assert ["Åse Øvre"] == [p.name for p in matching([early, open_ended], name="ase ovre")]
