"""Check the reranker's training collections (training/collections/cNN) before they are used.

usage: python scripts/check_training_data.py [cNN ...]     (all collections when none is named)

Each document is read as ingest reads it, and each question is checked against it: the ``source``
sentence stands verbatim in a document of the collection (after the scorer's text folding and
without HTML markup; mining labels candidates by it, whichever document it names), the ``answer`` stands in
the ``source``, a ``record`` is a participant id of the collection, ``expect`` is a list of lists of
words, an unanswerable question carries none of these. Prints one line per problem and a summary per
collection; exits 1 when there is a problem.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.settings import PROJECT_ROOT  # noqa: E402

COLLECTIONS = PROJECT_ROOT / "training" / "collections"
FORMS = {"full", "short", "typo", "english", "nynorsk", "followup"}
KEYS = {"id", "document", "form", "question", "history", "source", "record", "answer", "expect", "abstain"}


@dataclass
class Report:
    name: str
    documents: int = 0
    questions: int = 0
    unanswerable: int = 0
    forms: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        share = self.unanswerable / self.questions if self.questions else 0.0
        forms = ", ".join(f"{form} {n}" for form, n in self.forms.most_common())
        return (f"{self.name}: {self.documents} documents, {self.questions} questions, "
                f"{self.unanswerable} unanswerable ({share:.0%}); {forms}; {len(self.problems)} problems")


def _document_texts(docs: Path) -> tuple[dict[str, str], set[str], list[str]]:
    """Each document's text as ingest reads it (folded), the participant ids, and read errors."""
    from assistant.reranker.data import norm
    from ingest.errors import AssistantError
    from ingest.sources import list_corpus, read_participants, read_sections

    texts, ids, problems = {}, set(), []
    files, skipped = list_corpus(docs)
    problems += [f"{name}: not a supported file type" for name in skipped]
    for source in files:
        try:
            if source.path.suffix.lower() in {".yaml", ".yml"}:
                records = read_participants(source).participants
                ids |= {r.id for r in records}
                texts[source.name] = norm(" ".join(f"{r.name} {r.role} {r.title or ''}" for r in records))
            else:
                texts[source.name] = norm(" ".join(f"{s.heading} {s.text}" for s in read_sections(source)))
        except AssistantError as exc:
            problems.append(str(exc))
    return texts, ids, problems


def check(folder: Path) -> Report:
    """Every problem of one collection folder (docs/ and questions.yaml), and what it holds."""
    from assistant.evaluation import quoted_source
    from assistant.reranker.data import load_questions, norm

    name = folder.name
    report = Report(name)
    texts, ids, report.problems = _document_texts(folder / "docs")
    report.documents = len(texts)
    try:
        questions = load_questions(folder / "questions.yaml")
    except (OSError, ValueError) as exc:
        report.problems.append(f"questions.yaml: {exc}")
        return report
    seen: set[str] = set()
    bad = report.problems.append
    for q in questions:
        qid = str(q.get("id", "?"))
        if not qid.startswith(f"{name}-") or qid in seen:
            bad(f"{qid}: id must be unique and start with «{name}-»")
        seen.add(qid)
        if unknown := set(q) - KEYS:
            bad(f"{qid}: unknown keys {sorted(unknown)}")
        if not str(q.get("question", "")).strip():
            bad(f"{qid}: no question")
        if q.get("form") not in FORMS:
            bad(f"{qid}: form {q.get('form')!r} is not one of {sorted(FORMS)}")
        if q.get("form") == "followup" and not q.get("history"):
            bad(f"{qid}: a follow-up needs its history")
        report.questions += 1
        report.forms[q.get("form")] += 1
        document = q.get("document")
        if document not in texts:
            bad(f"{qid}: document {document!r} is not in docs/")
            continue
        if q.get("abstain"):
            report.unanswerable += 1
            if any(q.get(k) for k in ("source", "record", "answer", "expect")):
                bad(f"{qid}: an unanswerable question carries no source, record, answer or expect")
            continue
        if not (q.get("source") or q.get("record")):
            bad(f"{qid}: needs a source sentence, a record id, or abstain: true")
        source = quoted_source(q)
        if q.get("source") and not any(source in text for text in texts.values()):
            bad(f"{qid}: source is not verbatim in any document: {q['source']!r}")
        if q.get("record") and q["record"] not in ids:
            bad(f"{qid}: record {q['record']!r} is no participant id of the collection")
        if q.get("answer") and q.get("source") and norm(str(q["answer"])) not in source:
            bad(f"{qid}: answer is not inside source: {q['answer']!r}")
        expect = q.get("expect")
        if not (isinstance(expect, list) and expect and all(isinstance(g, list) and g for g in expect)):
            bad(f"{qid}: expect must be a non-empty list of non-empty lists of words")
    return report


def main(argv: list[str]) -> int:
    names = argv or sorted(p.name for p in COLLECTIONS.iterdir() if (p / "questions.yaml").is_file())
    failed = False
    for name in names:
        if not (COLLECTIONS / name / "questions.yaml").is_file():
            print(f"{name}: no {COLLECTIONS / name / 'questions.yaml'}")
            failed = True
            continue
        report = check(COLLECTIONS / name)
        for problem in report.problems:
            print(f"{name}: {problem}")
        print(report.summary())
        failed |= bool(report.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
