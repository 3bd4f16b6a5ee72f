"""Run the evaluation sets (tests/eval/sets.yaml) through the real pipeline and score
them with the shared scorer (../shared/eval/score.py), per question class.

Used by ``scripts/evaluate.py`` (the report), ``scripts/fit.py`` (the dev split as
training data) and the test suite (the floor on the blind test split).
"""
from __future__ import annotations

import importlib.util
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.settings import DATA_DIR, PROJECT_ROOT, Settings

EVAL_DIR = PROJECT_ROOT / "tests" / "eval"
SCORER = PROJECT_ROOT.parent / "shared" / "eval" / "score.py"


@dataclass(frozen=True)
class EvalSet:
    name: str
    file: str
    split: str  # "dev" (tune freely) or "test" (written blind; never tuned on)
    questions: list[dict]
    extra: tuple[Path, ...] = ()


@dataclass
class Outcome:
    """One question's result, judged by the shared scorer's rules."""

    case: dict
    answer: dict
    ok: bool

    @property
    def unanswerable(self) -> bool:
        return bool(self.case.get("abstain"))


@dataclass
class Report:
    name: str
    split: str
    outcomes: list[Outcome] = field(default_factory=list)

    def by_class(self) -> dict[str, tuple[int, int]]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.outcomes:
            c = counts[o.case.get("class", "other")]
            c[0] += o.ok
            c[1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(counts.items())}

    def by_confidence(self) -> dict[str, dict[str, int]]:
        """How the confidence levels trade: per level, the answers given, how many of them
        were right, and how many answered a question the material cannot answer."""
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            level = "avstår" if o.answer.get("abstained") else o.answer.get("confidence") or "ukjent"
            row = out.setdefault(level, {"n": 0, "right": 0, "unanswerable": 0})
            row["n"] += 1
            row["right"] += o.ok
            row["unanswerable"] += o.unanswerable
        return out

    def rates(self) -> dict[str, float]:
        """The issue's targets: accuracy on answerable questions, false abstentions,
        unanswerable questions answered anyway, citations holding the answer."""
        answerable = [o for o in self.outcomes if not o.unanswerable]
        unanswerable = [o for o in self.outcomes if o.unanswerable]
        cited = [o for o in answerable if o.case.get("source") and not o.answer.get("abstained")]
        return {
            "overall": _share(sum(o.ok for o in self.outcomes), len(self.outcomes)),
            "answerable_acc": _share(sum(o.ok for o in answerable), len(answerable)),
            "false_abstain": _share(sum(bool(o.answer.get("abstained")) for o in answerable), len(answerable)),
            "unanswerable_answered": _share(sum(not o.answer.get("abstained") for o in unanswerable), len(unanswerable)),
            "citation_holds": _share(sum(_cites_source(o) for o in cited), len(cited)),
        }


def _share(a: int, b: int) -> float:
    return a / b if b else 0.0


@lru_cache(maxsize=1)
def scorer():
    """The shared scorer module (its rules are the judge's, so it is imported, not copied)."""
    spec = importlib.util.spec_from_file_location("shared_score", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MARKUP = re.compile(r"<[^>]+>")


def quoted_source(case: dict) -> str:
    """The case's ``source`` sentence as the material reads once ingested, in the scorer's folding:
    a writer who quoted an HTML page's markup («<li>…</li>») still names the words the page shows."""
    return scorer().norm(MARKUP.sub("", case.get("source") or "")).strip()


def _cites_source(o: Outcome) -> bool:
    source = quoted_source(o.case)
    return any(source in scorer().norm(c.get("text", "")) for c in o.answer.get("citations", []))


def load_sets(names: list[str] | None = None) -> list[EvalSet]:
    """The sets named in tests/eval/sets.yaml (all when ``names`` is empty) whose file exists."""
    out = []
    for entry in yaml.safe_load((EVAL_DIR / "sets.yaml").read_text(encoding="utf-8")):
        path = EVAL_DIR / entry["file"]
        if (names and entry["name"] not in names) or not path.exists():
            continue
        questions = yaml.safe_load(path.read_text(encoding="utf-8"))
        extra = tuple(PROJECT_ROOT / e for e in entry.get("extra", []))
        out.append(EvalSet(entry["name"], entry["file"], entry["split"], questions, extra))
    return out


def prepare_index(eval_set: EvalSet, base: Settings, work: Path | None = None) -> Settings:
    """Settings for an index of the bundled corpus plus the set's extra material
    (built or brought up to date incrementally under ``work``)."""
    from ingest.pipeline import ingest

    if not eval_set.extra:
        settings = base
    else:
        work = work or DATA_DIR / "eval"
        key = "+".join(p.name if p.name != "docs" else p.parent.name for p in eval_set.extra)
        corpus = work / key / "corpus"
        if corpus.exists():
            shutil.rmtree(corpus)
        shutil.copytree(base.corpus_dir, corpus)
        for folder in eval_set.extra:
            shutil.copytree(folder, corpus / (folder.name if folder.name != "docs" else folder.parent.name), ignore=shutil.ignore_patterns("README.md", "*.py"))
        settings = base.model_copy(update={"corpus_dir": corpus, "index_dir": work / key / "index"})
    ingest(settings, progress=False)
    return settings


def run(eval_set: EvalSet, assistant) -> Report:
    """Ask every question of the set and judge each answer with the shared scorer."""
    score = scorer()
    report = Report(eval_set.name, eval_set.split)
    for case in eval_set.questions:
        answer = assistant.ask(case["question"], case.get("history") or []).contract()
        _, ok, _ = score.score([case], [answer])
        report.outcomes.append(Outcome(case, answer, bool(ok)))
    return report
