"""Optional language-model answers: a model behind an OpenAI-compatible server (llama.cpp,
vLLM, LM Studio, a hosted service) or Ollama phrases the answer from the passages that
retrieval found. Every reply is verified (:mod:`assistant.verify`) before it is shown;
whenever the model is down, slow, unreadable, not Norwegian or unsupported by the
passages, the offline answer is shown instead, with a Norwegian notice saying so.
"""
from __future__ import annotations

import importlib
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

from assistant import answer as compose
from assistant import prompts, verify
from assistant.errors import LLMConfigError
from assistant.models import Answer, Evidence, Turn
from assistant.tuning import (
    CONDENSE_SHARE,
    CONTEXT_WINDOW,
    EARLY_LANGUAGE_WORDS,
    MAX_PASSAGE_CHARS,
    MAX_PASSAGES,
    MAX_TOKENS,
    TEMPERATURE,
    UNDECIDED_WORDS,
)
from ingest import Chunk, Settings, fold, project_name

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://localhost:11434"

_BACKENDS = {
    "openai": ("llama_index.llms.openai_like", "OpenAILike", "llama-index-llms-openai-like"),
    "ollama": ("llama_index.llms.ollama", "Ollama", "llama-index-llms-ollama"),
}


class _Fallback(Exception):
    """Show the offline answer with ``notice``; ``reason`` goes to the log."""

    def __init__(self, notice: str, reason: str) -> None:
        super().__init__(reason)
        self.notice = notice


def build_llm(settings: Settings):
    """The llama-index LLM for ``settings``, imported only now (it is an optional extra)."""
    backend = settings.llm_backend
    if backend not in _BACKENDS:
        raise LLMConfigError(f"ASSISTANT_LLM_BACKEND is '{backend}'; use none, openai or ollama")
    if not settings.llm_model:
        raise LLMConfigError(
            "ASSISTANT_LLM_MODEL is not set: name the model the server runs, e.g. 'llama3.1:8b' for Ollama"
        )
    if settings.llm_timeout <= 0:
        raise LLMConfigError(f"ASSISTANT_LLM_TIMEOUT is {settings.llm_timeout:g}; give the seconds to wait, e.g. 30")
    module, name, package = _BACKENDS[backend]
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError:
        raise LLMConfigError(
            f"ASSISTANT_LLM_BACKEND={backend} needs the package {package}; "
            "install the extra with: pip install -e '.[llm]'"
        ) from None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if backend == "openai":
        if not settings.llm_base_url and not key:
            raise LLMConfigError(
                "ASSISTANT_LLM_BASE_URL is not set: give the server's /v1 address (e.g. http://127.0.0.1:8080/v1), "
                "or set ASSISTANT_LLM_API_KEY to use api.openai.com"
            )
        return cls(
            model=settings.llm_model,
            api_base=settings.llm_base_url or OPENAI_URL,
            api_key=key or "ikke-i-bruk",  # local servers want no key, but the client wants one
            is_chat_model=True,
            is_function_calling_model=False,
            context_window=CONTEXT_WINDOW,
            max_tokens=MAX_TOKENS,
            temperature=TEMPERATURE,
            timeout=settings.llm_timeout,
            max_retries=0,  # a retry would outlast the time budget; the offline answer is the fallback
        )
    return cls(
        model=settings.llm_model,
        base_url=settings.llm_base_url or OLLAMA_URL,
        request_timeout=settings.llm_timeout,
        temperature=TEMPERATURE,
        context_window=CONTEXT_WINDOW,  # set, so the client does not ask the server first
        additional_kwargs={"num_predict": MAX_TOKENS},
        headers={"Authorization": f"Bearer {key}"} if key else None,
    )


@dataclass(frozen=True)
class _Kept:
    """A verified claim and the passages (chunk position, quote) behind it."""

    claim: verify.Claim
    sources: tuple[tuple[int, str], ...]
    lead: str


class LLMAnswerer:
    """Phrases answers with a language model, verifies them, and falls back to the offline answer.

    One instance serves many threads: it keeps no state between questions.
    """

    def __init__(self, settings: Settings, *, condense: bool = True) -> None:
        from llama_index.core.llms import ChatMessage

        self._llm = build_llm(settings)
        self.project = project_name(settings.corpus_dir)
        self._message = ChatMessage
        self.name = f"llm:{settings.llm_backend}"
        self.timeout = settings.llm_timeout
        self.condense_followups = condense

    def answer(self, evidence: Evidence, chunks: list[Chunk]) -> Answer:
        """The verified answer, or the offline one with a notice; never raises, never waits
        much longer than the time budget."""
        final = evidence.offline
        for final in self._run(evidence, chunks, stream=False):
            pass
        return final

    def stream(self, evidence: Evidence, chunks: list[Chunk]) -> Iterator[Answer]:
        """Partial answers with growing text as the model writes, then the verified final one."""
        yield from self._run(evidence, chunks, stream=True)

    # --- the steps ------------------------------------------------------------------

    def _run(self, evidence: Evidence, chunks: list[Chunk], *, stream: bool) -> Iterator[Answer]:
        started = time.perf_counter()
        given = _given(evidence.passages, chunks)
        if not given:  # nothing to phrase: a people lookup that found no one
            yield evidence.offline
            return
        deadline = time.monotonic() + self.timeout
        try:
            question = self.condense(evidence.question, evidence.history, evidence.standalone, deadline)
            final = yield from self._phrase(evidence, chunks, given, question, deadline, stream)
        except _Fallback as fallback:
            log.warning("%s not used: %s", self.name, fallback)
            final = self._offline(evidence, fallback.notice, started)
        except Exception:  # a bug must not cost the user the answer the material gives
            log.exception("%s failed; showing the offline answer", self.name)
            final = self._offline(evidence, prompts.NOTICE_DOWN, started)
        else:
            final = final.model_copy(update={"timings_ms": _timings(evidence.offline, started)})
        yield final

    def condense(self, question: str, history: Sequence[Turn], fallback: str, deadline: float | None = None) -> str:
        """``question`` rewritten by the model as a standalone question, with the names and
        dates of the conversation kept; ``fallback`` when there is no history or on any failure.

        Waits at most a third of the time budget (and never past ``deadline``, a
        ``time.monotonic()`` value).
        """
        if not (self.condense_followups and history):
            return fallback
        budget = time.monotonic() + self.timeout * CONDENSE_SHARE
        try:
            reply = "".join(self._call(prompts.condense_messages(question, history), min(budget, deadline or budget), stream=False))
        except _Fallback as failure:
            log.info("%s could not condense the follow-up: %s", self.name, failure)
            return fallback
        return _condensed(reply, question, history) or fallback

    def _phrase(self, evidence, chunks, given, question, deadline, stream):
        """Ask (once more, more firmly, if the reply is not Norwegian) and verify the reply."""
        people = evidence.offline.answer if evidence.people else None
        for firmer in (False, True):
            messages = prompts.answer_messages(question, [chunks[p] for p in given], people=people, firmer=firmer,
                                               project=self.project)
            text = verify.clean((yield from self._reply(messages, deadline, stream, evidence, chunks, given)))
            if not re.search(r"[^\W\d_]", text):
                raise _Fallback(prompts.NOTICE_GARBLED, f"no text in the reply: {text[:80]!r}")
            if verify.language(text) != "en":
                return self._verified(text, evidence, chunks, given)
            log.info("%s replied in English; asking again more firmly", self.name)
        raise _Fallback(prompts.NOTICE_NOT_NORWEGIAN, "the reply was in English twice")

    def _reply(self, messages, deadline, stream, evidence, chunks, given):
        """The model's whole reply; while streaming, partial answers are yielded on the way."""
        raw, shown = "", ""
        with closing(self._call(messages, deadline, stream=stream)) as deltas:
            for delta in deltas:
                raw += delta
                if not stream:
                    continue
                text = verify.clean(raw)
                words = len(text.split())
                lang = verify.language(text)
                if lang == "en" and words >= EARLY_LANGUAGE_WORDS:
                    break  # no need to hear the rest before asking again
                if (lang == "nb" or lang == "?" and words >= UNDECIDED_WORDS) and text != shown:
                    shown = text
                    yield _partial(text, evidence, chunks, given, self.name)
        return raw

    def _call(self, messages: list[tuple[str, str]], deadline: float, *, stream: bool) -> Iterator[str]:
        """Text deltas of one model call, made in a worker thread so that the deadline holds
        however the server behaves (the client's own timeout ends the thread later)."""
        chat = [self._message(role=role, content=content) for role, content in messages]
        box: queue.Queue = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                if stream:
                    with closing(self._llm.stream_chat(chat)) as responses:
                        for response in responses:
                            if stop.is_set():
                                return
                            box.put(("delta", response.delta or ""))
                else:
                    box.put(("delta", self._llm.chat(chat).message.content or ""))
                box.put(("end", None))
            except Exception as exc:
                box.put(("error", exc))

        threading.Thread(target=work, name="llm-call", daemon=True).start()
        try:
            while True:
                left = deadline - time.monotonic()
                try:
                    kind, value = box.get(timeout=max(left, 0))
                except queue.Empty:
                    raise _Fallback(prompts.NOTICE_SLOW, f"no complete reply within {self.timeout:g} s") from None
                if kind == "end":
                    return
                if kind == "error":
                    raise _Fallback(_notice_for(value), f"{type(value).__name__}: {value}")
                yield value
        finally:
            stop.set()

    def _verified(self, text: str, evidence: Evidence, chunks: list[Chunk], given: list[int]) -> Answer:
        """The reply with its unsupported claims dropped and its citations renumbered 1..k;
        the offline answer when no claim is left (or, for people, when any claim fails)."""
        names = sorted({c.meta["name"] for c in chunks if c.kind == "participant" and c.meta.get("name")})
        passages = [verify.Passage(chunks[p]) for p in given]
        kept, dropped = _check(verify.claims(text), passages, given, names)
        if evidence.people:
            problem = _people_problem(text, evidence.offline.answer, names)
            if dropped:
                problem = f"«{dropped[0][0].text}»: {dropped[0][1]}"
            if problem:
                raise _Fallback(prompts.NOTICE_UNVERIFIED, f"people answer: {problem}")
        for claim, reason in dropped:
            log.info("%s: dropped «%s»: %s", self.name, claim.text, reason)
        if not kept:
            if verify.says_not_found(text):
                if evidence.offline.abstained:  # the model agrees: the material does not say
                    return evidence.offline.model_copy(update={"backend": self.name})
                raise _Fallback(prompts.NOTICE_NOT_FOUND, "the model found no answer where the offline path did")
            raise _Fallback(prompts.NOTICE_UNVERIFIED, f"no claim survived verification ({len(dropped)} dropped)")
        cites = compose.Citations(chunks)
        answer = _assemble(_fit(kept), cites)
        # Every claim shown was checked against the passage it cites.
        return Answer(
            question=evidence.question, answer=answer, abstained=False, citations=cites.build(), backend=self.name,
            confidence="høy",
        )

    def _offline(self, evidence: Evidence, notice: str, started: float) -> Answer:
        return evidence.offline.model_copy(update={"notice": notice, "timings_ms": _timings(evidence.offline, started)})


# --- helpers ------------------------------------------------------------------------


def _given(passages: list[int], chunks: list[Chunk]) -> list[int]:
    """The passages to show the model: the first few, within the character budget."""
    out, size = [], 0
    for position in passages[:MAX_PASSAGES]:
        size += len(chunks[position].text)
        if out and size > MAX_PASSAGE_CHARS:
            break
        out.append(position)
    return out


def _check(claims: list[verify.Claim], passages, given, names) -> tuple[list[_Kept], list[tuple[verify.Claim, str]]]:
    """Each claim against the passages it cites (an uncited one against each passage in
    turn); a list's lead-in is kept when an item after it is."""
    kept: list[_Kept] = []
    dropped: list[tuple[verify.Claim, str]] = []
    lead = ""
    intro: tuple[verify.Claim, str] | None = None
    for claim in claims:
        lead = _stronger(lead, claim.lead)
        if claim.intro:
            missing = verify.facts_missing(claim.text, passages)
            if missing:
                dropped.append((claim, missing))
            else:
                intro = (claim, lead)
                lead = ""
            continue
        numbers = [n for n in claim.cites if 1 <= n <= len(given)]
        if claim.cites and not numbers:
            dropped.append((claim, f"cites passage {claim.cites[0]}, which was not given"))
            continue
        if numbers:
            indexes = [n - 1 for n in numbers]
            result = verify.support(claim.text, [passages[i] for i in indexes], names)
        else:
            results = [(verify.support(claim.text, [p], names), [i]) for i, p in enumerate(passages)]
            result, indexes = max(results, key=lambda r: (r[0].ok, r[0].share))
        if not result.ok:
            dropped.append((claim, result.reason))
            continue
        if intro:
            kept.append(_Kept(intro[0], (), intro[1]))
            lead, intro = _stronger("\n", lead), None
        sources = tuple((given[indexes[i]], quote) for i, quote in zip(result.used, result.quotes))
        kept.append(_Kept(claim, sources, lead))
        lead = ""
    return kept, dropped


def _stronger(a: str, b: str) -> str:
    order = ["", " ", "\n", "\n\n"]
    return max(a, b, key=order.index)


def _fit(kept: list[_Kept]) -> list[_Kept]:
    """As many whole claims as fit the length limit (without markers); a lone overlong
    claim is cut at a word."""
    out: list[_Kept] = []
    for item in kept:
        if not compose.fits(_assemble(out + [item], None)):
            break
        out.append(item)
    while out and out[-1].claim.intro:
        out.pop()
    if not out:
        first = next(k for k in kept if not k.claim.intro)
        text = first.claim.text
        while not compose.fits(text + "…"):
            text = text.rsplit(" ", 1)[0] if " " in text.strip() else text[: len(text) // 2]
        out = [_Kept(verify.Claim(text.rstrip(",;:") + "…", first.claim.cites, first.claim.bullet), first.sources, "")]
    return out


def _assemble(kept: list[_Kept], cites: compose.Citations | None) -> str:
    """The answer text; with ``cites``, markers numbered in order of first appearance."""
    parts = []
    for i, item in enumerate(kept):
        text = item.claim.text
        if cites is not None and item.sources:
            numbers = dict.fromkeys(cites.cite(position, quote) for position, quote in item.sources)
            text = compose.with_marker(text, "".join(f"[{n}]" for n in numbers))
        if item.claim.bullet:
            text = f"- {text}"
        lead = (item.lead if item.lead.strip(" ") or not item.claim.bullet else "\n") if i else ""
        parts.append(lead + text)
    return "".join(parts).strip()


def _partial(text: str, evidence, chunks, given, backend: str) -> Answer:
    """A streaming answer: the text so far, markers renumbered in order of appearance,
    markers of passages never given left out."""
    cites = compose.Citations(chunks)

    def renumber(match: re.Match) -> str:
        n = int(match.group(1))
        return f"[{cites.cite(given[n - 1], '')}]" if 1 <= n <= len(given) else ""

    shown = re.sub(r"\[(\d{1,3})\]", renumber, text)
    return Answer(question=evidence.question, answer=shown, abstained=False, citations=cites.build(), backend=backend)


def _people_problem(text: str, offline: str, names: list[str]) -> str:
    """Names come from the records: every known name in the reply is in the offline answer,
    and every name there is in the reply."""
    reply, records = fold(text), fold(offline)
    for name in names:
        if fold(name) in reply and fold(name) not in records:
            return f"names {name}, who is not in the records' answer"
        if fold(name) in records and fold(name) not in reply:
            return f"leaves out {name}"
    return ""


def _condensed(reply: str, asked: str, history: Sequence[Turn]) -> str | None:
    """The model's standalone question, if it is one line of Norwegian that keeps the
    question's names and numbers and names no one the conversation did not."""
    lines = [ln.strip() for ln in verify.clean(reply).splitlines() if ln.strip()]
    if not lines:
        return None
    question = re.sub(r"^(selvstendig spørsmål|spørsmål)\s*:\s*", "", lines[0], flags=re.I).strip(" «»\"'")
    if not 3 <= len(question) <= 300 or verify.language(question) == "en":
        return None
    said = fold(asked + " " + " ".join(t.content for t in history))
    kept = fold(question)
    if any(fold(w) not in kept for w in verify.names_in(asked) + re.findall(r"\d+", asked)):
        return None
    if any(fold(w) not in said for w in verify.names_in(question) + re.findall(r"\d+", question)):
        return None
    return question


def _notice_for(error: BaseException) -> str:
    """A timeout reads as slow, a reply that cannot be parsed as unreadable, the rest as down."""
    names = " ".join(cls.__name__ for cls in type(error).__mro__)
    if "Timeout" in names:
        return prompts.NOTICE_SLOW
    if any(word in names for word in ("Decode", "Validation", "KeyError", "AttributeError", "TypeError", "IndexError")):
        return prompts.NOTICE_GARBLED
    return prompts.NOTICE_DOWN


def _timings(offline: Answer, started: float) -> dict[str, float]:
    llm = round((time.perf_counter() - started) * 1000, 2)
    timings = dict(offline.timings_ms)
    timings["llm"] = llm
    timings["total"] = round(timings.get("total", 0.0) + llm, 2)
    return timings
