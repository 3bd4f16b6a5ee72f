"""``python -m ui [--host HOST] [--port PORT] [--index DIR]``: serve the chat on
http://127.0.0.1:7860 (``ASSISTANT_HOST``/``ASSISTANT_PORT``). The assistant is loaded
once and replaced when the index changes (ui/live.py); if the index is missing the page
still starts and says how to build it.
"""
from __future__ import annotations

import argparse
import errno
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Serve the assistant's web page.")
    parser.add_argument("--host", help="address to listen on (default: ASSISTANT_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: ASSISTANT_PORT or 7860)")
    parser.add_argument("--index", help="index folder (default: ASSISTANT_INDEX_DIR or data/index)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from ingest.errors import AssistantError, SettingsError
    from ingest.settings import Settings

    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "index_dir": args.index}.items() if v}
    try:
        settings = Settings(**overrides)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not 0 < settings.port < 65536:
        print(f"error: setting ASSISTANT_PORT: {settings.port} is not a port number (1-65535)", file=sys.stderr)
        return 2
    if bool(settings.auth_user) != bool(settings.auth_password):
        print("error: set both ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD, or neither", file=sys.stderr)
        return 2

    # Check the address before spending seconds loading the model for nothing.
    problem = _cannot_listen(settings.host, settings.port)
    if problem:
        print(f"error: cannot listen on {settings.host}:{settings.port} ({problem}); "
              "set ASSISTANT_HOST/ASSISTANT_PORT (or --host/--port)", file=sys.stderr)
        return 1

    from ingest.errors import StoreUnavailable
    from ui.app import build_app, launch

    print("Loading the index and the model …", file=sys.stderr, flush=True)
    try:
        assistant = _load(settings)
    except StoreUnavailable as exc:  # nothing to serve from, and nothing the page could fix
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except AssistantError as exc:
        # Serve anyway: the page explains (in Norwegian) how to fix it.
        print(f"warning: {exc}", file=sys.stderr)
        assistant = exc
    app = build_app(assistant, settings)
    try:
        _, url, _ = launch(app, settings, prevent_thread_lock=True)
    except OSError as exc:  # lost a race for the port since the check above
        print(f"error: cannot listen on {settings.host}:{settings.port} ({_reason(exc)}); "
              "set ASSISTANT_HOST/ASSISTANT_PORT (or --host/--port)", file=sys.stderr)
        return 1
    print(f"Serving the assistant on {url} (Ctrl+C to stop)", flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    return 0


def _load(settings):
    """The assistant. With a Chroma server that holds no index under this name yet, wait for
    the first ingest to publish one (replicas may start before the ingest job has run)."""
    import time

    from assistant.service import Assistant
    from ingest.errors import IndexMissing
    from ingest.remote import PointerWatch

    said = False
    while True:
        try:
            return Assistant(settings)
        except IndexMissing as exc:
            if not settings.chroma_host:
                raise
            if not said:
                print(f"waiting: {exc}", file=sys.stderr, flush=True)
                said = True
            time.sleep(PointerWatch.POLL_SECONDS)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound, or None if it can."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"unknown host: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # Same option uvicorn sets, so a just-closed server's port counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
    return None


def _reason(exc: OSError) -> str:
    text = str(exc)
    return "the port is in use" if "Cannot find empty port" in text else text.split(". ")[0]


if __name__ == "__main__":
    sys.exit(main())
