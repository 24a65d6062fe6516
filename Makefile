# Two commands on a fresh machine: `make book` and `make test` (both set up .venv first).
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.installed

.PHONY: setup test lint

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "torch==$(TORCH_VERSION)"
	$(PY) -m pip install -q -e ".[book,dev]"
	touch $@

lint: $(STAMP)
	$(VENV)/bin/ruff check effnet_core tests benchmarks

test: $(STAMP) lint
	$(PY) -m pytest -q
