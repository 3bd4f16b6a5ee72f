"""``python -m assistant ask [--index DIR] [--json] (QUESTION | --file QUESTIONS.jsonl)``.

See ../shared/CONTRACT.md. Errors are one English line on stderr and a non-zero exit.
"""
from __future__ import annotations

import argparse
import json
import sys

from ingest.errors import AssistantError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Ask the project assistant.")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question, or a JSONL file of questions")
    ask.add_argument("question", nargs="?", help="the question (in quotes)")
    ask.add_argument("--file", help="JSONL file: one {\"question\": ..., \"history\": [...]} per line")
    ask.add_argument("--index", help="index folder (default: ASSISTANT_INDEX_DIR or data/index)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (the contract format)")
    args = parser.parse_args(argv)
    if (args.question is None) == (args.file is None):
        parser.error("give either a QUESTION or --file QUESTIONS.jsonl")

    try:
        from assistant.service import Assistant, validate_question

        requests = _read_file(args.file) if args.file else [{"question": validate_question(args.question), "history": []}]
        from ingest.settings import Settings

        settings = Settings(**({"index_dir": args.index} if args.index else {}))
        assistant = Assistant(settings)
        for request in requests:
            try:
                answer = assistant.ask(request.get("question", ""), request.get("history") or [])
            except AssistantError as exc:
                if not args.file:
                    raise
                # In a batch, one bad line must not cost the others their answers.
                print(json.dumps({"question": request.get("question"), "error": str(exc)}, ensure_ascii=False))
                continue
            print(json.dumps(answer.contract(), ensure_ascii=False) if args.json else _for_people(answer), flush=True)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _read_file(path: str) -> list[dict]:
    from ingest.errors import CorpusError

    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc.__class__.__name__}") from None
    requests = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise CorpusError(f"{path}:{number}: expected an object with a \"question\" string")
        requests.append(item)
    return requests


def _for_people(answer) -> str:
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("Kilder:")
        for c in answer.citations:
            lines.append(f"[{c.n}] {c.document} – {c.section}")
            lines.extend(f"    {ln}" for ln in c.text.splitlines() if ln.strip())
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
