# Two commands: `make run` serves the platform on the embedded default (SQLite, demo tenants);
# `make test` runs linters, type checks and the whole test suite. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean bench bench-rebuild bench-portal bench-serve vendor messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --no-compile: pip would compile every module of every package it installs (19 s of the 35 s an
# install took here); a module is compiled when it is first imported instead, most never are.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/qcflow serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The suite runs in TEST_WORKERS processes (pytest-xdist; three on two cores: much of a test is
# waiting for PostgreSQL, Chromium or a read model), each module's half on one backend whole in
# one of them, the longest first (tests/scheduling.py); TEST_WORKERS=0 runs it in this process.
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): else each
# of the processes compiles every module it imports again, and pytest rewrites every test module's
# asserts again in each worker (collecting the suite: 10.4 s of CPU a process, 3.8 s with it).
TEST_WORKERS ?= 3
test: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS)

# The portal's pinned third-party files (api/portal/static/vendor/manifest.toml), fetched from the
# npm registry and checked against their hashes.
vendor: $(STAMP)
	$(BIN)/python -m api.portal.vendor

# The portal's messages: extract from the templates and Python, update both catalogs (then fill in
# every new msgstr: the tests fail while one lacks zh-CN or en).
messages: $(STAMP)
	$(BIN)/pybabel extract -F api/portal/babel.cfg -k N_ -k NP_:1c,2 -k pgettext:1c,2 -k gettext \
	  -k ngettext:1,2 \
	  --no-location --omit-header --sort-output -o api/portal/locale/messages.pot api/portal
	$(BIN)/pybabel update -i api/portal/locale/messages.pot -d api/portal/locale \
	  --width 100 --no-fuzzy-matching --ignore-obsolete

bench: $(STAMP)
	$(BIN)/python bench/store_bench.py

# Every read model rebuilt over >= 1M generated events (about 15 minutes); EVENTS=50000 for a check.
bench-rebuild: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/rebuild_bench.py $(if $(EVENTS),--events $(EVENTS))

# The portal's heaviest pages against the JSON endpoints serving the same data (SQLite, in-process;
# 3 to 12 minutes, most of it making 2,000 results through the real commands).
bench-portal: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/portal_bench.py

# `qcflow serve` against a trivial Litestar app served the same way, three runs (about 6 minutes);
# WORKERS=n for the server processes of both (default 2).
bench-serve: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/serve_bench.py $(if $(WORKERS),--workers $(WORKERS))
	PYTHONPATH=. $(BIN)/python bench/middleware_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
