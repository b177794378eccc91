# Two commands do all the set-up on a fresh machine:
#   make demo   install incidentops, validate the example registry and build its site into site/
#   make test   install what the tests need (Python packages, Debian's chromium, npm's axe-core) and run them
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

demo: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/incidentops check
	$(BIN)/incidentops site build
	@echo "Open site/index.html, or run: $(BIN)/incidentops site serve"

test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	scripts/ensure-chromium
	scripts/ensure-npm-tools
	$(BIN)/pytest -n auto --dist loadgroup

lint: $(BIN)/python
	$(BIN)/ruff check .
	$(BIN)/mypy

serve: $(BIN)/python
	$(BIN)/incidentops site serve
