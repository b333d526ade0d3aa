# Newsroom: `make run` serves the site on SQLite with the demo articles; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=

# The newest Python 3.12 or later: versioned commands on PATH first, then pyenv's installs
# (whose shims on PATH may not be active). Each candidate is run, so a broken shim is skipped.
define find_python
for c in python3.14 python3.13 python3.12 python3 \
         $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.*/bin/python3; do \
  v=$$("$$c" -c 'import sys; v = sys.version_info; print(f"{v[0]}.{v[1]:03d}") if v >= (3, 12) else None' 2>/dev/null) || continue; \
  [ "$$v" = None ] || [ -z "$$v" ] || echo "$$v $$(command -v "$$c")"; \
done | sort -r | head -n 1 | cut -d' ' -f2
endef

# The secret key: DJANGO_SECRET_KEY when set, otherwise one made once and kept in var/secret_key.
export DJANGO_SECRET_KEY ?= $(shell mkdir -p var && { [ -s var/secret_key ] || python3 -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key 2>/dev/null || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > var/secret_key; } && cat var/secret_key)

.PHONY: help run test install install-dev migrate seed static lint bench screenshots clean

help:
	@echo "make run    set up and serve the site on http://$(HOST):$(PORT) (SQLite, demo articles)"
	@echo "make test   set up and run the test suite"
	@echo "make lint   ruff, the import contracts (lint-imports), and hadolint on the Dockerfile"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make screenshots  retake the README's screenshots (needs Chromium)"

$(PY):
	@py="$$($(find_python))"; \
	if [ -z "$$py" ]; then \
	  echo "error: Newsroom needs Python 3.12 or newer (Django 6.1 does), and none was found." >&2; \
	  echo "       Install python3.12 or python3.13 and put it on PATH, then run make again." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$py ($$($$py --version))"; \
	"$$py" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py import_articles fixtures/seeds/

static: install
	$(PY) manage.py collectstatic --noinput --verbosity 0

run: seed static
	@echo "Serving Newsroom on http://$(HOST):$(PORT)/"
	$(VENV)/bin/gunicorn newsroom.wsgi --config gunicorn.conf.py --bind $(HOST):$(PORT)

test: install-dev static
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/hadolint Dockerfile

screenshots: install-dev static
	$(VENV)/bin/pytest tests/e2e/screenshots.py -p no:cacheprovider -q
	@echo "Screenshots written to docs/screenshots/"

bench: install-dev
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
