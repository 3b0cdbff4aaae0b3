# Two set-up commands for a fresh machine with Python 3 and make: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: demo try test check lint types docs unit bench clean dotenv-oldest

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

# The demo installs the package and the emulator only (the demo extra), not the test toolchain.
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[demo]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python examples/demo.py

# A playground after the demo: the emulator with every example's secrets, and a shell with envinject on PATH.
try: $(DEMO_STAMP)
	$(BIN)/python examples/playground.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# Workers for pytest: most end-to-end tests wait on a subprocess, a deadline or a child, so more workers than
# cores pays (PYTEST_WORKERS=0 runs in one process).
PYTEST_WORKERS ?= 4

test: lint types docs dotenv-oldest
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# The manual: every page, link and anchor must resolve (--strict), and the examples it shows are the shipped files.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir .site

# The edit-test loop: lint, types, and the unit and in-process tests (no installed CLI, no emulator process), less
# those marked slow; make test runs everything.
check: lint types
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q -m "not slow" tests/unit tests/integration

# The tests that read dotenv text, again with the oldest python-dotenv that pyproject.toml allows (the main
# venv has the newest). A small venv of its own: pytest, hypothesis and that python-dotenv, nothing else.
OLDEST := .venv-dotenv-oldest
DOTENV_FLOOR := $(shell sed -n 's/^ *"python-dotenv>=\([0-9.]*\)".*/\1/p' pyproject.toml)

$(OLDEST)/.installed-$(DOTENV_FLOOR):
	@test -n "$(DOTENV_FLOOR)" || { echo 'no "python-dotenv>=X" line found in pyproject.toml'; exit 1; }
	rm -rf $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet pytest hypothesis "python-dotenv==$(DOTENV_FLOOR)"
	touch $@

dotenv-oldest: $(OLDEST)/.installed-$(DOTENV_FLOOR)
	$(OLDEST)/bin/python -m pytest -q -p no:cacheprovider tests/unit/test_formats.py tests/unit/test_envfile.py \
		tests/unit/test_peer_values.py tests/unit/test_push.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(OLDEST) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis .site
