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

test: bootstrap lint typecheck validate unit ## Everything: lint, types, deployment validators, tests

lint:
	@$(VENV)/bin/ruff check kong_plugins tests bench
	@$(VENV)/bin/ruff format --check kong_plugins tests bench

typecheck:
	@$(VENV)/bin/mypy kong_plugins

unit:
	@$(VENV)/bin/pytest -q

bench: venv ## Print the benchmark figures
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# ---- Deployments (issue 7): real Kong in Docker, EKS, offline validation --------------------
.PHONY: validate tools/checkov security-scan local/up local/down local/logs local/test \
	eks/plan eks/apply eks/deploy eks/status

CHECKOV_VENV := $(VENV)/checkov
CHECKOV_VERSION := 3.3.30
COMPOSE ?= docker compose
OFFLINE ?= auto
TF_DIR := infra/terraform/envs/prod
RENDERED := build/kong-prod.rendered.yaml
KONG_NAMESPACE ?= kong

# $(call need,tool,how to get it): stop with a clear message when a tool is missing.
need = command -v $(1) >/dev/null 2>&1 || { echo "$@: '$(1)' not found: $(2)" >&2; exit 1; }
need_docker = $(call need,docker,install Docker) && { docker info >/dev/null 2>&1 || { echo "$@: no Docker engine answers (docker info failed): start Docker Desktop or dockerd" >&2; exit 1; }; }
need_aws = $(call need,aws,install the AWS CLI v2) && { aws sts get-caller-identity >/dev/null 2>&1 || { echo "$@: no AWS credentials (aws sts get-caller-identity failed): set AWS_PROFILE or run aws sso login" >&2; exit 1; }; }

tools/checkov:
	@[ -x $(CHECKOV_VENV)/bin/checkov ] || { echo "tools/checkov: installing checkov $(CHECKOV_VERSION) into $(CHECKOV_VENV) (its own venv: its pins conflict with ours)"; \
	  python3 -m venv $(CHECKOV_VENV) && $(CHECKOV_VENV)/bin/pip install -q "checkov==$(CHECKOV_VERSION)"; }

validate: venv tools/checkov ## Offline checks of every deployment file (Kong configs, compose, Helm, Terraform, ArgoCD, scripts)
	@$(PY) -m kong_plugins.testing.validate

# bandit: medium and high findings fail. B104 (bind to 0.0.0.0) is skipped like ruff's S104 in
# pyproject: token-meter's /metrics must be reachable from Prometheus in a container.
security-scan: venv ## bandit + pip-audit (needs the advisory service), trivy on the image when installed
	@$(VENV)/bin/bandit -q -r kong_plugins -x kong_plugins/testing -ll --skip B104
	@$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off 2>&1 | tail -n 5 ; test "$${PIPESTATUS[0]}" = 0 || { echo "security-scan: pip-audit failed (vulnerable dependency, or the advisory service is unreachable: it needs network to pypi.org/osv.dev)" >&2; exit 1; }
	@if command -v trivy >/dev/null 2>&1; then \
	  trivy fs --exit-code 1 --severity HIGH,CRITICAL --scanners vuln,secret,misconfig . ; \
	  if docker image inspect kong-bedrock-gateway:local >/dev/null 2>&1; then trivy image --exit-code 1 --severity HIGH,CRITICAL kong-bedrock-gateway:local; fi; \
	else echo "security-scan: trivy not installed; skipped the image/filesystem scan"; fi

local/up: venv ## Real Kong 3.9.3 in Docker; OFFLINE=1 uses the Bedrock emulator (default: offline when no AWS credentials)
	@$(need_docker)
	@offline="$(OFFLINE)"; \
	if [ "$$offline" = auto ]; then \
	  if [ -n "$${AWS_ACCESS_KEY_ID:-}" ] || [ -n "$${AWS_PROFILE:-}" ] || [ -f "$$HOME/.aws/credentials" ] || [ -f "$$HOME/.aws/config" ]; then offline=0; else offline=1; fi; \
	fi; \
	mkdir -p "$$HOME/.aws"; \
	if [ "$$offline" = 1 ]; then \
	  echo "local/up: offline: Bedrock and Gemini answered by the emulator (profile offline)"; \
	  eval "$$($(PY) -c 'import shlex; from kong_plugins.testing.dev import offline_env; print("\n".join(f"export {k}={shlex.quote(v)}" for k, v in offline_env("http://bedrock-emulator:4010").items()))')"; \
	  unset AWS_PROFILE; \
	  $(COMPOSE) --profile offline up -d --build --wait; \
	else \
	  echo "local/up: online: Bedrock through AWS_PROFILE=$${AWS_PROFILE:-default} (~/.aws mounted read-only)"; \
	  $(COMPOSE) up -d --build --wait; \
	fi
	@echo "local/up: Kong http://localhost:8000  admin http://127.0.0.1:8001  Prometheus http://127.0.0.1:9090  Grafana http://127.0.0.1:3000"

local/down: ## Stop the Docker stack (all profiles) and remove its volumes
	@$(need_docker)
	@$(COMPOSE) --profile offline --profile postgres down -v --remove-orphans

local/logs: ## Follow the Docker stack's logs
	@$(need_docker)
	@$(COMPOSE) --profile offline --profile postgres logs -f --tail=200

local/test: venv ## The e2e suite against real Kong in Docker (testcontainers)
	@$(need_docker)
	@$(VENV)/bin/pytest -q -m e2e_docker tests/e2e

# DECK_REDIS_HOST stays a placeholder: Terraform fills in the ElastiCache endpoint.
$(RENDERED): kong-prod.yaml
	@[ -n "$${DECK_IDP_ISSUER:-}" ] && [ -n "$${DECK_IDP_RSA_PUBLIC_KEY:-}" ] || { echo "$@: set DECK_IDP_ISSUER and DECK_IDP_RSA_PUBLIC_KEY (the identity provider's issuer and PEM public key)" >&2; exit 1; }
	@$(PY) -m kong_plugins.testing.validate.render kong-prod.yaml $@ --defer DECK_REDIS_HOST

eks/plan: venv $(RENDERED) ## terraform plan of infra/terraform/envs/prod (needs terraform and AWS credentials)
	@$(call need,terraform,install Terraform >= 1.6)
	@$(need_aws)
	@cd $(TF_DIR) && terraform init -input=false && terraform plan -input=false -out=tfplan

eks/apply: ## Apply the plan made by eks/plan
	@$(call need,terraform,install Terraform >= 1.6)
	@$(need_aws)
	@[ -f $(TF_DIR)/tfplan ] || { echo "$@: no plan: run make eks/plan first" >&2; exit 1; }
	@cd $(TF_DIR) && terraform apply -input=false tfplan

eks/deploy: venv $(RENDERED) ## Roll out a new image/config: helm upgrade with helm/kong-values.yaml (IMAGE_TAG=<sha>)
	@$(call need,helm,install Helm 3)
	@$(call need,kubectl,install kubectl)
	@$(need_aws)
	@[ -n "$(IMAGE_REPOSITORY)" ] && [ -n "$(IMAGE_TAG)" ] || { echo "$@: set IMAGE_REPOSITORY and IMAGE_TAG" >&2; exit 1; }
	@kubectl -n $(KONG_NAMESPACE) create secret generic kong-dbless-config --from-file=kong.yml=$(RENDERED) --dry-run=client -o yaml | kubectl apply -f -
	@helm repo add kong https://charts.konghq.com >/dev/null 2>&1 || true
	@helm upgrade --install kong kong/kong --version 3.4.1 -n $(KONG_NAMESPACE) -f helm/kong-values.yaml \
	  --set image.repository=$(IMAGE_REPOSITORY) --set image.tag=$(IMAGE_TAG) --atomic --wait --timeout 15m
	@kubectl -n $(KONG_NAMESPACE) rollout restart deployment -l app.kubernetes.io/instance=kong

eks/status: ## Pods, HPA, PDB and rollout state of Kong on EKS
	@$(call need,kubectl,install kubectl)
	@$(need_aws)
	@kubectl -n $(KONG_NAMESPACE) get deploy,pods,hpa,pdb,svc -l app.kubernetes.io/instance=kong -o wide
	@kubectl -n $(KONG_NAMESPACE) rollout status deployment -l app.kubernetes.io/instance=kong --timeout=30s
