# mlops-infra: the two commands of the README, and the steps they are made of.
#
#   make up     set everything up and run the local stack end to end (prints a prediction)
#   make test   set everything up and run every test: lint, strict types, unit, integration
#
# Everything lands in this folder: .venv (Python), .tools (the Pulumi CLI built from the Go
# module proxy), .pulumi-state (the local file backend), .mlops/<stack> (local data).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PULUMI := scripts/pulumi
ACTIONLINT := .tools/bin/actionlint
ACTIONLINT_VERSION := v1.7.12
STACK ?= local
EXTRAS ?= dev

.PHONY: help
help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	@echo "==> Python environment ($(VENV), extras: $(EXTRAS))"
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or later is needed; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet --progress-bar off -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.installed-* && touch $@

.PHONY: venv
venv: $(VENV)/.installed-$(EXTRAS)  ## create the virtualenv and install the package

.PHONY: tools
tools:  ## install the pinned Pulumi CLI (built from the Go module proxy when needed)
	@echo "==> Pulumi toolchain"
	@scripts/install-pulumi >/dev/null

.PHONY: stack
stack: venv tools
	@$(PULUMI) stack select --create $(STACK) --non-interactive >/dev/null
	@$(PY) -m mlops_infra.cli validate stacks/Pulumi.$(STACK).yaml

.PHONY: up
up: EXTRAS = examples
up: stack  ## run the local stack: MLflow, training pipeline, gated model server; print a prediction
	@echo "==> pulumi up --stack $(STACK)"
	@# Long steps report progress as they go (also kept in .mlops/$(STACK)/progress.log).
	@$(PULUMI) up --yes --stack $(STACK) --non-interactive --skip-preview --suppress-outputs
	@$(PULUMI) stack output --json --stack $(STACK) > .mlops/$(STACK)/outputs.json
	@$(PY) -m mlops_infra.cli invoke --outputs .mlops/$(STACK)/outputs.json

AZURITE := .tools/azurite/node_modules/.bin/azurite-blob
AZURITE_VERSION := 3.35.0

$(AZURITE):
	@echo "==> Azurite $(AZURITE_VERSION) (npm, into .tools/azurite)"
	@npm install --prefix .tools/azurite --no-audit --no-fund --silent azurite@$(AZURITE_VERSION)

.PHONY: azurite
azurite: $(AZURITE)  ## install Azurite (the Azure Blob emulator rehearse runs) from npm

.PHONY: rehearse
rehearse: EXTRAS = dev
rehearse: stack $(AZURITE)  ## run STACK's generated pipeline, gate and serving contracts here, on emulators
	@echo "==> mlops-infra rehearse --stack $(STACK)"
	@$(PY) -m mlops_infra.cli rehearse --stack $(STACK)

.PHONY: preview
preview: stack  ## preview the local stack
	@$(PULUMI) preview --stack $(STACK) --non-interactive

.PHONY: down
down: stack  ## destroy the local stack (stops every process; data is kept unless purge_on_delete)
	@$(PULUMI) destroy --yes --stack $(STACK) --non-interactive --skip-preview

$(ACTIONLINT):
	@echo "==> actionlint $(ACTIONLINT_VERSION) (Go module proxy)"
	@GOBIN=$(CURDIR)/.tools/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

.PHONY: lint
lint: venv $(ACTIONLINT)  ## formatting and lint rules, workflow files included
	@echo "==> ruff, actionlint"
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/ruff check .
	@$(ACTIONLINT)

.PHONY: typecheck
typecheck: venv  ## strict type check
	@echo "==> pyright"
	@$(VENV)/bin/pyright

.PHONY: unit
unit: venv $(ACTIONLINT)  ## unit tests (no engine)
	@echo "==> unit tests"
	@ACTIONLINT=$(ACTIONLINT) $(PY) -m pytest tests/unit -q

.PHONY: integration
integration: venv tools $(AZURITE)  ## integration tests on the real Pulumi engine (and rehearse)
	@echo "==> integration tests (real Pulumi engine)"
	@MLOPS_REQUIRE_ENGINE=1 $(PY) -m pytest tests/integration -q

# The oldest pulumi-aws pyproject.toml admits: the AWS tests run against it too, so the floor
# is a release with everything the backend uses (sagemaker.MlflowApp arrived in 7.22,
# sagemaker.TrainingJob in 7.25).
AWS_FLOOR = $(shell sed -n 's/.*"pulumi-aws>=\([0-9.]*\),.*/\1/p' pyproject.toml)
# Likewise pulumi-gcp: 9.0 is the first with Cloud SQL's final_backup_config
# (tests/unit/gcp/test_gcp_provider_floor.py checks every name and argument the backend uses).
GCP_FLOOR = $(shell sed -n 's/.*"pulumi-gcp>=\([0-9.]*\),.*/\1/p' pyproject.toml)

.PHONY: floor
floor: venv  ## the AWS and GCP unit tests against the oldest providers pyproject.toml admits
	@echo "==> AWS and GCP tests at the provider floors (pulumi-aws==$(AWS_FLOOR), pulumi-gcp==$(GCP_FLOOR), .venv-floor)"
	@test -x .venv-floor/bin/python || $(VENV)/bin/uv venv -q .venv-floor --python $(PY)
	@$(VENV)/bin/uv pip install -q --python .venv-floor/bin/python -e '.[dev]' 'pulumi-aws==$(AWS_FLOOR)' 'pulumi-gcp==$(GCP_FLOOR)'
	@.venv-floor/bin/python -m pytest tests/unit/aws tests/unit/gcp tests/unit/test_every_flavor.py -q -p no:cacheprovider

.PHONY: check
check: venv  ## every policy rule on every stack (offline; exits non-zero on a violation)
	@$(PY) -m mlops_infra.cli check

.PHONY: test
test: lint typecheck unit floor check integration  ## everything CI runs

.PHONY: clean
clean:  ## remove local stacks' processes, state and data, and the environment
	-@$(PULUMI) destroy --yes --stack $(STACK) --non-interactive --skip-preview 2>/dev/null
	rm -rf .mlops .pulumi-state $(VENV) .tools
