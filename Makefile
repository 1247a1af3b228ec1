# Everything a fresh machine needs: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint typecheck unit browser bench soak lock clean screenshots

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-virtualenv -r requirements.lock
	$(BIN)/pip install --quiet --require-virtualenv --no-deps --no-build-isolation -e .
	touch $(STAMP)

# `make run PORT=8001` serves on another port.
run: $(STAMP)
	$(BIN)/flint serve --demo --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check server sync sms tests bench
	$(BIN)/ruff format --check server sync sms tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The page tests drive Debian's Chromium through its chromedriver; install them when missing.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

# Most tests wait on real processes, so two workers halve the wall time; `make unit WORKERS=0` runs them in one process.
WORKERS ?= 2
unit: $(STAMP) browser
	$(BIN)/pytest --numprocesses $(WORKERS) --dist worksteal

test: lint typecheck unit

# The README's screenshots, made by the page tests in a real headless Chromium.
screenshots: $(STAMP) browser
	FLINT_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/pages

# Figures, not assertions: one table (bench/results.json) of pushes against the storage floor and
# PouchDB, a 10,000-line order, bursts of devices and payers, cold snapshots, a mixed load, memory
# (BENCH_ARGS=--quick for a short look); then the API under a key-guessing flood, 1,000 event
# streams and a reconnect storm.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.streams

# Ten minutes of mixed traffic against a real server, SIGKILLed now and then; `flint doctor`
# checks the store at the end. Not part of `make test` (a 30-second version is). SOAK_ARGS=--duration 60
soak: $(STAMP)
	$(BIN)/python -m bench.soak --duration 600 $(SOAK_ARGS)

# Re-pin every dependency after a change to pyproject.toml.
lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
