# The project's user interface. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SWIFT ?= swift
DIST ?= .build/dist
# A minimal service's zip must stay under this many bytes (the official runtime ships ~9 MB).
MINIMAL_ZIP_BUDGET ?= 5000000

.PHONY: help tools build test test-ci-scripts check-minimal-package format

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

tools:
	@ci/ensure-tools.sh

build: tools ## Build every package and its tests (debug)
	$(SWIFT) build --build-tests

test: tools test-ci-scripts check-minimal-package ## Run every test: ci scripts, packaging checks, all Swift packages
	$(SWIFT) test

test-ci-scripts: tools
	python3 -m unittest discover -s ci/tests

check-minimal-package: tools ## Release-build the minimal service: AL2023-loadable, no ICU, zip under budget
	python3 ci/package.py --product minimal-bootstrap --name minimal --package-path shared \
		--out $(DIST) --max-zip-bytes $(MINIMAL_ZIP_BUDGET)

format: ## Format Swift sources with swift format
	$(SWIFT) format format -i -r Package.swift shared services
