"""``python -m assistant ask [--index DIR] [--json] (QUESTION | --file QUESTIONS.jsonl | --file -)``,
``python -m assistant feedback export [--db FILE] [--rating up|down]`` (ratings as YAML) and
``python -m assistant mcp [--index DIR] [--http PORT]`` (the MCP server, assistant/mcp_server.py).

See ../shared/CONTRACT.md. Errors are one English line on stderr and a non-zero exit; in
a batch, a line that cannot be read or answered yields ``{"line": N, "error": ...}`` in
its place, the rest go on, and the exit status is 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

from ingest.errors import AssistantError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Ask the project assistant.")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question, or a JSONL file of questions")
    ask.add_argument("question", nargs="?", help="the question (in quotes)")
    ask.add_argument("--file", help="JSONL file (or - for standard input): one {\"question\": ..., \"history\": [...]} per line")
    ask.add_argument("--index", help="index folder (default: ASSISTANT_INDEX_DIR or data/index)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (the contract format)")
    feedback = sub.add_parser("feedback", help="the users' ratings of answers")
    feedback.add_argument("action", choices=["export"], help="export: the ratings as YAML evaluation cases on stdout")
    feedback.add_argument("--db", help="ratings database (default: ASSISTANT_FEEDBACK_DB or data/feedback.sqlite3)")
    feedback.add_argument("--rating", choices=["up", "down"], help="only ratings of this kind")
    mcp = sub.add_parser("mcp", help="serve the assistant as an MCP server (stdio, or streamable HTTP with --http)")
    mcp.add_argument("--index", help="index folder (default: ASSISTANT_INDEX_DIR or data/index)")
    mcp.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio")
    args = parser.parse_args(argv)
    if args.command == "feedback":
        return _export_feedback(args.db, args.rating)
    if args.command == "mcp":
        return _serve_mcp(args.index, args.http)
    if (args.question is None) == (args.file is None):
        parser.error("give either a QUESTION or --file QUESTIONS.jsonl")

    from assistant import Assistant, Settings
    from assistant.service import validate_question

    try:
        if args.file is None:
            validate_question(args.question)  # before the model loads: a bad question fails fast
        lines = _lines(args.file) if args.file else None
        settings = Settings(**({"index_dir": args.index} if args.index else {}))
        assistant = Assistant(settings)
        if lines is None:
            _print(assistant.ask(args.question), args.json)
            return 0
        failed = False
        for number, request in _requests(lines):
            try:
                if isinstance(request, str):
                    raise AssistantError(request)
                _print(assistant.ask(request["question"], request.get("history") or []), args.json)
            except AssistantError as exc:
                # In a batch, one bad line must not cost the others their answers.
                failed = True
                print(json.dumps({"line": number, "error": str(exc)}, ensure_ascii=False), flush=True)
        return 1 if failed else 0
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _export_feedback(db: str | None, rating: str | None) -> int:
    from assistant import Settings
    from assistant.feedback import FeedbackStore, export_yaml

    try:
        path = db or Settings().feedback_db
        sys.stdout.write(export_yaml(FeedbackStore(path).all(rating)))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve_mcp(index: str | None, http_port: int | None) -> int:
    import contextlib

    from assistant import Assistant, Settings
    from assistant.mcp_server import HTTP_HOST, HTTP_PATH, port_problem, serve

    problem = http_port is not None and port_problem(http_port)
    if problem:  # before seconds of model loading
        print(f"error: cannot listen on {HTTP_HOST}:{http_port} ({problem}); choose another --http PORT", file=sys.stderr)
        return 1
    try:
        # Over stdio, standard output is the protocol: nothing loading the model says may reach it.
        with contextlib.redirect_stdout(sys.stderr):
            assistant = Assistant(Settings(**({"index_dir": index} if index else {})))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if http_port is not None:
        print(f"Serving MCP on http://{HTTP_HOST}:{http_port}{HTTP_PATH} (Ctrl+C to stop)", file=sys.stderr, flush=True)
    try:
        serve(assistant, http_port)
    except KeyboardInterrupt:
        pass
    return 0


def _lines(path: str) -> list[str]:
    from ingest.errors import CorpusError

    try:
        if path == "-":
            return sys.stdin.read().splitlines()
        with open(path, encoding="utf-8") as fh:
            return fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc.__class__.__name__}") from None


def _requests(lines: list[str]) -> Iterator[tuple[int, dict | str]]:
    """(line number, request) for every non-blank line; a request that cannot be read is
    the reason why, as a string."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"line {number}: not valid JSON ({exc.msg})"
            continue
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            yield number, f"line {number}: expected an object with a \"question\" string"
            continue
        yield number, item


def _print(answer, as_json: bool) -> None:
    print(json.dumps(answer.contract(), ensure_ascii=False) if as_json else _for_people(answer), flush=True)


def _for_people(answer) -> str:
    from assistant.answer import BOLD

    # The words an answer points at are Markdown bold (**…**): bold on a terminal, plain in a pipe.
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    lines = [BOLD.sub(lambda m: f"{bold[0]}{m.group(1)}{bold[1]}", answer.answer)]
    if answer.citations:
        lines.append("")
        lines.append("Kilder:")
        for c in answer.citations:
            lines.append(f"[{c.n}] {c.document} – {c.section}")
            lines.extend(f"    {ln}" for ln in c.text.splitlines() if ln.strip())
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from ingest.console import run

    run(main)
