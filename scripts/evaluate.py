"""Accuracy per question class on the dev split and the blind test split(s).

usage: python scripts/evaluate.py [--set NAME ...] [--verbose] [--json FILE]

Each set in tests/eval/sets.yaml is asked through the real pipeline (an index of the
bundled corpus, plus the set's extra material where it has some) and judged by the
shared scorer. --verbose prints the failures of the *dev* split only: the test split
is for judging, not for tuning.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", dest="sets", help="only this set (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print the dev split's failures")
    parser.add_argument("--json", help="write the per-class table and rates as JSON")
    args = parser.parse_args()

    from assistant import Assistant, Settings
    from assistant.evaluation import load_sets, prepare_index, run

    base = Settings()
    results = {}
    for eval_set in load_sets(args.sets):
        settings = prepare_index(eval_set, base)
        report = run(eval_set, Assistant(settings))
        results[eval_set.name] = report
        print(f"\n## {eval_set.name} ({eval_set.split}, {len(eval_set.questions)} questions)")
        print(f"{'class':<14} {'correct':>9}")
        for cls, (ok, n) in report.by_class().items():
            print(f"{cls:<14} {ok:>4}/{n:<4} {ok / n:>5.0%}")
        rates = report.rates()
        print("  ".join(f"{k}={v:.0%}" for k, v in rates.items()))
        print("by confidence: " + "; ".join(
            f"{level} {row['n']} (right {row['right']}, unanswerable {row['unanswerable']})"
            for level, row in report.by_confidence().items()))
        if args.verbose and eval_set.split == "dev":
            for o in report.outcomes:
                if not o.ok:
                    print(f"FAIL {o.case['id']} [{o.case.get('class')}] {o.case['question']!r}\n     -> {o.answer['answer'][:200]!r}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {name: {"by_class": r.by_class(), "rates": r.rates(), "by_confidence": r.by_confidence()}
             for name, r in results.items()}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
