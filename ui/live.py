"""The assistant the page answers with, replaced by a new one when the index changes.

An ingest writes a new generation, swaps the manifest and then deletes the Chroma rows of
document versions the new generation no longer uses, so an :class:`Assistant` over the old
generation soon retrieves less than it should. :class:`LiveAssistant` hands every request the assistant
of the newest complete generation (taken once, at the request's start), loads a new one
when the manifest names another generation (after an upload here or a ``python -m
ingest`` in a terminal), and asks a question again on the new generation when the old
one vanished under it. Ingests started from the page run one at a time.

With a Chroma server (several app servers over one index) the pointer in the server takes
the manifest's place: it is polled every few seconds, a new generation is loaded in the
background while the one in use keeps answering (its rows outlive it by a grace period,
see ``ingest.remote``), and the swap happens between requests.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from assistant.models import Answer, Turn
from assistant.service import Assistant
from ingest import remote
from ingest.index import MANIFEST, Manifest
from ingest.participants import Participant
from ingest.pipeline import Summary, ingest
from ingest.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_SECONDS = 30.0  # a generation that failed to load is tried again after this long


class ManifestWatch:
    """The generation the local manifest names; re-read only when the file changed (a stat per request)."""

    def __init__(self, index_dir: Path) -> None:
        self._index_dir = index_dir
        self._seen: tuple[int, str | None] = (-1, None)  # manifest mtime_ns and generation read then

    def generation(self, *, fresh: bool = False) -> str | None:
        try:
            mtime = os.stat(self._index_dir / MANIFEST).st_mtime_ns
        except OSError:
            return None
        if mtime != self._seen[0]:
            try:
                manifest = Manifest.read(self._index_dir)
            except Exception:  # damaged: the assistant in use stays
                return self._seen[1]
            self._seen = (mtime, manifest.generation if manifest else None)
        return self._seen[1]


@dataclass(frozen=True)
class Loaded:
    """An assistant and the id of the generation it was loaded from."""

    generation: str | None
    assistant: Assistant


class LiveAssistant:
    """Quacks like an :class:`Assistant` (``ask``, ``stream``, ``participants``) but follows
    the index: each call uses the newest complete generation and never mixes two."""

    def __init__(self, settings: Settings, assistant: Assistant) -> None:
        self.settings = settings
        self._index_dir = Path(settings.index_dir)
        self._swap = threading.Condition()  # guards _loaded; notified after each swap
        self._ingest_lock = threading.RLock()  # one change of the material (and its ingest) at a time
        # With a Chroma server, old generations outlive a swap: load the next one in the background.
        self._background = bool(settings.chroma_host)
        self._pointer = remote.PointerWatch(settings) if self._background else ManifestWatch(self._index_dir)
        self._loading = False
        self._failed: tuple[str | None, float] = (None, 0.0)  # generation that failed to load, and when
        self._loaded = Loaded(getattr(assistant, "generation_id", None) or self._pointer.generation(), assistant)

    # --- the assistant in use ----------------------------------------------------------

    def current(self) -> Assistant:
        """The assistant over the newest complete generation (loading it first if the
        manifest has moved on since the last request)."""
        return self._take().assistant

    @property
    def generation_id(self) -> str | None:
        return self._loaded.generation

    def refresh(self) -> bool:
        """Load the generation the manifest names, if it is not the one in use; True if swapped.

        Requests arriving meanwhile wait here rather than use a generation whose
        rows are being deleted.
        """
        with self._swap:
            newest = self._pointer.generation(fresh=True)
            if newest is None or newest == self._loaded.generation:
                return False
            old = self._loaded.assistant
            # The answerer (maybe a language-model client) and the fitted decision models
            # do not depend on the index, so the new assistant reuses them.
            fresh = Assistant(self.settings, answerer=old.answerer, decision=old.decision)
            self._loaded = Loaded(fresh.generation_id, fresh)
            self._swap.notify_all()
            log.info("swapped in index generation %s (%.1f s to load)", fresh.generation_id, fresh.load_seconds)
            return True

    def _take(self) -> Loaded:
        loaded = self._loaded
        newest = self._pointer.generation()
        if newest not in (None, loaded.generation) and not self._gave_up_on(newest):
            if self._background:
                self._refresh_in_background()
            else:
                self._refresh_or_keep()
            loaded = self._loaded
        return loaded

    def _refresh_or_keep(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # a half-written or broken new index, or the server is down: keep the old one
            self._failed = (self._pointer.generation(), time.monotonic())
            log.warning("loading the new index generation failed (%s); keeping the one in use", str(exc) or exc.__class__.__name__)

    def _gave_up_on(self, generation: str | None) -> bool:
        return self._failed[0] == generation and time.monotonic() - self._failed[1] < RETRY_SECONDS

    def _refresh_in_background(self) -> None:
        with self._swap:
            if self._loading:
                return
            self._loading = True

        def run() -> None:
            try:
                self._refresh_or_keep()
            finally:
                self._loading = False

        threading.Thread(target=run, name="index-swap", daemon=True).start()

    def _retry(self, loaded: Loaded) -> Loaded | None:
        """After a failure: the newer assistant to ask again, if the generation in use was replaced."""
        if self._pointer.generation(fresh=True) in (None, loaded.generation):
            return None
        log.info("index generation %s was replaced during a question; asking again on the new one", loaded.generation)
        self._refresh_or_keep()
        fresh = self._loaded
        return fresh if fresh.generation != loaded.generation else None

    def _call(self, fn: Callable[[Assistant], T]) -> T:
        loaded = self._take()
        try:
            return fn(loaded.assistant)
        except Exception:
            fresh = self._retry(loaded)
            if fresh is None:
                raise
        return fn(fresh.assistant)

    # --- the Assistant interface the page uses -----------------------------------------

    def ask(self, question: str, history: Sequence[Turn | dict] | None = None) -> Answer:
        return self._call(lambda a: a.ask(question, history))

    def stream(self, question: str, history: Sequence[Turn | dict] | None = None) -> Iterator[Answer]:
        loaded = self._take()
        started = False
        try:
            for partial in loaded.assistant.stream(question, history):
                started = True
                yield partial
            return
        except Exception:
            fresh = None if started else self._retry(loaded)
            if fresh is None:
                raise
        yield from fresh.assistant.stream(question, history)

    def participants(self) -> list[Participant]:
        return self.current().participants()

    # --- changing the material ---------------------------------------------------------

    def reingest(self, progress: Callable[[int, int], None] | None = None) -> Summary:
        """Bring the index up to date with the corpus folder and swap the new generation in.

        Serialised: a second call waits for the first. Raises the ingest's errors
        (``ingest.errors.AssistantError``) unchanged; the index in use then stays.
        """
        with self._ingest_lock:
            summary = ingest(self.settings, progress=progress or False)
            self.refresh()
            return summary

    def changing(self) -> threading.RLock:
        """Hold this while changing the corpus folder and ingesting it, so changes do not interleave."""
        return self._ingest_lock
