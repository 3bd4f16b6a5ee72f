"""File helpers shared by the conversion and the ONNX export: JSON, hashing, locking, permissions."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    """The parsed file, or None when it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def locked(target: Path) -> Iterator[None]:
    """Serialise work on one target across processes (advisory lock beside it)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: fall back to no locking
        yield
        return
    with open(target.parent / f".{target.name}.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def make_world_readable(folder: Path) -> None:
    """mkdtemp() creates 0700 folders; a shared model folder should read like any other checkout."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def install_folder(target: Path, build: Callable[[Path], None]) -> None:
    """Build a folder in a temp sibling of ``target`` and swap it in by renames, so readers see
    the old folder or the complete new one. Call holding ``locked``: leftover siblings are then
    debris of an interrupted run."""
    for debris in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(debris, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        build(tmp)
        make_world_readable(tmp)
        if target.exists():
            old = target.parent / f".{target.name}.tmp-old-{os.getpid()}"
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
