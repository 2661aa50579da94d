# Included by services/<name>/Makefile: one service on its own (`make -C services/users test`).
# The repository's Makefile runs everything through one build; this builds only the service.
SWIFT ?= swift
SERVICE_DIR := $(abspath $(dir $(firstword $(MAKEFILE_LIST))))
ROOT := $(abspath $(SERVICE_DIR)/../..)
SERVICE := $(notdir $(SERVICE_DIR))

.PHONY: test build package deploy rollback
test:
	@$(ROOT)/ci/ensure-tools.sh
	# One suite at a time: on 2 cores, parallel suites starve each other's timing-sensitive tests.
	$(SWIFT) test --no-parallel

build:
	$(SWIFT) build

package:
	$(MAKE) -C $(ROOT) package SERVICE=$(SERVICE)

deploy:
	$(MAKE) -C $(ROOT) deploy SERVICE=$(SERVICE) ENV=$(ENV)

rollback:
	$(MAKE) -C $(ROOT) rollback SERVICE=$(SERVICE) ENV=$(ENV)
