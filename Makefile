# Developer commands. The README's quick start: `make run` and `make test`.
.PHONY: setup run test lint format migrate seed verify bench

setup:
	scripts/setup

run:
	scripts/run

test:
	scripts/test

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python manage.py makemigrations --check --dry-run -v0
	.venv/bin/bandit -q -c pyproject.toml -r ledger accounts -ll

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

migrate: setup
	.venv/bin/python manage.py migrate

seed: migrate
	.venv/bin/python manage.py seed_demo

verify: setup
	.venv/bin/python manage.py verify_ledger

# Performance harness (not run by CI): its own venv bench/.venv, a fresh PostgreSQL
# database ledger_bench_run. `make bench BENCH_ARGS="--postings 200000"` for a shorter run.
BENCH_ARGS ?= --postings 1000000
bench:
	python3 bench/run.py $(BENCH_ARGS)
