# Two commands for a fresh machine with only Python 3.10+:
#   make demo   - venv, install, seed a SQLite warehouse, start the Monte Carlo sandbox,
#                 run the example DAG with `airflow dags test` (metadata + view lineage, push,
#                 sensor), print invocation_ids and what the sandbox stored, stop
#   make test   - venv, install the test extras and warehouse stand-ins, run the test suite
# Release and docs (their tools live in their own small venv, $(TOOLS)):
#   make dist      - sdist + wheel into dist/, `twine check --strict`, wheel contents checked
#   make docs      - the docs site from docs/ (MkDocs, --strict) into site/
#   make typecheck - mypy on the provider package alone (`make lint` runs ruff and mypy)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# Every warehouse's Airflow provider plus the local stand-ins the tests talk to.
TEST_EXTRAS ?= test,sqlite,postgres,amazon,snowflake,google,databricks,hive,openlineage,standins
# Stand-in servers that pin versions the main venv cannot share (bqemulator: sqlglot<30.12 and
# DuckDB 1.5.5; brickhouse: sqlglot==30.24.0; fakesnow: sqlglot~=30.22) each get their own venv;
# the tests start them as subprocesses.
STANDINS := .venv-standins
PYTEST_ARGS ?=
# Release/docs tools, kept out of the package's venv so they never move its pins.
TOOLS := .venv-tools
TOOLS_REQUIREMENTS := "mkdocs>=1.6,<2" "twine>=6" "mypy>=1.13"

.PHONY: venv install-demo install-test standins demo test lint bench clean tools dist docs typecheck

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

venv: $(BIN)/python

install-demo: venv
	$(UV) pip install --quiet --python $(BIN)/python -e ".[sqlite]" -e ./sandbox

install-test: venv standins
	bash scripts/install-system-deps.sh
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[$(TEST_EXTRAS)]" -e "./sandbox[test]"

standins: venv $(STANDINS)/bqemulator/.done $(STANDINS)/brickhouse/.done $(STANDINS)/fakesnow/.done

$(STANDINS)/bqemulator/.done:
	$(UV) venv --quiet --python $(BIN)/python $(STANDINS)/bqemulator
	$(UV) pip install --quiet --python $(STANDINS)/bqemulator/bin/python "bqemulator==1.4.0" "duckdb==1.5.5" \
		"duckdb-extension-spatial==1.5.5" "duckdb-extensions==1.5.5" numpy google-cloud-bigquery
	touch $@

$(STANDINS)/brickhouse/.done:
	$(UV) venv --quiet --python $(BIN)/python $(STANDINS)/brickhouse
	$(UV) pip install --quiet --python $(STANDINS)/brickhouse/bin/python "brickhouse==0.1.0"
	touch $@

$(STANDINS)/fakesnow/.done:
	$(UV) venv --quiet --python $(BIN)/python $(STANDINS)/fakesnow
	$(UV) pip install --quiet --python $(STANDINS)/fakesnow/bin/python "fakesnow[server]==0.12.1" "snowflake-connector-python<5" uvicorn
	touch $@

demo: install-demo
	$(BIN)/python scripts/demo.py

test: install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# mypy checks the provider against its installed dependencies, so lint installs them first.
lint: install-test tools
	$(UV) pip install --quiet --python $(BIN)/python "ruff>=0.6"
	$(BIN)/ruff check .
	$(TOOLS)/bin/mypy --python-executable $(BIN)/python

bench: install-test
	$(BIN)/python benchmarks/push_batching.py

tools: venv $(TOOLS)/.done

$(TOOLS)/.done:
	$(UV) venv --quiet --python $(BIN)/python $(TOOLS)
	$(UV) pip install --quiet --python $(TOOLS)/bin/python $(TOOLS_REQUIREMENTS)
	touch $@

# uv builds the sdist, then the wheel from that sdist (so the sdist is proven complete).
dist: tools
	rm -rf dist
	$(UV) build --quiet --out-dir dist .
	$(TOOLS)/bin/twine check --strict dist/*
	$(BIN)/python scripts/check_dist.py dist

docs: tools
	$(TOOLS)/bin/mkdocs build --strict --site-dir site

# mypy runs from $(TOOLS) but resolves imports (Airflow, the providers) in the package's venv.
typecheck: tools
	$(TOOLS)/bin/mypy --python-executable $(BIN)/python

clean:
	rm -rf .demo .pytest_cache dist site
