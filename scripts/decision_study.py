"""Which signals could decide answer/abstain better than the shipped calibration: each feature set's
logistic regression, cross-validated on dev by source (fitted on two of c06, c08 and the other dev sets,
judged on the third).

usage: python scripts/decision_study.py [--reader]

Reads the mined dev pools and the reranker's cached dev scores (``scripts/train_reranker.py mine`` and
``calibrate`` make them) and the pools' feature rows. For each feature set it prints the AUC of "the best
candidate answers" and how many dev questions end right (answered with the right first sentence, or an
unanswerable one declined) at the threshold chosen on the other folds as calibrate chooses it, and at the
best threshold in hindsight. ``--reader`` adds the reader's span of the best candidate (one model pass per
question, ~1 min). Nothing is written; the test split is not read.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

UNANSWERABLE_SHARE = 0.25  # as calibrate weighs the dev questions when it chooses the threshold
FEATURE_SETS = {
    "best score, margin (until 4 Dec)": ["best", "margin"],
    "+ reranker's best text logit (shipped)": ["best", "margin", "rerank_text_best"],
    "+ reranker and feature model apart": ["best", "margin", "rerank_best", "prior_best"],
    "+ best record / best text": ["best", "margin", "record_first", "rerank_text_best", "rerank_record_max"],
    "+ coverage, answer type": ["best", "margin", "cover", "type_missing"],
    "+ cosine z-score, unknown words, language": ["best", "margin", "dense_z_max", "unknown", "norwegian"],
    "+ language interaction": ["best", "margin", "norwegian", "best_x_foreign"],
    "+ passage rank, heading named, length": ["best", "margin", "passage_rank", "heading_named", "log_chars"],
}
ALL = sorted({f for names in FEATURE_SETS.values() for f in names})


def question_rows(reader: bool):
    """One row of candidate features per dev question the text answers, its source, whether the best
    candidate answers, and whether the question is answerable."""
    import train_reranker as tr

    from assistant.decide import SENTENCE_FEATURES
    from assistant.rank import NO_SCORE, Calibration, logit
    from assistant.tuning import RERANK_POOL

    column = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    dev = [m for m in tr._load_mined("dev") if m.texts]
    cache = json.loads((tr.WORK / "dev-scores.json").read_text(encoding="utf-8"))
    if cache["questions"] != [m.question for m in dev]:
        raise SystemExit("error: the cached dev scores are for other pools; run 'scripts/train_reranker.py calibrate'")
    if any(not m.features for m in dev):
        raise SystemExit("error: the mined dev pools have no feature rows; run 'scripts/train_reranker.py mine' again")
    calibration = Calibration.load()
    read = _reader() if reader else None
    rows, sources, right, answerable = [], [], [], []
    for m, logits in zip(dev, cache["scores"]):
        if m.routed_to_records:
            continue
        texts = tr._text_count(m)
        kept = np.array(list(range(min(RERANK_POOL, texts))) + list(range(texts, len(m.texts))), dtype=int)
        rerank, prior = np.array(logits)[kept], np.array(m.priors)[kept]
        labels, features = np.array(m.labels)[kept], np.array(m.features)[kept]
        scores = calibration.combine(rerank, prior)
        order = np.argsort(-scores, kind="stable")
        best, n_text = order[0], min(RERANK_POOL, texts)
        f = {
            "best": scores[best], "margin": scores[best] - scores[order[1]],
            "rerank_best": rerank[best], "prior_best": float(logit(np.array([prior[best]]))[0]),
            "record_first": float(best >= n_text), "rerank_text_best": rerank[:n_text].max(initial=NO_SCORE),
            "rerank_record_max": rerank[n_text:].max(initial=NO_SCORE),
            "cover": features[best, column["cover_related"]],
            "type_missing": features[best, column["asks_type"]] * (1 - features[order[:2], column["typed"]].max()),
            "dense_z_max": features[:, column["dense_z"]].max(), "unknown": m.unknown, "norwegian": m.norwegian,
            "best_x_foreign": scores[best] * (1 - m.norwegian),
            "passage_rank": features[best, column["passage_rank"]],
            "heading_named": features[best, column["heading_named"]], "log_chars": features[best, column["log_chars"]],
        }
        if read is not None:
            f["span"] = read(m.question, m.texts[kept[best]])
        rows.append([f[name] for name in ALL + (["span"] if read else [])])
        case_id = str(m.case.get("id", ""))
        sources.append(case_id.split("-")[0] if case_id[:1] == "c" and case_id[1:3].isdigit() else "other")
        right.append(int(m.answerable and labels[best] == 1))
        answerable.append(int(m.answerable))
    return np.array(rows, dtype=float), np.array(sources), np.array(right), np.array(answerable)


def _reader():
    """The reader's span probability in a candidate (its softmax start x end), from the built model."""
    from assistant.reranker import Reranker
    from assistant.reranker.build import ensure_reranker
    from assistant.reranker.reader import best_span, candidate_tokens

    reranker = Reranker(ensure_reranker(), threads=2)

    def span(question: str, candidate: str) -> float:
        encodings, segment, start, end, _ = reranker.reading(question, [candidate]).reader_outputs
        inside, _ = candidate_tokens(encodings[0], segment[0])
        return best_span(start[0][inside], end[0][inside])[2]

    return span


def cross_validated(x: np.ndarray, sources: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Each question's probability from a model fitted on the other sources."""
    from sklearn.linear_model import LogisticRegression

    p = np.zeros(len(x))
    for source in np.unique(sources):
        fit = sources != source
        mean, scale = x[fit].mean(0), x[fit].std(0) + 1e-9
        model = LogisticRegression(C=1.0, max_iter=2000).fit((x[fit] - mean) / scale, right[fit])
        p[~fit] = model.predict_proba((x[~fit] - mean) / scale)[:, 1]
    return p


def ends_right(p, sources, right, answerable) -> tuple[int, int]:
    """Questions ending right at the threshold chosen on the other folds (weighted as calibrate weighs
    them), and at the best threshold in hindsight."""
    held_out = 0
    for source in np.unique(sources):
        fit = sources != source
        weight = np.where(answerable[fit] == 1, (1 - UNANSWERABLE_SHARE) / answerable[fit].sum(),
                          UNANSWERABLE_SHARE / (1 - answerable[fit]).sum())
        threshold = max(np.unique(p[fit]), key=lambda t: float(
            (np.where(p[fit] >= t, right[fit], 1 - answerable[fit]) * weight).sum()))
        held_out += int(np.where(p[~fit] >= threshold, right[~fit], 1 - answerable[~fit]).sum())
    hindsight = max(int(np.where(p >= t, right, 1 - answerable).sum()) for t in np.unique(p))
    return held_out, hindsight


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", action="store_true", help="add the reader's span probability of the best candidate")
    args = parser.parse_args()
    from sklearn.metrics import roc_auc_score

    x, sources, right, answerable = question_rows(args.reader)
    sets = dict(FEATURE_SETS)
    if args.reader:
        sets["+ reader's span probability"] = ["best", "margin", "span"]
    sets["all of them"] = ALL + (["span"] if args.reader else [])
    columns = ALL + (["span"] if args.reader else [])
    print(f"{len(x)} dev questions the text answers ({answerable.sum()} answerable, {right.sum()} with the right "
          f"first candidate); sources {', '.join(f'{s} {int((sources == s).sum())}' for s in np.unique(sources))}")
    print(f"{'features':45} {'AUC':>6} {'right, held-out threshold':>26} {'in hindsight':>13}")
    for name, names in sets.items():
        p = cross_validated(x[:, [columns.index(n) for n in names]], sources, right)
        held_out, hindsight = ends_right(p, sources, right, answerable)
        print(f"{name:45} {roc_auc_score(right, p):6.3f} {held_out:>26} {hindsight:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
