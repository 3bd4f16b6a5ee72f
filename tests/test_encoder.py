"""The int8 ONNX encoder embeds like the fp32 sentence-transformers model, hands out token states that
pool to its embeddings with offsets into the text, and lets a query process run without torch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ingest.embedmodel.export import MIN_COSINE
from ingest.encoder import Encoder, load_encoder
from ingest.errors import ModelError
from tests.conftest import CORPUS, ROOT, make_settings

EVAL_DIR = ROOT / "tests" / "eval"


@pytest.fixture(scope="module")
def encoder(model_dir: Path) -> Encoder:
    return Encoder(model_dir, threads=2)


@pytest.fixture(scope="module")
def st_model(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def eval_texts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The bundled corpus' passages and sentences as ingest embeds them, and every evaluation question."""
    from ingest.chunking import chunk_sections, last_heading, participant_chunks, split_sentences
    from ingest.embedding import load_token_counter
    from ingest.sources import list_corpus, read_participants, read_sections

    count_tokens = load_token_counter(make_settings(CORPUS, tmp_path_factory.mktemp("index")))
    files, _ = list_corpus(CORPUS)
    chunks = []
    for source in files:
        if source.name.endswith((".yaml", ".yml")):
            people = read_participants(source)
            chunks += participant_chunks(people, people.document)
        else:
            chunks += chunk_sections(read_sections(source), count_tokens)
    passages = [c.embed_text for c in chunks]
    # Sentences as ingest encodes one the passage's window does not reach («heading: sentence»).
    passages += [f"{last_heading(c.section)}: {c.text[s:e]}" for c in chunks for s, e in split_sentences(c.text)]
    questions = [item["question"] for path in sorted(EVAL_DIR.glob("*.yaml"))
                 for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []
                 if isinstance(item, dict) and "question" in item]
    return {"passage": passages, "query": list(dict.fromkeys(questions))}


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_int8_embeds_every_eval_text_like_fp32(encoder: Encoder, st_model, eval_texts, kind: str) -> None:
    """Every corpus passage/sentence and every eval question is within cosine 0.99 of the fp32 model."""
    texts = eval_texts[kind]
    ours = encoder.encode_passages(texts) if kind == "passage" else encoder.encode_queries(texts)
    reference = st_model.encode(texts, prompt_name=kind, convert_to_numpy=True, batch_size=32)
    cosines = (ours * reference).sum(axis=1)
    too_far = {t: round(float(c), 4) for t, c in zip(texts, cosines) if c < MIN_COSINE}
    assert (True, {}) == (len(texts) > 50, too_far)


def test_long_texts_keep_the_first_window_like_sentence_transformers(encoder: Encoder, st_model) -> None:
    """A text over 512 tokens is cut like sentence-transformers does, and still embeds like fp32."""
    text = "Biblioteket og innbyggertorget i Drammen samarbeidet om nye tjenester for innbyggerne. " * 60
    states, _ = next(encoder.passage_token_states([text]))
    reference = st_model.encode([text], prompt_name="passage", convert_to_numpy=True)[0]
    cosine = float(encoder.encode_passages([text])[0] @ reference)
    assert (512, True) == (states.shape[0], cosine >= MIN_COSINE)


def test_token_state_pooling_equals_encode_passages(encoder: Encoder, eval_texts) -> None:
    """The mean of a passage's token states, normalised, is its passage embedding (same batching)."""
    texts = eval_texts["passage"][:40] + ["Kort.", "Drammen " * 700]
    pooled = []
    for states, offsets in encoder.passage_token_states(texts, batch_size=7):
        assert (encoder.dim, len(states)) == (states.shape[1], len(offsets))
        mean = states.mean(axis=0)
        pooled.append(mean / np.linalg.norm(mean))
    np.testing.assert_allclose(np.stack(pooled), encoder.encode_passages(texts, batch_size=7), atol=1e-6)


@pytest.mark.parametrize("text", [
    "Blåbærsyltetøy på brødskiva er «det beste som finnes», sa Åse i 2023.",
    "   ledende  og   doble mellomrom, ﬁnn ＡＢＣ og <s> midt i",
    "Linjeskift\nog\ttabulator\r\nher",
])
def test_offsets_point_at_the_tokens_characters(encoder: Encoder, text: str) -> None:
    """Offsets cover the text's non-space characters in order, exactly once; prompt and <s>/</s> get -1."""
    (_, offsets), = encoder.passage_token_states([text])
    real = [(int(s), int(e)) for s, e in offsets if s >= 0]
    prompt_and_specials = [i for i, (s, e) in enumerate(offsets) if s < 0]
    covered = "".join(text[s:e] for s, e in real)
    assert ("".join(text.split()), [0, 1, 2, len(offsets) - 1]) == ("".join(covered.split()), prompt_and_specials)
    # Only a lone "▁" token (a space the model keeps as its own token) may point at whitespace.
    assert all(e > s and (not text[s].isspace() or not text[s:e].strip()) for s, e in real)


def test_count_tokens_matches_the_model_tokenizer(encoder: Encoder, st_model) -> None:
    """Chunk sizing counts the same tokens as the sentence-transformers tokenizer, literal «<s>» included."""
    texts = ["Hvem var prosjektleder?", "ﬁnn ① ＡＢＣ ％ 👍🏽 <s> literal", "<unk> <pad> <mask> </s>", "Ø" * 40]
    expected = [len(st_model.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert expected == [encoder.count_tokens(t) for t in texts]


def test_missing_onnx_export_is_a_clear_model_error(tmp_path: Path, model_dir: Path) -> None:
    """A model folder without onnx/model_int8.onnx fails with one line that says how to make it."""
    folder = tmp_path / "e5-without-onnx"
    folder.mkdir()
    for item in model_dir.iterdir():
        if item.name != "onnx":
            (folder / item.name).symlink_to(item)
    with pytest.raises(ModelError) as info:
        load_encoder(make_settings(CORPUS, tmp_path / "index", embed_model=str(folder)))
    message = str(info.value)
    assert (True, True, 1) == ("model_int8.onnx" in message, "make model" in message, len(message.splitlines()))


def test_a_query_process_never_imports_torch(corpus_index: Path) -> None:
    """A fresh process answers a question through the ONNX encoder without importing torch or transformers."""
    script = (
        "import json, sys\n"
        "from assistant import Assistant, Settings\n"
        f"answer = Assistant(Settings(index_dir={str(corpus_index)!r}, chroma_host=None)).ask('Hvem var prosjektleder?')\n"
        "print(json.dumps([answer.answer, sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("ASSISTANT_CHROMA_HOST", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert 0 == result.returncode, result.stderr[-2000:]
    answer, heavy = json.loads(result.stdout.strip().splitlines()[-1])
    assert (True, []) == ("Borsheim" in answer, heavy)
