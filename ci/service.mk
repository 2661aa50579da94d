# Included by services/<name>/Makefile: one service on its own (`make -C services/users test`).
# Its tests are declared in the repository's Package.swift (one build graph for every test), so
# they build and run there; `build` builds only the service's own package.
SWIFT ?= swift
SERVICE_DIR := $(abspath $(dir $(firstword $(MAKEFILE_LIST))))
ROOT := $(abspath $(SERVICE_DIR)/../..)
SERVICE := $(notdir $(SERVICE_DIR))
MODULE := $(shell cd $(ROOT) && python3 -m ci.new_service --module $(SERVICE))

.PHONY: test build package deploy rollback
test:
	@$(ROOT)/ci/ensure-tools.sh
	$(SWIFT) build --build-tests --package-path $(ROOT)
	# One suite at a time: on 2 cores, parallel suites starve each other's timing-sensitive tests.
	$(SWIFT) test --package-path $(ROOT) --skip-build --no-parallel --filter '$(MODULE)Tests\.'

build:
	$(SWIFT) build

package:
	$(MAKE) -C $(ROOT) package SERVICE=$(SERVICE)

deploy:
	$(MAKE) -C $(ROOT) deploy SERVICE=$(SERVICE) ENV=$(ENV)

rollback:
	$(MAKE) -C $(ROOT) rollback SERVICE=$(SERVICE) ENV=$(ENV)
