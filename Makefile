# Two commands for a fresh machine with only Python 3.10+:
#   make demo   - venv, install, seed a SQLite warehouse, start the Monte Carlo sandbox,
#                 run the example DAG with `airflow dags test`, print invocation_ids, stop
#   make test   - venv, install the test extras and warehouse stand-ins, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# Extras the test suite exercises (each warehouse's provider plus its local stand-in).
TEST_EXTRAS ?= test,sandbox,sqlite,postgres,amazon,standins
PYTEST_ARGS ?=

.PHONY: venv install-demo install-test demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

venv: $(BIN)/python

install-demo: venv
	$(UV) pip install --quiet --python $(BIN)/python -e ".[sandbox,sqlite]"

install-test: venv
	bash scripts/install-system-deps.sh
	$(UV) pip install --quiet --python $(BIN)/python -e ".[$(TEST_EXTRAS)]"

demo: install-demo
	$(BIN)/python scripts/demo.py

test: install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

bench: install-test
	$(BIN)/python benchmarks/push_batching.py

clean:
	rm -rf .demo .pytest_cache
