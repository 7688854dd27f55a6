# `make run` and `make test` set everything up themselves: a .venv is created and filled when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# modules are byte-compiled when first imported, not all at install (halves a fresh install: 150 s -> 75 s), and
# kept under .venv/pycache even where the environment sets PYTHONDONTWRITEBYTECODE, so each is compiled once:
# later processes (a run's Prefect server, the tests' subprocesses) start from byte-code
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache
PIP_INSTALL := $(BIN)/pip install -q --no-compile
# installs go through uv, itself installed from PyPI into the venv: it resolves and installs the ~135 packages a run
# needs in about 10 s where pip takes 90 s, most of it resolving. uv reads none of pip's settings, so the wheel
# folders pip is pointed at (PIP_FIND_LINKS or pip's config: where a local torch build may lie) are passed on.
# Where uv cannot be installed, pip does the work.
FIND_LINKS = $(sort $(PIP_FIND_LINKS) $(shell $(BIN)/pip config get global.find-links 2>/dev/null))
UV_INSTALL = $(BIN)/uv pip install -q --python $(BIN)/python $(foreach d,$(FIND_LINKS),--find-links $(d))
WITH_EXTRAS := -e '.[test,dask,trl]'
install_with = if [ -x $(BIN)/uv ] || $(BIN)/pip install -q uv >/dev/null 2>&1; \
	then $(UV_INSTALL) $(1); else $(PIP_INSTALL) $(1); fi

.PHONY: run test lint bench crash-test ui ui-stop ui-check install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(call install_with,$(WITH_EXTRAS))
	@touch $@ $(RUN_STAMP)

# what a run on the built-in learner needs, and nothing more (a fresh `make run` skips the test and trainer extras)
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(call install_with,-e .)
	@touch $@

install: $(STAMP)

## run: a full curriculum run on the embedded defaults (configs/default.yaml)
run: $(RUN_STAMP)
	$(BIN)/curriculum run

## test: the test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

## lint: ruff's lint rules and formatting (pyproject.toml [tool.ruff])
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: generation and validation benchmarks
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## crash-test: SIGKILL a run 20 times at random moments, resume each time, audit the catalogue (~10 min)
crash-test: $(STAMP)
	$(BIN)/python benchmarks/kill_resume.py --kills 20

## ui: local Prefect server + work pool + deployments + worker, in the background
ui: $(STAMP)
	@bash scripts/ui.sh

## ui-check: a small run on a real Prefect server, its pages rendered by headless Chromium (apt-get install chromium)
ui-check: $(STAMP)
	$(BIN)/python scripts/ui_screenshots.py data/ui-check

ui-stop:
	@if [ -f $(PREFECT_HOME)/ui.pids ]; then \
		kill $$(cat $(PREFECT_HOME)/ui.pids) 2>/dev/null || true; sleep 3; \
		kill -9 $$(cat $(PREFECT_HOME)/ui.pids) 2>/dev/null || true; rm -f $(PREFECT_HOME)/ui.pids; fi

clean:
	rm -rf $(VENV) .prefect data/runs data/curriculum.duckdb
