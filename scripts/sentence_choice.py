"""How often the sentence ranker puts a right sentence first (top-1) or in the first two
(top-2), by 5-fold cross-validation grouped by question, on the rows `scripts/fit.py` saved
(data/fit-rows.npz, dev split only). Used to compare sentence-vector methods:

    python scripts/sentence_choice.py [ROWS.npz ...]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def cross_validated(rows: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int = 5) -> tuple[float, float, int]:
    from sklearn.model_selection import GroupKFold

    from assistant.decide import SENTENCE_FEATURES
    from scripts.fit import _fit

    answerable = {g for g in np.unique(groups) if labels[groups == g].any()}
    top1 = top2 = 0
    for train, test in GroupKFold(n_splits=folds).split(rows, labels, groups):
        model = _fit(rows[train], labels[train], SENTENCE_FEATURES, balanced=False)
        p = model.probability(rows[test])
        for g in set(groups[test]) & answerable:
            mine = np.flatnonzero(groups[test] == g)
            order = mine[np.argsort(-p[mine])]
            top1 += int(labels[test][order[0]] == 1)
            top2 += int(labels[test][order[:2]].max() == 1)
    return top1 / len(answerable), top2 / len(answerable), len(answerable)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", type=Path, default=[Path("data/fit-rows.npz")])
    args = parser.parse_args()
    for path in args.rows:
        data = np.load(path)
        top1, top2, n = cross_validated(data["sentence_rows"], data["sentence_labels"], data["groups"])
        print(f"{path}: top-1 {top1:.3f}, top-2 {top2:.3f} over {n} answerable dev questions (5-fold grouped CV)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
