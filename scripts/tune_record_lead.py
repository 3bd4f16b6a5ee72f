"""Choose RECORD_LEAD (assistant.tuning) on the dev split: how far the reranker must prefer one person of
a people list before the answer names that person alone.

usage: python scripts/tune_record_lead.py [--values 1 2 3 4 6 99]

Only the dev sets' questions the records answer with a list of two or more people are asked again for
each value (the rest do not depend on it); prints right answers per value. The test split is not read.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=float, nargs="+", default=[1.0, 2.0, 3.0, 4.0, 6.0, 99.0])
    args = parser.parse_args()

    from assistant import Assistant, Settings
    from assistant.evaluation import load_sets, prepare_index, run
    from assistant.pipeline import rerank
    from assistant.pipeline.understand import turns_of, understand

    totals = {v: [0, 0] for v in args.values}
    for eval_set in [s for s in load_sets() if s.split == "dev"]:
        assistant = Assistant(prepare_index(eval_set, Settings()))
        lists = []
        for case in eval_set.questions:
            if not case.get("question"):
                continue
            result = assistant.records_answer(case["question"], turns_of(case.get("history")))
            query = understand(case["question"], turns_of(case.get("history"))).query
            if result is not None and result.bullet and len(result.lines) > 1 and not (query.yes_no or query.count):
                lists.append(case)
        subset = replace(eval_set, questions=lists)
        line = [f"{eval_set.name:16} {len(lists):3} list questions:"]
        for value in args.values:
            rerank.RECORD_LEAD = value
            ok = sum(o.ok for o in run(subset, assistant).outcomes)
            totals[value][0] += ok
            totals[value][1] += len(lists)
            line.append(f"{value:g}: {ok}")
        print("  ".join(line), flush=True)
    print("all dev            " + "  ".join(f"{v:g}: {ok}/{n}" for v, (ok, n) in totals.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
