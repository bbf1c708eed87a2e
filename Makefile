# kinlink front door. `make demo` and `make test` each do all of their own set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kinlink-installed
SYSTEM_STAMP := $(VENV)/.kinlink-system
SPARK_STAMP := $(VENV)/.kinlink-spark
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test setup system lint typecheck check bench clean

setup: $(STAMP)

# Debian packages: graphviz (dot) draws genograms, poppler-utils (pdftoppm) checks PDFs.
$(SYSTEM_STAMP):
	@if ! command -v dot >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  echo "installing graphviz and poppler-utils (apt-get)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq graphviz poppler-utils >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $@

$(STAMP): setup.cfg pyproject.toml | $(SYSTEM_STAMP)
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# The Spark engine's equivalence test needs pyspark (the `spark` extra) and a Java runtime.
$(SPARK_STAMP): $(STAMP)
	@if ! command -v java >/dev/null; then \
	  echo "installing a Java runtime for Spark (apt-get)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq default-jre-headless >/dev/null; \
	fi
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	@touch $@

demo: setup
	$(BIN)/kinlink synth --out demo/data --people 2000 --seed 42
	$(BIN)/kinlink run -c config/pipeline.yaml
	$(BIN)/kinlink evaluate --workspace demo/workspace --truth demo/data/truth/records.parquet \
	  --truth-relationships demo/data/truth/relationships.parquet --truth-families demo/data/truth/families.parquet
	@echo "demo finished: Family Summary Records in demo/workspace/fsr/mash_social_worker/; the tables (records, people, relationships, families, interventions), quarantine and manifest.json in demo/workspace/"

test: setup $(SPARK_STAMP)
	$(BIN)/python -m pytest -n 2

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
