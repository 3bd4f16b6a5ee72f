"""Running a command-line entry point the way Unix tools behave."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn


def run(main: Callable[[], int]) -> NoReturn:
    """``sys.exit(main())``, except that a reader who stops early («python -m assistant ask … | head -1»)
    ends the command quietly with status 1 instead of a traceback (Python's documented recipe)."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's own flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    sys.exit(status)
