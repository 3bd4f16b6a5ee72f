"""A small real HTTP server on 127.0.0.1 that speaks the two language-model protocols the
assistant uses: OpenAI chat completions (``POST /v1/chat/completions``, JSON or SSE with
``stream: true``) and Ollama (``POST /api/chat``, JSON or NDJSON). Its replies are
scripted per test, and it records every request it gets. (No tests here.)
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def unused_port() -> int:
    """A loopback port nothing listens on (for a server that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Reply:
    """One scripted reply: the text the model writes, or a failure."""

    text: str = ""
    status: int = 200  # anything else: an error response with a JSON error body
    delay: float = 0.0  # seconds before the first byte
    raw: str | None = None  # sent as the body instead of a well-formed reply (garbage)
    chunk: int = 8  # characters per streamed piece
    chunk_delay: float = 0.0  # seconds between streamed pieces


class FakeLLMServer:
    """Serves scripted replies in order; when the script runs out, the last reply repeats."""

    def __init__(self) -> None:
        self._script: deque[Reply] = deque()
        self._last = Reply(status=500, raw='{"error": "no reply scripted"}')
        self.requests: list[dict] = []  # {"path", "headers", "body"} in arrival order
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply | str) -> None:
        """Forget earlier requests and reply with ``replies`` in order (a str is a good reply)."""
        with self._lock:
            self.requests.clear()
            self._script = deque(r if isinstance(r, Reply) else Reply(r) for r in replies)
            if self._script:
                self._last = self._script[-1]

    def _next(self, path: str, headers: dict, body: dict) -> Reply:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            return self._script.popleft() if self._script else self._last

    def __enter__(self) -> "FakeLLMServer":
        threading.Thread(target=self._httpd.serve_forever, name="fake-llm", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    body = {}
                if self.path not in ("/v1/chat/completions", "/api/chat"):
                    self._send(404, "application/json", json.dumps({"error": f"no route {self.path}"}))
                    return
                reply = server._next(self.path, dict(self.headers), body)
                try:
                    self._answer(reply, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to do

            def _answer(self, reply: Reply, body: dict) -> None:
                server._closing.wait(reply.delay)
                ollama = self.path == "/api/chat"
                if reply.status != 200:
                    self._send(reply.status, "application/json", json.dumps({"error": {"message": "scripted failure"}}))
                elif reply.raw is not None:
                    self._send(200, "application/x-ndjson" if ollama and body.get("stream") else "application/json", reply.raw)
                elif not body.get("stream"):
                    self._send(200, "application/json", json.dumps(_ollama(reply.text, True) if ollama else _openai(reply.text)))
                else:
                    self._stream(reply, ollama)

            def _send(self, status: int, kind: str, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, ollama: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [reply.text[i:i + reply.chunk] for i in range(0, len(reply.text), reply.chunk)]
                for piece in pieces:
                    if ollama:
                        self.wfile.write((json.dumps(_ollama(piece, False)) + "\n").encode())
                    else:
                        self.wfile.write(f"data: {json.dumps(_openai_chunk(piece, None))}\n\n".encode())
                    self.wfile.flush()
                    if reply.chunk_delay:
                        time.sleep(reply.chunk_delay)
                if ollama:
                    self.wfile.write((json.dumps(_ollama("", True)) + "\n").encode())
                else:
                    self.wfile.write(f"data: {json.dumps(_openai_chunk('', 'stop'))}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()

        return Handler


def _openai(text: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def _openai_chunk(text: str, finish: str | None) -> dict:
    delta = {"role": "assistant", "content": text} if text else {}
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "test",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _ollama(text: str, done: bool) -> dict:
    out = {
        "model": "test",
        "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": text},
        "done": done,
    }
    if done:
        out.update(done_reason="stop", total_duration=1000, prompt_eval_count=100, eval_count=20)
    return out
