# Two commands on a fresh machine: `make demo` and `make test`.
# Everything is installed into .venv by these targets; nothing else is assumed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
SYSDEPS := $(VENV)/.installed-system

.PHONY: demo test lint format bench soak clean install

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Debian packages the tests use: redis-server, for the shared-circuit test against a real
# Redis. Best effort: without root or apt-get that one test skips, saying why.
$(SYSDEPS): | $(PY)
	@command -v redis-server >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1; } || echo "note: redis-server could not be installed; its test will skip"
	touch $(SYSDEPS)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/juggler demo

lint: $(STAMP)
	$(VENV)/bin/ruff check core langchain_juggler llamaindex_juggler tests bench
	$(VENV)/bin/mypy

test: lint $(SYSDEPS)
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(PY) bench/run.py

# The full load test (about a minute and a half): 10,000 calls at concurrency 200 against the
# simulator on 127.0.0.1, 30% faulty attempts and an outage; stops by itself, exits non-zero
# on a failed check. Not part of `make test` (tests/reliability has a reduced one).
soak: $(STAMP)
	$(PY) bench/soak.py

format: $(STAMP)
	$(VENV)/bin/ruff check --fix core langchain_juggler llamaindex_juggler tests bench
	$(VENV)/bin/ruff format core langchain_juggler llamaindex_juggler tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
