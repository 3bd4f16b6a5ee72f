"""The evaluation set (tests/eval/questions.yaml: the shared questions plus the project's
own) through the real pipeline, judged with the rules of ../shared/eval/score.py."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())


def _scorer():
    path = ROOT.parent / "shared" / "eval" / "score.py"
    spec = importlib.util.spec_from_file_location("shared_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCORE = _scorer()


def test_the_set_covers_every_kind_of_question():
    """The project's set holds at least as many own cases as shared ones, of every kind."""
    shared = yaml.safe_load((ROOT.parent / "shared/eval/questions.yaml").read_text())
    own = [q for q in QUESTIONS if q["id"] not in {s["id"] for s in shared}]
    assert len(own) >= len(shared)
    kinds = {q["id"][0] for q in own}
    assert {"p", "g", "f", "v", "a"} <= kinds


@pytest.mark.parametrize("case", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_question(assistant, case):
    """Each evaluation question gets a correct, cited (or honestly abstained) answer."""
    answer = assistant.ask(case["question"], case.get("history") or [])
    line, ok, total = SCORE.score([case], [answer.contract()], verbose=True)
    assert (ok, total) == (1, 1), f"{line}\nanswer: {answer.answer}\ncited: {[c.section for c in answer.citations]}"
