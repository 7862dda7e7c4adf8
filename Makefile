# The two commands of the README: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench diagrams install locale migrate demo clean prod verify

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/pybabel --quiet compile -d locale -D django
	touch $(STAMP)

# Message catalogs: each .mo (never committed) is compiled from its .po with Babel
# (pure Python, no GNU gettext needed) whenever it is missing or older than the .po.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

locale: $(MO_FILES)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(STAMP)
	$(BIN)/pybabel --quiet compile -D django -l $* -i $< -o $@

install: $(STAMP) locale

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The production profile on 127.0.0.1: PostgreSQL, Redis, gunicorn, a Celery worker and beat.
prod: install
	PORT=$(PORT) scripts/prod.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

# The production profile's verification (`verify/`): API fuzzing, fault injection, the load test and the
# backup round trip; prints every figure.
# Set DATABASE_URL for PostgreSQL (the load test's 100,000 cases need it). wrk comes from Debian.
verify: install
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m verify

# The flow graph (SVG) and the case state machine (DOT) into docs/diagrams/.
diagrams: install
	$(BIN)/python manage.py export_diagrams docs/diagrams

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
