"""Measure the abstention rule on the evaluation set: for every question that reaches
retrieval (not the participant records), print the best sentence's similarity and the
passage's term coverage, with whether the material holds the answer, and how many
questions each rule would get right. The thresholds in assistant/service.py come from here.

usage: python scripts/calibrate.py [--index DIR] [--questions tests/eval/questions.yaml]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="index folder (default: the project's)")
    parser.add_argument("--questions", default=str(Path(__file__).resolve().parent.parent / "tests/eval/questions.yaml"))
    args = parser.parse_args()

    from assistant import service
    from assistant.query import normalise, parse
    from ingest.keyword import analyze
    from ingest.settings import Settings

    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    assistant = service.Assistant(settings)
    retriever = assistant.retriever
    rows = []
    for case in yaml.safe_load(open(args.questions)):
        if case.get("history") or assistant.people.answer(parse(case["question"]), []) is not None:
            continue  # answered from the records, not by retrieval
        text = normalise(case["question"])
        vector = retriever.embed_query(case["question"])
        hits = retriever.search(text, vector, top=service.SENTENCE_PASSAGES)
        terms = service.content_terms(text)
        best = retriever.sentences(hits, vector, terms, text)[0]
        coverage = retriever.coverage(terms, set(analyze(assistant.generation.chunks[best.position].embed_text)))
        rows.append((case["id"], bool(case.get("abstain")), best.dense, coverage, best.typed, bool(terms)))

    print(f"{'id':5} {'holds':>5} {'dense':>6} {'cover':>6} typed  rule")
    for qid, abstain, dense, coverage, typed, has_terms in sorted(rows, key=lambda r: r[2]):
        verdict = service._answerable(dense, coverage, typed, has_terms)
        mark = "ok" if verdict != abstain else "WRONG"
        print(f"{qid:5} {'no' if abstain else 'yes':>5} {dense:6.3f} {coverage:6.2f} {typed!s:5}  {mark}")
    answerable = [r for r in rows if not r[1]]
    unanswerable = [r for r in rows if r[1]]
    right = sum(service._answerable(r[2], r[3], r[4], r[5]) != r[1] for r in rows)
    print(f"\n{len(answerable)} answerable, {len(unanswerable)} unanswerable through retrieval; rule right on {right}/{len(rows)}")
    for name, rule in {
        "dense only (best threshold)": None,
    }.items():
        best_t, best_right = 0.0, 0
        for t in sorted({round(r[2], 3) for r in rows}):
            ok = sum((r[2] >= t) != r[1] for r in rows)
            if ok > best_right:
                best_t, best_right = t, ok
        print(f"{name}: dense >= {best_t:.3f} right on {best_right}/{len(rows)}")


if __name__ == "__main__":
    main()
