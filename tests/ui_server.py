"""Helpers shared by the UI tests: serve the real Gradio app on a free loopback port,
in-process, exactly as ``python -m ui`` launches it. (No tests here.)"""
from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI_DATA = Path(__file__).resolve().parent / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(assistant_or_error, settings) -> Iterator[str]:
    """Build the app for ``assistant_or_error`` and serve it on ``settings``' port; yields the URL."""
    from ui.app import build_app, launch

    app = build_app(assistant_or_error, settings)
    _, url, _ = launch(app, settings, prevent_thread_lock=True)
    try:
        yield url
    finally:
        app.close()
