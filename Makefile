# The README's two commands are `make run` and `make test`; both install what they need.
.DEFAULT_GOAL := help
PY := .venv/bin/python

.PHONY: help run test typecheck setup setup-dev lint format bench clean

help:
	@echo "make run    - install, migrate, load candles, seed the demo and start web + worker + beat + prices + the exchange emulator on http://127.0.0.1:8000"
	@echo "make test   - install (incl. test tools and Chromium), type-check, then run the whole test suite"
	@echo "make typecheck - mypy (with django-stubs) over the apps' models, services and selectors"
	@echo "make lint   - ruff check and format check"
	@echo "make format - ruff format and the fixes ruff can make"
	@echo "make bench  - benchmarks under bench/ (see BENCHMARKS.md)"
	@echo "make clean  - remove .venv, node_modules and var/ (the local database too)"

setup:
	@bash scripts/setup.sh

setup-dev:
	@bash scripts/setup.sh --dev --browser

run: setup
	$(PY) manage.py runstack $(ARGS)

# Type errors fail the run before any test starts (`make test ARGS=...` still picks the tests).
test: setup-dev
	$(PY) -m mypy
	$(PY) -m pytest $(ARGS)

typecheck: setup-dev
	$(PY) -m mypy

lint: setup-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup-dev
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: setup-dev
	$(PY) -m pytest bench $(ARGS)

clean:
	rm -rf .venv node_modules var .pytest_cache .ruff_cache .mypy_cache test-artifacts
