# Two commands on a fresh machine: `make book` and `make test` (both set up .venv first).
#   make book    executes every chapter (jupyter-cache: unchanged notebooks are not re-run) and
#                builds the site into _build/html
#   make test    lint, unit tests, site build with warnings as errors, checks of the built site,
#                browser tests (headless Chromium)
#   make colab   Colab notebooks (reader and exercise editions) into _build/colab (after make book)
#   make serve   serves _build/html on http://127.0.0.1:$(PORT)
#   make clean   removes _build (site and execution cache) and the fetched offline assets
#   make gpu-check  the one-shot GPU acceptance run (benchmarks/gpu_acceptance.py)
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.installed
PORT ?= 8000
JB := $(VENV)/bin/jupyter-book
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

# CIFAR-10 for the chapters and tests: the shared data folder beside the checkout when it exists
# (a reader's machine downloads into ~/.cache/effnet_core instead). Set EFFNET_DATA to override.
SHARED_DATA := $(abspath ../shared/data)
ifeq ($(EFFNET_DATA),)
ifneq ($(wildcard $(SHARED_DATA)/cifar-10-batches-bin),)
export EFFNET_DATA := $(SHARED_DATA)
endif
endif

# The stages of `make test`, run in this order. To add a stage (e.g. the student edition),
# define its target below and append its name here.
TEST_STAGES := lint unit site student colab colab-runtime site-check browser

.PHONY: setup book test lint unit site site-check browser assets serve clean budget-guard exercises student colab \
	colab-runtime gpu-check $(TEST_STAGES)
.NOTPARALLEL:

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "torch==$(TORCH_VERSION)"
	$(PY) -m pip install -q -e ".[book,dev]"
	touch $@

# MathJax, require.js and the ipywidgets HTML manager, pinned and checksummed (scripts/fetch_assets.py).
assets: $(STAMP)
	$(PY) scripts/fetch_assets.py

# The execution cache does not know which compute budget (EFFNET_BUDGET) produced its outputs:
# when the budget changes, drop the cache so the site never mixes budgets.
BUDGET_NOW := $(or $(EFFNET_BUDGET),auto)
budget-guard:
	@mkdir -p _build
	@if [ "$$(cat _build/.budget 2>/dev/null)" != "$(BUDGET_NOW)" ]; then \
		echo "compute budget is now '$(BUDGET_NOW)': clearing the execution cache"; \
		rm -rf _build/.jupyter_cache _build/html _build/jupyter_execute _build/.doctrees; \
		echo "$(BUDGET_NOW)" > _build/.budget; \
	fi

book: setup assets budget-guard exercises
	$(JB) build .

serve:
	@test -f _build/html/index.html || { echo "no site yet: run 'make book' first"; exit 1; }
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

test: setup $(TEST_STAGES)

lint: setup
	$(VENV)/bin/ruff check effnet_core tests benchmarks scripts chapters

# Fast tests: everything that needs neither the built site nor a browser.
unit: setup
	$(PYTEST) -m "not book and not browser"

# Build the whole site (--all re-reads every page, so every warning shows) with warnings as errors.
site: setup assets budget-guard exercises
	$(JB) build . --all -W --keep-going

# Checks of the built HTML: one page per chapter, offline assets, no CDN, Colab links.
site-check: setup
	$(PYTEST) -m book

# The site in headless Chromium with the network off; screenshots go to _build/screenshots/.
browser: setup
	$(PYTEST) -m browser

# The exercise index (book/exercises.md) and the instructor guide's tables, generated from the
# chapters in _toc.yml (and the recorded timings) before every build.
exercises: setup
	$(PY) scripts/exercise_index.py
	$(PY) scripts/measure_chapters.py --render

# Student edition: notebooks without solutions run with the smoke budget, the student website
# (solutions removed, hide_solutions) and an nbgrader source tree, all in _build/student/.
student: setup assets exercises
	$(PY) scripts/student_edition.py --execute --jobs 2 --site --nbgrader

# Colab edition: every chapter as a Colab notebook, reader and exercises editions, in _build/colab/
# (plain Markdown, glued numbers from the website's build: run `make book` or `make site` first).
colab: setup exercises
	$(PY) scripts/colab_edition.py

# The chapters and both Colab editions, each run in an empty folder with the smoke budget, in a
# Colab-like runtime (_build/colab-venv: Colab's ipywidgets 7.7.1, then the package without extras).
colab-runtime: setup colab
	$(PY) scripts/colab_runtime.py --venv _build/colab-venv --torch $(TORCH_VERSION) --jobs 2

# One-shot acceptance run on one GPU (<= 8 minutes): chapter 08's gpu budget (both runs) and
# chapter 07's timings; writes gpu_acceptance.json and fails below 90 % or over time.
gpu-check: setup
	$(PY) benchmarks/gpu_acceptance.py --out gpu_acceptance.json

clean:
	rm -rf _build _vendor
