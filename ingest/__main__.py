"""``python -m ingest [--corpus DIR] [--index DIR] [--skip-unreadable]``: build or update the index."""
from __future__ import annotations

import argparse
import sys

from ingest.errors import AssistantError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Chunk, embed and store the corpus in Chroma.")
    parser.add_argument("--corpus", help="folder with the material (default: ASSISTANT_CORPUS_DIR or corpus/)")
    parser.add_argument("--index", help="index folder (default: ASSISTANT_INDEX_DIR or data/index)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--skip-unreadable", action="store_true",
                        help="leave out files that cannot be read (one line each says why) instead of stopping")
    args = parser.parse_args(argv)

    from ingest.pipeline import ingest
    from ingest.settings import Settings

    overrides = {k: v for k, v in {"corpus_dir": args.corpus, "index_dir": args.index}.items() if v}
    try:
        settings = Settings(**overrides)
        summary = ingest(settings, progress=not args.quiet, skip_unreadable=args.skip_unreadable)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the previous index is still in use", file=sys.stderr)
        return 130
    for name in summary.skipped:
        print(f"note: skipped {name} (unsupported file type)", file=sys.stderr)
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    for left_out in summary.unreadable:
        print(f"skipped {left_out.name}: {left_out.reason}", file=sys.stderr)
    print(summary.line())
    return 0


if __name__ == "__main__":
    from ingest.console import run

    run(main)
