"""The trained reranker: training learns, the shipped artefact builds into a model that loads, a
damaged model or adapter is one clear line naming the file and ``make setup``, rated answers become
training examples, and the questions a newcomer asks first are answered from the right sentence."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

# A handful of pairs with an obvious rule (the candidate that names what is asked about answers).
PAIRS = [
    ("Hvem finansierte prosjektet?", "Økonomi: Prosjektet ble finansiert av fylkeskommunen med 400 000 kroner.", 1.0),
    ("Hvem finansierte prosjektet?", "Organisering: Styringsgruppa møttes fire ganger i året.", 0.0),
    ("Når åpnet biblioteket?", "Nyheter: Biblioteket åpnet 3. mars 2023 med 400 besøkende.", 1.0),
    ("Når åpnet biblioteket?", "Økonomi: Prosjektet ble finansiert av fylkeskommunen med 400 000 kroner.", 0.0),
    ("Hvem ledet prosjektet?", "Prosjektledelse: Prosjektleder var Kari Nordmann, rådgiver i kulturenheten.", 1.0),
    ("Hvem ledet prosjektet?", "Nyheter: Biblioteket åpnet 3. mars 2023 med 400 besøkende.", 0.0),
]

# What the reader should mark in each question's answering candidate above.
ANSWERS = {"Hvem finansierte prosjektet?": "fylkeskommunen", "Når åpnet biblioteket?": "3. mars 2023",
           "Hvem ledet prosjektet?": "Kari Nordmann"}


def test_a_few_training_steps_lower_the_loss_and_the_result_builds_and_loads(model_dir, tmp_path, monkeypatch):
    """Training on a handful of pairs lowers the loss; the saved adapter and reader build into an int8
    model whose scores put each question's answering candidate first and that marks the answer in it."""
    import numpy as np

    from assistant.reranker import build, reader

    # 16 steps at a high rate give extreme logits that int8 moves by ~1; the shipped model's drift
    # (0.05) is held to build.MAX_SCORE_DRIFT at every make setup.
    monkeypatch.setattr(build, "MAX_SCORE_DRIFT", 2.0)

    from assistant.reranker import Reranker
    from assistant.reranker.build import ensure_reranker
    from assistant.reranker.model import save_artefact
    from assistant.reranker.train import Pair, Plan, train

    pairs = [Pair(q, c, y, group=q) for q, c, y in PAIRS]  # whole questions per batch, as make train has them
    scorer, losses = train(pairs, model_dir, Plan(batch=6, max_steps=16, learning_rate=1e-3, head_learning_rate=3e-3, warmup=0.1))
    assert np.mean(losses[-4:]) < 0.5 * np.mean(losses[:4])  # measured: 0.67 -> 0.16
    artefact = tmp_path / "artefact"
    save_artefact(scorer, artefact, {"test": True})
    # The reader learns where in the answering candidate the answer is.
    spans = [reader.SpanExample(q, c, c.index(ANSWERS[q]), c.index(ANSWERS[q]) + len(ANSWERS[q])) for q, c, y in PAIRS if y]
    head, read_losses = reader.fit(scorer, model_dir, spans, epochs=60)
    assert read_losses[-1] < 0.5 * read_losses[0]
    reader.save(head, artefact, {"threshold": 0.0})
    built = ensure_reranker(tmp_path / "model", model_dir, artefact)
    reranker = Reranker(built)
    for question in dict.fromkeys(q for q, _, _ in PAIRS):
        candidates = [c for q, c, _ in PAIRS if q == question]
        scores = reranker.scores(question, candidates)
        assert int(np.argmax(scores)) == 0, (question, scores)
    for example in spans:
        span = reranker.read(example.question, example.candidate)
        assert span is not None and example.candidate[span.start:span.end] == example.candidate[example.start:example.end]


def _ask(index: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", "ask", "--index", str(index), "--json", *args],
                          capture_output=True, text=True, env={**os.environ, **env}, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_damaged_reranker_model_is_one_line_naming_the_file_and_make_setup(corpus_index, tmp_path, damage):
    """The assistant never falls back quietly to another ranking: it stops with one line that names
    the model file and says to run make setup."""
    from assistant.reranker import MODEL_DIR, ONNX_FILE

    broken = tmp_path / "reranker"
    shutil.copytree(MODEL_DIR, broken)
    if damage == "missing":
        (broken / ONNX_FILE).unlink()
    else:
        (broken / ONNX_FILE).write_bytes(b"not an onnx model")
    done = _ask(corpus_index, {"ASSISTANT_RERANKER_DIR": str(broken)}, "Hvem var prosjektleder?")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert str(broken / ONNX_FILE) in lines[0] and "make setup" in lines[0]


@pytest.mark.parametrize("damaged", ["adapter.safetensors", "reader.safetensors"])
def test_a_damaged_adapter_or_reader_stops_the_build_with_one_line_naming_it(model_dir, tmp_path, damaged):
    """A corrupt shipped adapter or reader head is reported by name with what to do, and no model is
    installed."""
    from assistant.reranker import ARTEFACT_DIR
    from assistant.reranker.build import ensure_reranker
    from ingest.errors import ModelError

    artefact = tmp_path / "artefact"
    shutil.copytree(ARTEFACT_DIR, artefact)
    (artefact / damaged).write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError) as caught:
        ensure_reranker(tmp_path / "model", model_dir, artefact)
    assert str(artefact / damaged) in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("damage", ["other features", "corrupt"])
def test_an_outdated_or_damaged_answer_calibration_is_one_line_naming_it_and_make_train(tmp_path, damage):
    """A calibration fitted on other decision features (an older make train) or a damaged one stops the
    assistant with one line naming the file and make train: its weights would mean something else."""
    import json

    from assistant.rank import CALIBRATION_FILE, Calibration
    from ingest.errors import ModelError

    calibration = tmp_path / "calibration.json"
    shipped = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    if damage == "other features":
        calibration.write_text(json.dumps({**shipped, "features": [*shipped["features"], "retired"]}), encoding="utf-8")
    else:
        calibration.write_text(CALIBRATION_FILE.read_text(encoding="utf-8")[:200], encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        Calibration.load(calibration)
    assert str(calibration) in str(caught.value) and "make train" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_corrected_rating_becomes_a_training_example(assistant, corpus_settings, tmp_path):
    """An exported rating with `expect` filled in by a person yields a positive pair holding the
    answer; a rating nobody corrected yields nothing."""
    from assistant.feedback import FeedbackStore, export_yaml
    from assistant.reranker import data

    store = FeedbackStore(tmp_path / "ratings.sqlite3")
    question = "Hvor stor stilling hadde prosjektlederen?"
    store.add(question, assistant.ask(question), "down", "feil setning")
    store.add("Hvem var prosjekteier?", assistant.ask("Hvem var prosjekteier?"), "up", "")
    cases = yaml.safe_load(export_yaml(store.all()))
    corrected = next(c for c in cases if c["question"] == question)
    corrected["expect"] = [["50 %"]]
    exported = tmp_path / "ratings.yaml"
    exported.write_text(yaml.safe_dump(cases, allow_unicode=True), encoding="utf-8")
    splits = tmp_path / "splits.yaml"
    splits.write_text(yaml.safe_dump({"train": [{"feedback": str(exported)}]}), encoding="utf-8")

    (source,) = data.load_sources(["train"], splits)
    assert [c["question"] for c in source.questions] == [question]
    pairs = data.pairs(data.mine(assistant, source.questions))
    positives = [p for p in pairs if p.label == 1.0]
    assert positives and all("50 %" in p.candidate for p in positives)
    assert {p.question for p in pairs} == {question}


@pytest.mark.parametrize("question, source", [
    ("Hvem finansierte prosjektet?", "Nasjonalbibliotekets utviklingsmidler"),
    ("Når startet prosjektet?", "01.06.2021"),
    ("Hvilke to kommuner samarbeidet?", "Drammen kommune og Indre Østfold kommune"),
])
def test_the_reranker_puts_the_sentence_that_states_the_answer_first(assistant, question, source):
    """For the first questions a newcomer types, the sentence that states the answer is ranked first
    (before the reranker, a list of participants or the page's table of contents was)."""
    ranking = assistant.ranking(question)
    assert source in ranking.best.text(assistant.generation.chunks)


def test_a_candidates_score_and_marked_answer_stay_with_it_in_a_pool_of_mixed_lengths(assistant):
    """The reranker reads a pool in groups of similar length: each candidate still gets its own score, as
    when it is read alone, the answering one is first, and the answer marked in it is the one marked
    when it is read alone."""
    import random

    import numpy as np

    from assistant.rank import reranker_text
    from assistant.tuning import RERANK_GROUP

    question = "Når startet prosjektet?"
    pool = assistant.gather(question, None)
    texts = list(dict.fromkeys(reranker_text(c, assistant.generation.chunks) for c in pool.candidates))
    random.Random(3).shuffle(texts)
    assert len(texts) > 2 * RERANK_GROUP and len({len(t) for t in texts}) > 10  # several groups, lengths mixed
    reading = assistant.reranker.reading(question, texts)
    alone = [assistant.reranker.reading(question, [t]) for t in texts]
    # int8 scores move by ~0.6 logits with a pair's batch-mates; a candidate given another's score would not
    scores_alone = [a.logits[0] for a in alone]
    assert np.corrcoef(reading.logits, scores_alone)[0, 1] > 0.8
    assert np.median(np.abs(reading.logits - scores_alone)) < 1.0
    best = int(np.argmax(reading.logits))
    span, own = reading.span(best), alone[best].span(0)
    assert span is not None and own is not None
    assert "01.06.2021" in texts[best] and texts[best][span.start:span.end] == texts[best][own.start:own.end]


def test_a_people_list_narrows_to_the_one_the_question_points_at(assistant):
    """«Representerte fylket» is one of the nine steering-group members: the reranker reads the records
    as sentences and names her alone; asked for the whole group, all nine stay."""
    county = assistant.ask("Hvem representerte fylket i styringsgruppa?").answer
    assert "Heidi Hovemoen" in county and "John Andrew Firing" not in county
    group = assistant.ask("Hvem satt i styringsgruppa?").answer
    assert all(name in group for name in ("Heidi Hovemoen", "John Andrew Firing", "Anne Kaslegard", "Grethe Iversen"))


def test_pairs_are_cut_as_the_tokenizer_library_cuts_them_and_share_the_encoders_tokenizer(model_dir, assistant):
    """The pairs the reranker reads (put together by hand, so the encoder's tokenizer can be shared) are
    token for token what the ``tokenizers`` library's own pair encoding with ``longest_first`` truncation
    gives, long questions and long candidates included; and a query process parses the tokenizer once."""
    import random

    from tokenizers import Tokenizer

    from assistant.reranker import MAX_TOKENS, encode_pair_batch, load_tokenizer, pair_texts

    library = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    library.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
    library.encode_special_tokens = True
    words = (ROOT / "corpus" / "om-prosjektet.md").read_text(encoding="utf-8").split()
    rng = random.Random(0)
    for _ in range(60):
        question = " ".join(rng.choices(words, k=rng.choice([3, 12, 45, 90, 140])))
        candidates = [" ".join(rng.choices(words, k=rng.choice([6, 35, 70, 110, 220]))) for _ in range(3)]
        ours = encode_pair_batch(load_tokenizer(model_dir), question, candidates)
        for mine, theirs in zip(ours, library.encode_batch([pair_texts(question, c) for c in candidates])):
            assert (mine.ids, mine.sequence_ids, mine.special_tokens_mask) == (theirs.ids, theirs.sequence_ids, theirs.special_tokens_mask)
            assert [tuple(o) for o in mine.offsets] == [tuple(o) for o in theirs.offsets]
    assert load_tokenizer(assistant.settings.reranker_dir) is load_tokenizer(model_dir)


def test_a_scorer_with_top_layers_trained_in_full_saves_and_loads_as_trained(model_dir, tmp_path):
    """The artefact records its shape: a scorer whose top layers were trained in full (no adapters on
    them) comes back from the artefact with those layers and scores pairs as the trained one did."""
    import torch

    from assistant.reranker.model import load_artefact, make_scorer, save_artefact, trained
    from assistant.reranker.train import score_pairs

    scorer = make_scorer(model_dir, full_layers=2)
    names = list(trained(scorer))
    assert any(".layer.11.attention.self.query.weight" in n for n in names)
    assert not any("lora_" in n and (".layer.10." in n or ".layer.11." in n) for n in names)
    assert any("lora_" in n and ".layer.0." in n for n in names)
    torch.manual_seed(1)
    with torch.no_grad():  # stand-in for training: move every trained parameter
        for p in trained(scorer).values():
            p.add_(torch.randn_like(p) * 0.02)
    scorer.eval()
    save_artefact(scorer, tmp_path, {"test": True})
    loaded = load_artefact(model_dir, tmp_path)
    question, candidates = PAIRS[0][0], [c for q, c, _ in PAIRS if q == PAIRS[0][0]]
    before = score_pairs(scorer, model_dir, question, candidates)
    after = score_pairs(loaded, model_dir, question, candidates)
    assert abs(before - after).max() < 0.05 * (1 + abs(before).max())  # fp16 storage only


def test_train_script_refuses_more_full_layers_than_the_encoder_has_before_any_work():
    """A wrong --full-layers stops at once with one message (not after minutes of mining)."""
    done = subprocess.run([sys.executable, "scripts/train_reranker.py", "train", "--full-layers", "12"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--full-layers must be between 0 and 11" in done.stderr.strip().splitlines()[-1]
