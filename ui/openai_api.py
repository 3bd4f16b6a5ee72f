"""The OpenAI-compatible chat API served beside the page under ``/v1`` (``GET /v1/models``,
``POST /v1/chat/completions``, JSON or server-sent events), so chat clients such as Open
WebUI can use the assistant as a model. A thin shell over the assistant the page answers
with; the format is ../shared/CONTRACT.md «Chat-API».

Access: with ``ASSISTANT_API_KEY`` every request needs ``Authorization: Bearer <key>``;
without a key the API is open on loopback only, like uploads (ui/library.py).
"""
from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from itertools import chain
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from assistant.errors import AssistantError, BadHistory, EmptyQuestion, QuestionTooLong
from assistant.models import Answer, Turn
from ingest.settings import Settings
from ui import render
from ui.library import LOOPBACK

log = logging.getLogger(__name__)

MODEL = "prosjektassistent"
PREFIX = "/v1"
# A conversation of a few hundred turns fits many times over; anything larger is not a chat.
MAX_BODY_BYTES = 2 * 1024 * 1024
SOURCES_HEADING = "Kilder:"
# Said before the verified answer when verification changed what the model had streamed
# (a claim dropped, or the offline answer instead): streamed text cannot be taken back.
CORRECTED = "Kontrollert svar:"


# --- the request --------------------------------------------------------------------------


class ContentPart(BaseModel):
    """One part of a message in the list form (``{"type": "text", "text": ...}``); others are ignored."""

    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields of an OpenAI chat request the assistant uses; the rest (temperature, …) are ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str
    messages: list[ChatMessage]
    stream: bool = False


class Conversation(BaseModel):
    """The last user message and the user/assistant turns before it, oldest first."""

    question: str
    history: list[Turn]


class ApiError(Exception):
    """A request that gets an error response in OpenAI's format; ``message`` is Norwegian."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}}

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def conversation(request: ChatRequest) -> Conversation:
    """The question and its history; system and tool messages are not part of the conversation."""
    turns = [(m.role, m.text()) for m in request.messages if m.role in ("user", "assistant")]
    last = max((i for i, (role, _) in enumerate(turns) if role == "user"), default=None)
    if last is None:
        raise ApiError(400, "Forespørselen har ingen melding med rollen «user». Den siste brukermeldingen er "
                            "spørsmålet som besvares.")
    try:
        question = render.check_question(turns[last][1])
    except AssistantError as exc:
        raise _failure(exc) from None
    history = [Turn(role=role, content=answer_only(text) if role == "assistant" else text) for role, text in turns[:last]]
    return Conversation(question=question, history=history)


def answer_only(content: str) -> str:
    """An earlier reply of ours without its source list (and, if corrected, only the verified
    answer), as the page passes its history: the follow-up logic reads the answer text."""
    content = content.partition(f"\n\n{SOURCES_HEADING}\n")[0]
    return content.rpartition(f"\n\n{CORRECTED} ")[2]


# --- the reply ----------------------------------------------------------------------------


def sources_text(answer: Answer) -> str:
    """A blank line, «Kilder:» and one line per citation; empty when nothing is cited."""
    if not answer.citations:
        return ""
    lines = [f"[{c.n}] {c.document} – {c.section}" for c in answer.citations]
    return f"\n\n{SOURCES_HEADING}\n" + "\n".join(lines)


def reply_text(answer: Answer) -> str:
    """``choices[0].message.content``: the answer, then its sources."""
    return answer.answer + sources_text(answer)


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop"] = "stop"


class _Completion(BaseModel):
    """What a reply and each chunk of a streamed one share; ``object`` says which it is."""

    id: str
    object: str
    created: int
    model: str = MODEL


class ChatCompletion(_Completion):
    object: Literal["chat.completion"] = "chat.completion"
    choices: list[Choice]
    assistant: dict = Field(description="The answer object of the CLI contract.")


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(_Completion):
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    choices: list[ChunkChoice]
    assistant: dict | None = Field(None, description="On the last chunk: the answer object of the CLI contract.")


class Stream:
    """The server-sent events of one streamed reply: a role chunk, the text as it grows,
    the sources and the answer object with the last chunk, then ``[DONE]``."""

    def __init__(self, first: Answer, rest: Iterator[Answer]) -> None:
        self.id, self.created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        self._partials = chain([first], rest)

    def events(self) -> Iterator[str]:
        yield self._chunk(Delta(role="assistant", content=""))
        shown, final = "", None
        try:
            for partial in self._partials:
                final = partial
                if partial.answer.startswith(shown) and len(partial.answer) > len(shown):
                    yield self._chunk(Delta(content=partial.answer[len(shown):]))
                    shown = partial.answer
        except Exception as exc:  # after the first byte the status is sent: the error goes in the stream
            yield _event(_failure(exc).body())
            yield "data: [DONE]\n\n"
            return
        rest = final.answer[len(shown):] if final.answer.startswith(shown) else f"\n\n{CORRECTED} {final.answer}"
        if rest + sources_text(final):
            yield self._chunk(Delta(content=rest + sources_text(final)))
        yield self._chunk(Delta(), finish_reason="stop", assistant=final.contract())
        yield "data: [DONE]\n\n"

    def _chunk(self, delta: Delta, finish_reason: Literal["stop"] | None = None, assistant: dict | None = None) -> str:
        chunk = ChatCompletionChunk(id=self.id, created=self.created, assistant=assistant,
                                    choices=[ChunkChoice(delta=delta, finish_reason=finish_reason)])
        return _event(chunk.model_dump(exclude_none=True))


def _event(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _failure(exc: BaseException) -> ApiError:
    """The error response for what went wrong, mapped by type; the message is the page's Norwegian one."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, (EmptyQuestion, QuestionTooLong, BadHistory)):
        return ApiError(400, render.error_message(exc))
    if isinstance(exc, AssistantError):  # no index, the Chroma server is down, …: nothing the request can fix
        return ApiError(503, render.error_message(exc), "server_error")
    log.error("chat API: answering failed", exc_info=exc)
    return ApiError(500, render.error_message(exc), "server_error")


# --- the routes ---------------------------------------------------------------------------


class ChatAPI:
    """The ``/v1`` routes over one assistant (the page's :class:`ui.live.LiveAssistant`), or
    over the error that kept it from starting, which every question then gets."""

    def __init__(self, assistant_or_error, settings: Settings) -> None:
        self._assistant = assistant_or_error
        self._settings = settings
        self._created = int(time.time())

    def mount(self) -> Mount:
        return Mount(PREFIX, routes=[
            Route("/models", self.models, methods=["GET"]),
            Route("/chat/completions", self.completions, methods=["POST"]),
        ])

    def refusal(self, request: Request) -> ApiError | None:
        """Why this request may not use the API, or None."""
        key = self._settings.api_key.get_secret_value() if self._settings.api_key else ""
        if not key:
            if self._settings.host in LOOPBACK:
                return None
            return ApiError(403, f"Chat-API-et er stengt fordi appen er tilgjengelig fra andre maskiner "
                                 f"({self._settings.host}) uten API-nøkkel. Den som drifter appen kan sette "
                                 "ASSISTANT_API_KEY og starte den på nytt.", "permission_error")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), key.encode()):
            return ApiError(401, "Mangler eller feil API-nøkkel. Send «Authorization: Bearer <nøkkel>» med nøkkelen "
                                 "fra ASSISTANT_API_KEY.", "invalid_request_error", "invalid_api_key")
        return None

    async def models(self, request: Request) -> Response:
        if refused := self.refusal(request):
            return refused.response()
        return JSONResponse({"object": "list", "data": [
            {"id": MODEL, "object": "model", "created": self._created, "owned_by": MODEL},
        ]})

    async def completions(self, request: Request) -> Response:
        if refused := self.refusal(request):
            return refused.response()
        try:
            chat = _parse(await _read(request))
            if chat.model != MODEL:
                raise ApiError(400, f"Ukjent modell «{chat.model}». Bruk «{MODEL}» (se GET /v1/models).",
                               code="model_not_found")
            asked = conversation(chat)
            if isinstance(self._assistant, BaseException):
                raise self._assistant
            if not chat.stream:
                answer = await run_in_threadpool(self._assistant.ask, asked.question, asked.history)
                return JSONResponse(ChatCompletion(
                    id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()),
                    choices=[Choice(message=ReplyMessage(content=reply_text(answer)))], assistant=answer.contract(),
                ).model_dump())
            # The first partial answer comes before the response starts, so that anything
            # that fails before the model writes (no index, bad history) gets its status code.
            partials = self._assistant.stream(asked.question, asked.history)
            first = await run_in_threadpool(next, partials, None)
            if first is None:
                raise RuntimeError("the assistant gave no answer")
            return StreamingResponse(Stream(first, partials).events(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        except Exception as exc:
            return _failure(exc).response()


async def _read(request: Request) -> bytes:
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(400, f"Forespørselen er større enn {MAX_BODY_BYTES // (1024 * 1024)} MB.")
    return bytes(body)


def _parse(body: bytes) -> ChatRequest:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "Forespørselen er ikke gyldig JSON.") from None
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "forespørselen"
        raise ApiError(400, f"Feltet «{field}» er ugyldig: {err['msg']} (teknisk detalj på engelsk).") from None
