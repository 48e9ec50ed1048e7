# clonedetect: two commands on a fresh machine —
#   make serve   creates .venv, installs everything, starts the local Triton server
#   make test    runs the whole test suite (starts its own servers on free ports)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install serve test lint format audit train evaluate dolos bench load figures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/clonedetect serve

test: $(STAMP) dolos
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff lint and format check over the whole tree (configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Applies ruff's fixes and formatting.
format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Dependency audit: pip-audit of the installed packages (PyPI's vulnerability data) and
# npm audit of the Dolos runner's lock file. Needs internet access, so it is not part of
# `make test`: the package indexes the development machines reach have no vulnerability API.
audit: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --skip-editable
	cd evaluation/dolos_runner && npm audit --package-lock-only

# Retrains the shipped model (tokenizer, encoder, calibration) and installs it in
# model_repository/; add ARGS="--device cuda" on a GPU machine.
train: $(STAMP)
	$(BIN)/python -m clonedetect.training.train --install $(ARGS)

# Real plagiarism (SOCO 2014, with Dolos), plagiarism AUC per level/language, MAP@R,
# BigCloneBench, calibration, INT8 — with the TF-IDF and winnowing baselines on the same
# pairs (about 10 min on 2 cores).
evaluate: $(STAMP) dolos
	$(BIN)/clonedetect evaluate reports/evaluation $(ARGS)

# The Dolos baseline (npm @dodona/dolos-lib, pinned in evaluation/dolos_runner/) installed
# once into the cache folder; needs Node.js 18+ and npm. A no-op when already installed.
dolos: $(STAMP)
	$(BIN)/python -m clonedetect.evaluation.dolos --install

# Side-by-side benchmark: in-process batched, per-request service, Triton HTTP and gRPC.
bench: $(STAMP)
	$(BIN)/clonedetect bench --json reports/bench/bench.json $(ARGS)

# Bounded headless Locust run against a local Triton it starts and stops.
load: $(STAMP)
	$(BIN)/clonedetect load $(ARGS)

# clone_compare single-request latency (HTTP, gRPC) and the encoder's batch size under load.
figures: $(STAMP)
	$(BIN)/python -m clonedetect.load_tests.serving_figures

clean:
	rm -rf $(VENV) .pytest_cache
