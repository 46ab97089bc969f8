# segreport — run `make help` for the targets.
# `make report` and `make test` each install what is missing first: the Debian packages
# (chromium, fonts-noto-cjk, poppler-utils) when running as root or with sudo, and a
# virtualenv in .venv with the project and its dependencies.

SHELL := /bin/bash
# The first Python >= 3.11 that actually runs (pyenv shims may exist without a version).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEB_PACKAGES := chromium fonts-noto-cjk poppler-utils
SAMPLE := data/sample
ARGS ?=

# JupyterLab refuses to start as root without --allow-root (containers often run as root).
LAB_ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.DEFAULT_GOAL := help
.PHONY: help setup system-deps notebook-hygiene report sample test test-fast test-spark lint format lab bench clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

system-deps: ## Install Debian packages (as root or with sudo; skipped otherwise)
	@bash scripts/install-system-deps.sh $(DEB_PACKAGES)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "segreport: Python 3.11+ is needed (apt-get install python3 python3-venv)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Report notebooks stay free of outputs: git stores them stripped (clean filter, see
# .gitattributes), Jupyter servers from .venv save them stripped (pre-save hook), and the
# kernel shows the name the notebooks' metadata has, so saving in JupyterLab keeps it.
notebook-hygiene: | $(STAMP)
	@$(BIN)/python scripts/install_notebook_hooks.py

setup: system-deps $(STAMP) notebook-hygiene ## Create .venv and install everything (idempotent)

$(SAMPLE)/orders.csv: | $(STAMP)
	$(BIN)/segreport sample --out $(SAMPLE)

sample: setup $(SAMPLE)/orders.csv ## Generate the sample data into data/sample (if absent)

report: sample ## Run every report on the sample data -> reports/index.html
	$(BIN)/segreport run --jobs 2 --formats html,pdf --progress $(ARGS)

test: setup ## Run the whole test suite (without the Spark lane: make test-spark)
	$(BIN)/python -m pytest -m "not spark" $(ARGS)

test-fast: setup ## Tests without notebook execution and browser
	$(BIN)/python -m pytest -m "not slow and not browser" $(ARGS)

# The Spark lane: Java (as root, like chromium), the [spark] extra, the spark-marked tests.
SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

test-spark: setup $(SPARK_STAMP) ## Run the Spark lane (engine: spark against DuckDB; installs pyspark, Java)
	@SEGREPORT_SPARK=1 bash scripts/install-system-deps.sh
	SEGREPORT_SPARK_REQUIRED=1 $(BIN)/python -m pytest -m spark tests/spark $(ARGS)

lint: setup ## ruff check and format check
	$(BIN)/ruff check src tests benchmarks scripts jupyter
	$(BIN)/ruff format --check src tests benchmarks scripts jupyter

format: setup ## Apply ruff formatting and fixes
	$(BIN)/ruff check --fix src tests benchmarks scripts jupyter
	$(BIN)/ruff format src tests benchmarks scripts jupyter

lab: setup ## Open JupyterLab on the project (notebooks/, src/, params/) with the .venv kernel
	$(BIN)/jupyter lab --notebook-dir="$(CURDIR)" $(LAB_ROOT_FLAG) $(ARGS)

bench: setup ## Run the benchmarks (slow) and record the results (ARGS="--only bench_rfm")
	$(BIN)/python benchmarks/run_all.py $(ARGS)

clean: ## Remove generated reports, scratch output, sample data and caches (keeps .venv)
	rm -rf reports/*/ reports/index.html reports/.cache scratch $(SAMPLE) .pytest_cache
