"""The assistant as a Model Context Protocol server (``python -m assistant mcp``): the tools
``ask`` (the answer object of ../shared/CONTRACT.md as JSON text) and ``who_did_what`` (the
matching participant records as JSON text), over stdio or streamable HTTP on loopback.
A thin shell over :class:`assistant.Assistant`, built with the official ``mcp`` SDK.
"""
from __future__ import annotations

import errno
import json
import math
import socket
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from assistant.errors import AssistantError
from assistant.models import Turn
from assistant.service import Assistant
from ingest import Participant, fold, month_index

NAME = "prosjektassistent"
HTTP_HOST = "127.0.0.1"  # the HTTP transport has no authentication: this machine only
HTTP_PATH = "/mcp"

INSTRUCTIONS = (
    "Prosjektassistenten svarer på spørsmål om ett prosjekts materiale (rapporter, notater, deltakerlister) "
    "med kilder, og sier fra når materialet ikke har svaret. / The project assistant answers questions about "
    "one project's material, citing its sources, and says so when the material does not hold the answer."
)
ASK = (
    "Still et spørsmål om prosjektet (helst på norsk) og få svaret som JSON: «answer» med [n]-markører, "
    "«citations» med dokument, seksjon og den siterte teksten, «abstained» (true når materialet ikke har "
    "svaret) og «confidence». Gi tidligere meldinger i «history» for oppfølgingsspørsmål.\n"
    "Ask a question about the project (preferably in Norwegian) and get the answer as JSON: «answer» with "
    "[n] markers, «citations» with document, section and the cited text, «abstained» (true when the material "
    "does not hold the answer) and «confidence». Pass earlier messages in «history» for follow-up questions."
)
WHO_DID_WHAT = (
    "Hvem hadde hvilken rolle i prosjektet, og når: deltakeroppføringene (én per person og rolle, med stilling, "
    "organisasjon, periode og kilde: dokument og seksjon) som passer til alle filtrene som er gitt, som JSON. "
    "Uten filtre: alle.\n"
    "Who held which role in the project, and when: the participant records (one per person and role, with "
    "title, organisation, period and source: document and section) matching every filter given, as JSON. "
    "Without filters: all of them."
)

Question = Annotated[str, Field(description="Spørsmålet / the question, e.g. «Hvem var prosjektleder?»")]
History = Annotated[list[Turn] | None, Field(
    description="Tidligere meldinger, eldste først / earlier messages, oldest first: "
                "[{\"role\": \"user\"|\"assistant\", \"content\": \"...\"}]")]
NameFilter = Annotated[str | None, Field(description="Navn eller del av navn / name or part of it, e.g. «Borsheim»")]
RoleFilter = Annotated[str | None, Field(description="Rolle eller del av den / role or part of it, e.g. «prosjektleder»")]
OrganisationFilter = Annotated[str | None, Field(
    description="Organisasjon eller enhet, eller del av den / organisation or unit, or part of it, e.g. «Drammen»")]
DateFilter = Annotated[str | None, Field(
    pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
    description="Måned som YYYY-MM: bare de som hadde rollen da / month as YYYY-MM: only those holding the role then")]


def build(assistant: Assistant) -> MCPServer:
    """The MCP server with the two tools, over ``assistant`` (anything with ``ask`` and ``participants``)."""
    server = MCPServer(NAME, title="Prosjektassistenten", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(description=ASK, structured_output=False)
    def ask(question: Question, history: History = None) -> str:
        try:
            answer = assistant.ask(question, history or None)
        except AssistantError as exc:  # bad input or no index: one line for the caller, no traceback
            raise ToolError(str(exc)) from None
        return json.dumps(answer.contract(), ensure_ascii=False)

    @server.tool(description=WHO_DID_WHAT, structured_output=False)
    def who_did_what(name: NameFilter = None, role: RoleFilter = None, organisation: OrganisationFilter = None,
                     date: DateFilter = None) -> str:
        try:
            people = assistant.participants()
        except AssistantError as exc:
            raise ToolError(str(exc)) from None
        chosen = matching(people, name=name, role=role, organisation=organisation, date=date)
        return json.dumps([p.model_dump(mode="json", exclude_none=True) for p in chosen], ensure_ascii=False)

    return server


def matching(people: list[Participant], *, name: str | None = None, role: str | None = None,
             organisation: str | None = None, date: str | None = None) -> list[Participant]:
    """The records matching every filter given: each word of ``name`` in the name, ``role`` in
    the role, ``organisation`` in the organisation or unit (case and diacritics ignored), and the
    role held in the month ``date`` (YYYY-MM; a record without dates spans its project)."""
    chosen = []
    for p in people:
        if name and not all(word in fold(p.name) for word in fold(name).split()):
            continue
        if role and fold(role.strip()) not in fold(p.role):
            continue
        if organisation and fold(organisation.strip()) not in fold(" ".join(x for x in (p.organisation, p.unit) if x)):
            continue
        if date and not _held_in(p, month_index(date, end=False)):
            continue
        chosen.append(p)
    return chosen


def _held_in(record: Participant, month: int) -> bool:
    if record.project is not None:
        first, last = record.months(record.project)
    else:  # no project period stored: only the record's own dates bound it
        first = month_index(record.start, end=False) if record.start else -math.inf
        last = month_index(record.end, end=True) if record.end else math.inf
    return first <= month <= last


def port_problem(port: int) -> str | None:
    """Why the HTTP transport cannot listen on ``port`` of loopback, or None if it can."""
    if not 0 < port < 65536:
        return f"{port} is not a port number (1-65535)"
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((HTTP_HOST, port))
        except OSError as exc:
            return "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
    return None


def serve(assistant: Assistant, http_port: int | None = None) -> None:
    """Serve until the client hangs up (stdio) or Ctrl+C (HTTP)."""
    server = build(assistant)
    if http_port is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host=HTTP_HOST, port=http_port, streamable_http_path=HTTP_PATH)
