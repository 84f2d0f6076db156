# tradefin — two commands on a fresh machine (Python 3.11, Node, npm):
#   make run    set up, compile, start the devnet, deploy if needed, start the gateway; Ctrl-C stops
#   make test   set up, then run every test suite
# Everything is installed pinned from PyPI and npm; nothing downloads a binary.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
PYTHON ?= python3

export PATH := $(ROOT)/tools/bin:$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(ROOT)/.cache/solcx
export APE_DATA_FOLDER := $(ROOT)/.cache/ape
export FOUNDRY_SOLC := $(ROOT)/tools/bin/solc
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup compile test-tools test-contracts test-anvil test-forge test-slither test-app clean

run: setup compile
	$(PY) -m tools.platform run

test: setup compile test-tools test-contracts test-anvil test-forge test-slither test-app

setup: $(VENV)/.installed node_modules/.installed $(SOLCX_BINARY_PATH)/solc-v0.8.37

$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SOLCX_BINARY_PATH)/solc-v0.8.37: tools/bin/solc
	mkdir -p $(SOLCX_BINARY_PATH)
	ln -sfn $(ROOT)/tools/bin/solc $@

compile: setup
	cd $(ROOT) && ape compile

# The project's own tools (plain Python: no chain, so without Ape's pytest plugin).
test-tools:
	cd $(ROOT) && $(PY) -m pytest tests/tools -q -p no:cacheprovider -p no:ape_test

# Contract tests on Ape's embedded eth-tester chain.
test-contracts:
	cd $(ROOT) && ape test tests/contracts -q -p no:cacheprovider

# The same contract tests on Anvil (fresh chain on a free port, pruned history).
test-anvil:
	cd $(ROOT) && ape test tests/contracts -q -p no:cacheprovider --network ethereum:local:foundry

test-forge:
	cd $(ROOT) && forge test --root $(ROOT)

# Slither on contracts/ (through forge, see tools/slither_check.py): fails on any High finding.
test-slither:
	cd $(ROOT) && $(PY) -m tools.slither_check

test-app:
	cd $(ROOT) && if [ -d tests/app ] && ls tests/app/test_*.py >/dev/null 2>&1; then $(PY) -m pytest tests/app -q -p no:cacheprovider; fi

clean:
	rm -rf .build .forge contracts/.cache .cache/ape
