"""Train the reranker, build it, and calibrate the answer decision on dev (``make train``).

usage: python scripts/train_reranker.py [mine|train|reader|calibrate|all] [--minutes M] [--epochs E]
                                       [--full-layers N] [--only NAME]

  mine       index each source of training/splits.yaml (train and dev), gather every question's pool
             with the assistant's own first stage, label it from the annotations -> data/reranker/*.jsonl
  train      LoRA + head on the train split's pairs -> assistant/data/reranker/ (adapter, config),
             then the reader (below), then build the int8 model (as make setup does)
  reader     the reader's start/end head on the trained encoder's states of the train split's answer
             spans, its threshold chosen on dev -> assistant/data/reranker/reader.*; then build
  calibrate  rerank the dev pools with the built model, report sentence top-1 and passage recall, fit
             the calibration and thresholds -> assistant/data/reranker/calibration.json
  all        mine, train (with the reader) and calibrate in order (the default)

The test split is never read here.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.reranker.model import FULL_LAYERS  # noqa: E402
from ingest.settings import DATA_DIR  # noqa: E402

WORK = DATA_DIR / "reranker"
# The plan takes whichever ends first, the epochs or the minutes (the pace of the first steps sets how
# many fit). Measured on 2 cores: ~1.0-2.2 s per step of 16 pairs of 40-128 tokens.
DEFAULT_MINUTES = 80.0
DEFAULT_EPOCHS = 2.0
POOL_SIZES = (6, 8, 12, 16, 24)  # the query path's pool sizes compared on dev (assistant.tuning.RERANK_POOL)
PRECISION_FOR_HIGH = 0.9  # «høy»: answers at or above this probability were right this often on dev
UNANSWERABLE_SHARE = 0.25  # assumed share of unanswerable questions reaching the text (as scripts/fit.py)


def _mined_file(name: str) -> Path:
    return WORK / f"mined-{name}.jsonl"


def mine(only: set[str] | None = None) -> None:
    from assistant import Assistant, Settings
    from assistant.evaluation import EvalSet, prepare_index
    from assistant.reranker.data import load_sources, mine as mine_source
    from ingest.pipeline import ingest

    WORK.mkdir(parents=True, exist_ok=True)
    for source in load_sources(["train", "dev"]):
        if only and source.name not in only:
            continue
        started = time.perf_counter()
        if source.corpus is not None:
            settings = Settings(corpus_dir=source.corpus, index_dir=WORK / "index" / source.name)
            ingest(settings, progress=False)
        else:
            settings = prepare_index(EvalSet(source.name, "", source.split, source.questions, source.extra), Settings())
        assistant = Assistant(settings, reranker=False)
        rows = list(mine_source(assistant, source.questions))
        with open(_mined_file(source.name), "w", encoding="utf-8") as fh:
            for m in rows:
                fh.write(json.dumps({"split": source.split, **asdict(m)}, ensure_ascii=False) + "\n")
        found = sum(1 for m in rows if m.answerable and (1 in m.labels))
        answerable = sum(1 for m in rows if m.answerable)
        print(f"{source.split:5} {source.name:14} {len(rows):5} questions, answer in pool {found}/{answerable} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)


def _load_mined(split: str):
    from assistant.reranker.data import Mined, load_sources

    out = []
    for source in load_sources([split]):
        path = _mined_file(source.name)
        if not path.is_file():
            raise SystemExit(f"error: {path} is missing; run 'python scripts/train_reranker.py mine' first")
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            row.pop("split")
            out.append(Mined(**row))
    return out


def train(minutes: float, epochs: float, full_layers: int) -> None:
    import torch

    from assistant.reranker import ARTEFACT_DIR
    from assistant.reranker.build import ensure_reranker
    from assistant.reranker.data import pairs
    from assistant.reranker.model import save_artefact
    from assistant.reranker.train import Plan, train as fit
    from ingest.embedmodel import ensure_model
    from ingest.settings import DEFAULT_MODEL_DIR

    torch.set_num_threads(2)
    encoder_dir = Path(ensure_model(DEFAULT_MODEL_DIR))
    examples = pairs(_load_mined("train"))
    positives = sum(p.label for p in examples)
    plan = Plan(epochs=epochs, max_seconds=minutes * 60, full_layers=full_layers)
    print(f"training on {len(examples)} pairs ({int(positives)} positive) from "
          f"{len({p.group for p in examples})} questions: {epochs} epochs or {minutes:.0f} minutes", flush=True)

    recent: list[float] = []

    def report(step: int, total: int, seconds: float, loss: float) -> None:
        recent.append(loss)
        if step % 100 == 0 or step == total:
            print(f"  step {step}/{total}  {seconds / step:.2f} s/step  loss {np.mean(recent[-100:]):.4f}", flush=True)

    started = time.perf_counter()
    scorer, losses = fit(examples, encoder_dir, plan, report)
    seconds = time.perf_counter() - started
    save_artefact(scorer, ARTEFACT_DIR, {
        "trained": datetime.date.today().isoformat(), "pairs": len(examples), "positives": int(positives),
        "plan": {**asdict(plan)}, "steps": len(losses), "seconds": round(seconds), "loss_first_100": round(float(np.mean(losses[:100])), 4),
        "loss_last_100": round(float(np.mean(losses[-100:])), 4),
    })
    print(f"trained in {seconds / 60:.1f} min; loss {np.mean(losses[:100]):.3f} -> {np.mean(losses[-100:]):.3f}")
    train_reader(scorer)


def train_reader(scorer=None) -> None:
    """The reader's head on the (trained, shipped) scorer's token states; threshold chosen on dev."""
    import torch

    from assistant.reranker import ARTEFACT_DIR, reader
    from assistant.reranker.build import ensure_reranker
    from assistant.reranker.model import load_artefact
    from ingest.embedmodel import ensure_model
    from ingest.settings import DEFAULT_MODEL_DIR

    torch.set_num_threads(2)
    started = time.perf_counter()
    encoder_dir = Path(ensure_model(DEFAULT_MODEL_DIR))
    scorer = scorer if scorer is not None else load_artefact(encoder_dir, ARTEFACT_DIR)
    scorer.eval()
    train_examples = reader.examples(_load_mined("train"))
    dev_examples = reader.examples(_load_mined("dev"))
    head, losses = reader.fit(scorer, encoder_dir, train_examples)
    judged = reader.judge(head, scorer, encoder_dir, dev_examples)
    probabilities = [p for p, _, _ in judged]
    good = [f1 >= reader.GOOD_SPAN_F1 for _, f1, _ in judged]
    threshold = reader.choose_threshold(probabilities, good)
    shown = [i for i, p in enumerate(probabilities) if p >= threshold]
    dev = {
        "examples": len(judged),
        "exact": round(float(np.mean([e for _, _, e in judged])), 4),
        "f1": round(float(np.mean([f for _, f, _ in judged])), 4),
        "shown_share": round(len(shown) / max(1, len(judged)), 4),
        "shown_good": round(float(np.mean([good[i] for i in shown])) if shown else 0.0, 4),
        "shown_exact": round(float(np.mean([judged[i][2] for i in shown])) if shown else 0.0, 4),
    }
    reader.save(head, ARTEFACT_DIR, {
        "trained": datetime.date.today().isoformat(), "train_examples": len(train_examples),
        "loss_first_epoch": round(losses[0], 4), "loss_last_epoch": round(losses[-1], 4),
        "threshold": round(threshold, 4), "dev": dev,
    })
    print(f"reader: {len(train_examples)} train spans, loss {losses[0]:.3f} -> {losses[-1]:.3f}; dev "
          f"{dev['examples']} spans: exact {dev['exact']:.2f}, F1 {dev['f1']:.2f}; threshold {threshold:.3f} shows "
          f"{dev['shown_share']:.0%}, {dev['shown_good']:.0%} good ({time.perf_counter() - started:.0f} s)", flush=True)
    ensure_reranker()
    print("built the int8 reranker")


def calibrate() -> None:
    from sklearn.linear_model import LogisticRegression

    from assistant.rank import NO_SCORE, Calibration, calibration_row, logit
    from assistant.reranker import Reranker
    from assistant.reranker.build import ensure_reranker
    from assistant.tuning import RERANK_POOL

    reranker = Reranker(ensure_reranker())
    dev = [m for m in _load_mined("dev") if m.texts]
    full = [(m, r, np.array(m.priors), np.array(m.labels)) for m, r in zip(dev, _dev_scores(reranker, dev))]

    # The sentence score: the reranker's logit and the feature model's, weighed on dev's candidates.
    rows = np.concatenate([np.stack([r, logit(p)], axis=1) for m, r, p, y in full if m.answerable and y.any()])
    labels = np.concatenate([y for m, r, p, y in full if m.answerable and y.any()])
    sentence = LogisticRegression(C=1.0, max_iter=1000).fit(rows, labels)
    neutral = Calibration.neutral()
    combined = Calibration(neutral.coef, 0.0, 0.5, 0.0, {}, sentence.coef_[0], float(sentence.intercept_[0]))

    def ranks(scored, scores_of) -> dict[str, float]:
        top1 = top3 = passage3 = n = 0
        for m, r, p, y, positions in scored:
            if not (m.answerable and any(m.labels)):  # judged on the full pool: a cut-off answer is a miss
                continue
            order = np.argsort(-scores_of(r, p), kind="stable")
            n += 1
            top1 += int(y[order[0]] == 1)
            top3 += int(y[order[:3]].any())
            passages = list(dict.fromkeys(positions[i] for i in order))
            gold = {positions[i] for i in np.flatnonzero(y)}
            passage3 += int(bool(gold & set(passages[:3])))
        return {"sentence_top1": top1 / n, "sentence_top3": top3 / n, "passage_recall3": passage3 / n, "questions": n}

    # How many of the first stage's sentences the reranker reads at query time (RERANK_POOL, beside the
    # records) is a trade of latency for recall: measured here on the mined pools cut to each size.
    # Questions whose answer is outside every pool count as misses in all of them.
    by_size = {k: [_cut(row, k) for row in full] for k in POOL_SIZES}
    for k, scored in by_size.items():
        values = ranks(scored, lambda r, p: combined.combine(r, p))
        print(f"dev pool {k:2} + records: sentence top-1 {values['sentence_top1']:.3f}, top-3 {values['sentence_top3']:.3f}, "
              f"passage recall@3 {values['passage_recall3']:.3f}")
    scored = by_size[RERANK_POOL]  # the decision is fitted on the pools the query path reads
    report = {"feature model": ranks(scored, lambda r, p: p), "reranker": ranks(scored, lambda r, p: r),
              "combined": ranks(scored, lambda r, p: combined.combine(r, p))}
    for name, values in report.items():
        print(f"dev {name:14}: sentence top-1 {values['sentence_top1']:.3f}, top-3 {values['sentence_top3']:.3f}, "
              f"passage recall@3 {values['passage_recall3']:.3f} ({values['questions']} questions, pool {RERANK_POOL} + records)")

    # The answer decision on the combined scores (questions the records answer first are left out).
    rows, right, answerable = [], [], []
    for m, r, p, y, _ in scored:
        if m.routed_to_records:
            continue
        s = combined.combine(r, p)
        order = np.argsort(-s, kind="stable")
        text = r[:min(RERANK_POOL, _text_count(m))]  # the cut pool's text sentences come first (_cut)
        rows.append(calibration_row([float(s[i]) for i in order], float(text.max()) if len(text) else NO_SCORE))
        right.append(int(m.answerable and y[order[0]] == 1))
        answerable.append(int(m.answerable))
    rows, right, answerable = np.array(rows), np.array(right), np.array(answerable)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(rows, right)
    p = model.predict_proba(rows)[:, 1]
    weight = np.where(answerable == 1, (1 - UNANSWERABLE_SHARE) / max(answerable.sum(), 1),
                      UNANSWERABLE_SHARE / max((1 - answerable).sum(), 1))
    best, low = -1.0, 0.0
    for t in np.unique(p):
        value = float((np.where(p >= t, right, 1 - answerable) * weight).sum())
        if value > best + 1e-12:
            best, low = value, float(t)
    high = float(p.max())
    for t in np.unique(p[p >= low]):
        if right[p >= t].mean() >= PRECISION_FOR_HIGH:
            high = float(t)
            break
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(right, p)) if 0 < right.sum() < len(right) else float("nan")
    calibration = Calibration(model.coef_[0], float(model.intercept_[0]), high, low, {
        "fitted_on": sorted({s.name for s in _dev_sources()}),
        "date": datetime.date.today().isoformat(),
        "questions": int(len(rows)), "answerable": int(answerable.sum()),
        "pool": RERANK_POOL, "dev": {k: {a: round(b, 4) for a, b in v.items()} for k, v in report.items()},
        "answer_auc_dev": round(auc, 4), "weighted_accuracy_dev": round(best, 4),
    }, combined.sentence_coef, combined.sentence_intercept)
    calibration.save()
    print(f"calibrated on {len(rows)} dev questions: answer AUC {auc:.3f}; low={low:.3f} high={high:.3f}, "
          f"weighted accuracy {best:.3f}; sentence weights {np.round(combined.sentence_coef, 3).tolist()}")


def _dev_scores(reranker, dev) -> list[np.ndarray]:
    """The reranker's logits for every dev pool, kept beside the mined pools for the model that made
    them (so calibrating again after a change to the query path's pool costs seconds, not minutes)."""
    from assistant.tuning import RERANK_GROUP

    cache = WORK / "dev-scores.json"
    # Keyed on what makes the scores (the adapter, the encoder, the int8 choices), not the reader's
    # files or threshold: re-fitting only the reader does not rescore every dev pool.
    made_from = {k: v for k, v in reranker.info.get("made_from", {}).items() if not k.startswith("reader")}
    key = json.dumps({"made_from": made_from, "kept_fp32": reranker.info.get("kept_fp32"), "group": RERANK_GROUP},
                     sort_keys=True)  # int8 scores depend a little on a pair's batch-mates (tuning.RERANK_GROUP)
    if cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved.get("model") == key and saved.get("questions") == [m.question for m in dev]:
            return [np.array(r, dtype=np.float32) for r in saved["scores"]]
    scores = [reranker.scores(m.question, m.texts) for m in dev]
    cache.write_text(json.dumps({"model": key, "questions": [m.question for m in dev],
                                 "scores": [r.tolist() for r in scores]}), encoding="utf-8")
    return scores


def _text_count(m) -> int:
    """How many of a mined pool's candidates are text sentences (the first, in the feature model's
    order); the participant records follow them, and are not cut."""
    from assistant.reranker.data import MINED_POOL

    if len(m.texts) > MINED_POOL:
        return MINED_POOL
    drop = next((i for i in range(1, len(m.priors)) if m.priors[i] > m.priors[i - 1] + 1e-9), len(m.priors))
    return drop  # where the descending order breaks: the records begin (a pool of fewer sentences)


def _cut(row, k: int):
    """A scored pool with only its first ``k`` text sentences, and all its records; with the passage
    (chunk position) of each candidate kept."""
    m, r, p, y = row
    texts = _text_count(m)
    keep = np.array(list(range(min(k, texts))) + list(range(texts, len(m.texts))), dtype=int)
    return m, r[keep], p[keep], y[keep], [m.positions[i] for i in keep]


def _dev_sources():
    from assistant.reranker.data import load_sources

    return load_sources(["dev"])


def _encoder_layers() -> int:
    """The bundled encoder's layer count (12 for e5-small; read from its config once make setup made it)."""
    from ingest.settings import DEFAULT_MODEL_DIR

    config = DEFAULT_MODEL_DIR / "config.json"
    return int(json.loads(config.read_text(encoding="utf-8"))["num_hidden_layers"]) if config.is_file() else 12


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", default="all", choices=["mine", "train", "reader", "calibrate", "all"])
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="training time budget")
    parser.add_argument("--epochs", type=float, default=DEFAULT_EPOCHS)
    parser.add_argument("--full-layers", type=int, default=FULL_LAYERS,
                        help="top encoder layers to train in full instead of through LoRA adapters")
    parser.add_argument("--splits", type=Path, help="another splits file than training/splits.yaml")
    parser.add_argument("--only", action="append", help="mine only this source (repeatable; e.g. a new collection)")
    args = parser.parse_args()
    layers = _encoder_layers()
    if not 0 <= args.full_layers < layers:
        parser.error(f"--full-layers must be between 0 and {layers - 1} (the encoder has {layers} layers)")
    if args.splits:
        from assistant.reranker import data

        data.SPLITS_FILE = args.splits.resolve()
    if args.step in ("mine", "all"):
        mine(set(args.only or ()))
    if args.step in ("train", "all"):
        train(args.minutes, args.epochs, args.full_layers)
    if args.step == "reader":
        train_reader()
    if args.step in ("calibrate", "all"):
        calibrate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
