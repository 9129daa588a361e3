# Kong + Bedrock LLM gateway. `make dev` runs it locally without Docker; `make test` runs
# every check. Targets that need a tool this machine lacks say so and stop.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv bootstrap dev test lint typecheck unit bench

help:
	@grep -E '^[a-zA-Z/_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

venv:
	@WITH_SYSTEM=0 ./scripts/bootstrap.sh

bootstrap:
	@./scripts/bootstrap.sh

dev: venv ## Run the gateway locally: plugin servers, Kong-faithful front on :8000, Bedrock emulator
	@$(PY) -m kong_plugins.testing.dev

test: bootstrap lint typecheck unit ## Everything: lint, types, tests

lint:
	@$(VENV)/bin/ruff check kong_plugins tests bench
	@$(VENV)/bin/ruff format --check kong_plugins tests bench

typecheck:
	@$(VENV)/bin/mypy kong_plugins

unit:
	@$(VENV)/bin/pytest -q

bench: venv ## Print the benchmark figures
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
