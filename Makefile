# gongkai — the two commands a newcomer needs: `make demo` and `make test` (both install first).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= data

.PHONY: help setup demo test lint bench fuzz hostile clean

help:
	@echo "make demo   install, then run the whole pipeline on the bundled offline demo portal"
	@echo "make test   install, then run the test suite (what CI runs)"
	@echo "make lint   ruff"
	@echo "make bench  run the benchmarks in bench/ (minutes; prints figures)"
	@echo "make fuzz   bounded coverage-guided fuzzing of the readers and the table mapper (FUZZ_SECONDS=120)"
	@echo "make hostile  the hostile-input catalogue, a bounded fuzz and the kill matrix, as a markdown table"

$(BIN)/gongkai: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(BIN)/gongkai

demo: setup
	$(BIN)/gongkai demo --data-dir $(DATA)

test: setup
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

lint: setup
	$(BIN)/ruff check extract transform flows sql tests bench

bench: setup
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/warehouse.py
	$(BIN)/python bench/pipeline.py

fuzz: setup
	$(BIN)/pip install -q -c constraints.txt -e '.[fuzz]'
	$(BIN)/python fuzz/run.py --seconds $(or $(FUZZ_SECONDS),120)

hostile: setup
	$(BIN)/pip install -q -c constraints.txt -e '.[fuzz]'
	$(BIN)/python bench/hostile.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
