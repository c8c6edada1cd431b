# Two commands on a fresh machine: `make demo` and `make test`.
# Everything is installed into .venv by these targets; nothing else is assumed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
SYSDEPS := $(VENV)/.installed-system
BENCHSTAMP := $(VENV)/.installed-bench

.PHONY: demo test lint format bench soak clean install

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Debian packages the tests use: redis-server, for the shared-state tests (tests/state/) against
# a real Redis. The tests start their own server on a free loopback port in a temporary
# directory and stop it by PID; nothing here starts a server. Installed where missing when we
# are root with apt-get; `make test` fails if that install fails (it would otherwise skip the
# Redis tests silently). Without root or apt-get the Redis tests skip, saying why.
$(SYSDEPS): | $(PY)
	@if command -v redis-server >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing redis-server (apt-get)"; \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
		  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		       --no-install-recommends redis-server; }; } >/dev/null \
		|| { echo "error: apt-get could not install redis-server" >&2; exit 1; }; \
		command -v redis-server >/dev/null 2>&1 || { echo "error: redis-server missing after install" >&2; exit 1; }; \
	else echo "note: redis-server is not installed and cannot be (needs root + apt-get); the Redis tests will skip"; fi
	touch $(SYSDEPS)

# The bench extra: the profiler, matplotlib, and the tools Juggler is compared with.
$(BENCHSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev,bench]"
	touch $(BENCHSTAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/juggler demo

lint: $(STAMP)
	$(VENV)/bin/ruff check core langchain_juggler llamaindex_juggler tests bench
	$(VENV)/bin/mypy

test: $(SYSDEPS) lint
	$(VENV)/bin/pytest -q

# Juggler against raw httpx/aiohttp, the openai SDK, LangChain and LiteLLM (~7 minutes):
# writes bench/results.md and bench/results.png.
bench: $(BENCHSTAMP)
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
