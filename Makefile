# clonedetect: two commands on a fresh machine —
#   make serve   creates .venv, installs everything, starts the local Triton server
#   make test    runs the whole test suite (starts its own servers on free ports)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install serve test train evaluate bench load clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/clonedetect serve

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Retrains the shipped model (tokenizer, encoder, calibration) and installs it in
# model_repository/; add ARGS="--device cuda" on a GPU machine.
train: $(STAMP)
	$(BIN)/python -m clonedetect.training.train --install $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
