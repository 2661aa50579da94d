# The project's user interface. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SWIFT ?= swift
# Tests leave the checkout as they found it: no __pycache__ beside ci/ scripts.
export PYTHONDONTWRITEBYTECODE := 1
DIST ?= .build/dist
PYTHON := .venv/bin/python
# Every function packaged: the services and the REST authorizer (ci/declarations.py). Read only by
# the targets that use it: every make call, the tests' many among them, would pay for it otherwise.
FUNCTIONS = $(shell python3 -m ci.declarations --packages)
# A minimal service's zip must stay under this many bytes (the official runtime ships ~9 MB).
MINIMAL_ZIP_BUDGET ?= 5000000

.PHONY: check-swift check-scripts bench-cold test-new-service docs-check slow-suites module-readme help tools serve-tools run invoke event build new test check lint fuzz capacity dynamodb-conformance parity check-minimal-package dynamodb bench package format \
	test-terraform contract token plan apply deploy rollback rotate-secret destroy lock logs info alarms

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

tools:
	@ci/ensure-tools.sh

serve-tools:
	@ci/ensure-tools.sh serve

# local-api's options from make's variables (see `local-api --help`).
RUN_ARGS = --port $(or $(PORT),3000) --dynamodb-port $(or $(DYNAMODB_PORT),8000) --environment $(or $(ENV),staging) \
	$(if $(RECORD),--record $(RECORD)) $(if $(PAYLOAD),--payload $(PAYLOAD)) $(if $(JWKS),--jwks $(JWKS)) \
	$(if $(ARTIFACT),--artifact $(DIST)) $(if $(DEFAULT_ROUTE),--default-route $(DEFAULT_ROUTE)) $(if $(API),--api $(API)) \
	$(if $(TIMINGS),--timings) --docs "$$($(DOCS_ASSETS))"
# Swagger UI's files for the API docs at /_docs/ (the pinned swagger-ui-py in .venv-docs).
DOCS_ASSETS = .venv-docs/bin/python -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("swagger_ui").origin) + "/static")'

run: $(if $(ARTIFACT),tools,serve-tools) ## Local API Gateway on 127.0.0.1:3000, API docs on /_docs/ (PORT, ENV=staging, API=http|rest, RECORD=name, ARTIFACT=1, WATCH=1, JWKS=file, TIMINGS=1)
ifdef WATCH
	ci/watch.sh $(RUN_ARGS)
else
	$(SWIFT) build --product local-api
	$(if $(ARTIFACT),PACKAGES=$(DIST) ci/build.sh)
	"$$($(SWIFT) build --show-bin-path)/local-api" $(RUN_ARGS)
endif

token: ## A token the local gateway accepts: make token SUB=ada [SCOPE="users.admin items.read"] (default: users/items read+write)
	@$(SWIFT) build --product local-api >/dev/null
	@"$$($(SWIFT) build --show-bin-path)/local-api" token $(or $(SUB),developer) $(foreach s,$(SCOPE),--scope $(s))

invoke: tools ## Run one event through a service: make invoke SERVICE=users EVENT=event.json
	@test -n "$(SERVICE)" -a -n "$(EVENT)" || { echo "make invoke: give SERVICE and EVENT, e.g. make invoke SERVICE=users EVENT=event.json" >&2; exit 2; }
	$(SWIFT) build --product local-api
	"$$($(SWIFT) build --show-bin-path)/local-api" invoke $(SERVICE) $(EVENT)

event: tools ## Print the API Gateway event for a request: make event REQUEST="GET /users/ada" SUB=ada [SCOPE=users.read] [BODY='{...}']
	@test -n "$(REQUEST)" || { echo 'make event: give REQUEST, e.g. make event REQUEST="GET /users/ada" SUB=ada' >&2; exit 2; }
	@$(SWIFT) build --product local-api >&2
	@"$$($(SWIFT) build --show-bin-path)/local-api" event $(REQUEST) $(if $(BODY),'$(BODY)') $(if $(SUB),--sub $(SUB)) $(foreach s,$(SCOPE),--scope $(s))

build: tools ## Build every package and its tests (debug)
	$(SWIFT) build --build-tests

# Each phase starts with a banner (ci/phase.sh) and records its end; `make test` records them in
# this run's file and sums them up.
phase = @ci/phase.sh $@
phase-end = @ci/phase.sh --end $@
# make test's phases after make check, in two lanes side by side (ci/beside.sh). SwiftPM runs one
# command per build directory at a time, so the phases that build or run Swift go one after
# another; the ones that only run programs make check built go beside them (PREBUILT: they start no
# SwiftPM command, which would wait for the other lane's). make new's test builds its scratch copy
# in this checkout's build directory too. The GitLab test job runs the phases as separate jobs.
SWIFT_PHASES := check-minimal-package contract test-terraform test-new-service
PROGRAM_PHASES := slow-suites capacity dynamodb-conformance fuzz docs-check
# A product's debug build, unless the caller built every product already.
build-product = $(if $(PREBUILT),,$(SWIFT) build --product $(1))
test: export MAKE_TEST_PHASES := $(CURDIR)/.build/phases/$(shell date +%s%N).log
test: check ## Run every test: make check, then packaging, contracts against the packages, Terraform on moto, fuzzing, the API docs in Chromium, make new
	$(SWIFT) build --product local-dynamodb
	@ci/beside.sh $(MAKE) --no-print-directory TERRAFORM_SCOPE=integration $(SWIFT_PHASES) \
		-- env PREBUILT=1 $(MAKE) --no-print-directory $(PROGRAM_PHASES)
	@ci/phase.sh --summary

# Suites that take long for what they add to the inner loop: every Wycheproof vector through the
# debug build's signature arithmetic, and the local DynamoDB driven as a process by the AWS CLI.
# make check skips them; make test runs them (slow-suites).
SLOW_SUITES = WycheproofTests|LocalProcessTests

check: ## The inner loop: build with tests, the Swift suites but the slow ones, in-process contracts, the CI scripts' tests, lint, Terraform's unit tests
	$(phase)
	@ci/ensure-tools.sh system
	# The build needs only the Debian packages: the Python tools install meanwhile (once).
	ci/ensure-tools.sh & tools=$$!; $(SWIFT) build --build-tests; wait $$tools
	@ci/beside.sh $(MAKE) --no-print-directory check-swift -- $(MAKE) --no-print-directory check-scripts
	$(phase-end)

# make check's two halves, side by side: the Swift suites and in-process contracts, and the CI
# scripts' tests, lint and Terraform's unit tests.
check-swift:
	# One suite at a time: on 2 cores, parallel suites starve each other's timing-sensitive tests.
	$(SWIFT) test --skip-build --no-parallel --skip '$(SLOW_SUITES)'
	"$$($(SWIFT) build --show-bin-path)/local-api" contract

check-scripts: tools
	$(PYTHON) -m unittest discover -s ci/tests -t .
	@$(MAKE) --no-print-directory lint
	ci/test-terraform.sh unit

slow-suites: tools ## The Swift suites make check skips (SLOW_SUITES: the Wycheproof vectors, the local DynamoDB as a process)
	$(phase)
	$(if $(PREBUILT),,$(SWIFT) build --build-tests)
	# The test binary itself, as `swift test` runs it: SwiftPM would hold the build lock meanwhile.
	NO_COLOR=1 "$$($(SWIFT) build --show-bin-path)"/*PackageTests.xctest --testing-library swift-testing --no-parallel --filter '$(SLOW_SUITES)'
	$(phase-end)

lint: tools ## swift format lint, ruff, shellcheck, .gitlab-ci.yml against GitLab's schema (terraform fmt: ci/test-terraform.sh)
	$(SWIFT) format lint --strict -r Package.swift shared services tools
	.venv/bin/ruff check ci
	shellcheck ci/*.sh
	.venv/bin/check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml

LOCAL_DYNAMODB = "$$($(SWIFT) build --show-bin-path)/local-dynamodb"
# The Runtime API emulator (LambdaTesting) as a command: packaged bootstraps run as Lambda runs them.
RUNTIME_API = "$$($(SWIFT) build --show-bin-path)/runtime-api"
dynamodb-conformance: tools ## The local DynamoDB against DynamoDB's documented behaviour (moto reported), then a bounded fuzz run
	$(phase)
	$(call build-product,local-dynamodb)
	$(PYTHON) -m ci.conformance.run --local-dynamodb $(LOCAL_DYNAMODB) --moto --report .build/conformance/report.json
	$(PYTHON) -m ci.conformance.fuzz --local-dynamodb $(LOCAL_DYNAMODB) --seconds $(or $(FUZZ_SECONDS),20)
	$(phase-end)

parity: tools ## Print the README's parity table (local DynamoDB and moto against the documentation)
	@$(SWIFT) build --product local-dynamodb >&2
	@$(PYTHON) -m ci.conformance.run --local-dynamodb $(LOCAL_DYNAMODB) --moto --markdown | grep '^|'

new: tools ## Scaffold and register a service: make new SERVICE=orders (then edit its service.json and handler)
	@test -n "$(SERVICE)" || { echo "make new: name the service, e.g. make new SERVICE=orders" >&2; exit 2; }
	python3 -m ci.new_service $(SERVICE)
	ci/record-contracts.sh $(SERVICE)
	@echo "new: services/$(SERVICE) is ready: make run serves it, make test tests it, make deploy SERVICE=$(SERVICE) ENV=staging deploys it"

capacity: ## Throughput ceiling of every access pattern from service.json and DynamoDB's partition limits
	$(phase)
	python3 -m ci.capacity
	$(phase-end)

contract: tools ## Replay every service's contract corpus against its packaged bootstrap (make check replays them in-process); the REST authorizer's corpus against its package; the packaged runtime's metrics and traces, and a streamed export's format and memory
	$(phase)
	$(SWIFT) build --product local-api
	PACKAGES=$(DIST) ci/build.sh
	"$$($(SWIFT) build --show-bin-path)/local-api" contract --artifact $(DIST)
	$(SWIFT) build --product runtime-api
	python3 -m ci.authorizer_contract replay --bootstrap $(DIST)/authorizer/bootstrap --runtime-api $(RUNTIME_API)
	PACKAGES=$(DIST) ci/contract-mutation.sh
	$(SWIFT) build --product local-dynamodb
	$(PYTHON) -m ci.telemetry_check --bootstrap $(DIST)/users/bootstrap --dynamodb $(LOCAL_DYNAMODB) --runtime-api $(RUNTIME_API)
	$(PYTHON) -m ci.stream_check --bootstrap $(DIST)/items/bootstrap --dynamodb $(LOCAL_DYNAMODB) --runtime-api $(RUNTIME_API)
	$(phase-end)

test-terraform: tools ## Terraform: fmt, validate, terraform test, checkov, environments and the pipeline applied against moto
	$(phase)
	ci/test-terraform.sh $(or $(TERRAFORM_SCOPE),all)
	$(phase-end)

mutants: tools ## Prove the checks can fail: 26 small named changes (Swift code, IAM, routes, corpora, the schema) in a scratch copy, each killed by its named check (ci/mutants.py)
	$(SWIFT) build --product local-api
	$(PYTHON) -m ci.mutants --local-api "$$($(SWIFT) build --show-bin-path)/local-api"

test-new-service: tools ## make new end to end in a scratch copy: builds, tests, serves, passes its contract, is planned
	$(phase)
	ci/test-new-service.sh
	$(phase-end)

fuzz: tools ## schemathesis against every service's OpenAPI document through the local gateway (FUZZ_EXAMPLES=25)
	$(phase)
	ci/fuzz-openapi.sh
	$(phase-end)

docs-check: tools ## make run's API docs in a headless Chromium: every declared route on the page, one authorized call through Try it out
	$(phase)
	$(call build-product,local-api)
	$(PYTHON) -m ci.docs_check --local-api "$$($(SWIFT) build --show-bin-path)/local-api" --docs "$$($(DOCS_ASSETS))"
	$(phase-end)

check-minimal-package: tools ## Release-build the minimal service: AL2023-loadable, no ICU, zip under budget
	$(phase)
	python3 -m ci.package --product minimal-bootstrap --name minimal \
		--out $(DIST) --max-zip-bytes $(MINIMAL_ZIP_BUDGET) --forbid-regex
	$(phase-end)

dynamodb: tools ## Run the local DynamoDB on 127.0.0.1:8000 (data in .local/dynamodb.sqlite)
	$(SWIFT) run --package-path shared local-dynamodb --port $(or $(PORT),8000) --db .local/dynamodb.sqlite

bench: tools check-minimal-package ## Benchmarks: bootstrap size, local DynamoDB vs moto, the local gateway (wrk), a streamed export against the paged listing
	@cat $(DIST)/minimal/package.json
	ci/bench-dynamodb.sh
	ci/bench-gateway.sh
	$(PYTHON) -m ci.bench_stream --local-api "$$($(SWIFT) build $$(python3 -m ci.package --print-build-flags) --show-bin-path)/local-api"

bench-cold: tools check-minimal-package ## Cold start and peak RSS of minimal, a C floor, every service's package and the REST authorizer, then the first DynamoDB-backed answer over HTTP and TLS (RUNS=20)
	PACKAGES=$(DIST) ci/build.sh
	$(SWIFT) build -c release --product local-dynamodb --package-path shared >&2
	$(SWIFT) build -c release --product runtime-api --package-path shared >&2
	$(PYTHON) -m ci.bench_cold --runs $(or $(RUNS),20) --dynamodb "$$($(SWIFT) build -c release --package-path shared --show-bin-path)/local-dynamodb" \
		--runtime-api "$$($(SWIFT) build -c release --package-path shared --show-bin-path)/runtime-api" \
		minimal=$(DIST)/minimal/bootstrap $(foreach s,$(FUNCTIONS),$(s)=$(DIST)/$(s)/bootstrap)

package: tools ## Package one service for Lambda: make package SERVICE=users
	@test -n "$(SERVICE)" || { echo "make package: name the service, e.g. make package SERVICE=users" >&2; exit 2; }
	@test -n "$(filter $(SERVICE),$(FUNCTIONS))" || { echo "make package: no services/$(SERVICE)/service.json; functions: $(FUNCTIONS) (authorizer: the REST API's)" >&2; exit 2; }
	python3 -m ci.package --product $(SERVICE)-bootstrap --name $(SERVICE) --out $(DIST)

# Deploying (ci/deploy.py; the pipeline runs the same). ENV is an environments/<ENV> directory.
need-env = @test -n "$(ENV)" || { echo "make $@: name the environment, e.g. make $@ ENV=staging" >&2; exit 2; }

plan: tools ## Plan an environment with the deployed packages: make plan ENV=staging
	$(need-env)
	$(PYTHON) -m ci.deploy plan $(ENV) || [ $$? -eq 2 ]

apply: tools ## Apply an environment's infrastructure changes (packages stay as deployed): make apply ENV=staging
	$(need-env)
	$(PYTHON) -m ci.deploy apply $(ENV)

deploy: tools ## Package and deploy one service (or all): make deploy SERVICE=users ENV=staging [PACKAGES=dir]
	$(need-env)
	$(if $(PACKAGES),,$(foreach s,$(or $(SERVICE),$(FUNCTIONS)),$(MAKE) --no-print-directory package SERVICE=$(s);))
	$(PYTHON) -m ci.deploy deploy $(ENV) $(SERVICE) --packages $(or $(PACKAGES),$(DIST))

rollback: tools ## Return a service to its previous package: make rollback SERVICE=users ENV=staging
	$(need-env)
	@test -n "$(SERVICE)" || { echo "make rollback: name the service, e.g. make rollback SERVICE=users ENV=staging" >&2; exit 2; }
	$(PYTHON) -m ci.deploy rollback $(ENV) $(SERVICE)

# Operating a deployed environment (ci/operate.py), with your own AWS credentials.
logs: tools ## A service's and the API's logs, JSON pretty-printed: make logs SERVICE=users ENV=staging [SINCE=15m] [FOLLOW=1] [REQUEST=id]
	$(need-env)
	@test -n "$(SERVICE)" || { echo "make logs: name the service, e.g. make logs SERVICE=users ENV=$(ENV)" >&2; exit 2; }
	@$(PYTHON) -m ci.operate logs $(ENV) $(SERVICE) --since $(or $(SINCE),15m) $(if $(FOLLOW),--follow) $(if $(REQUEST),--request $(REQUEST))

info: tools ## What an environment runs: endpoint, each service's package and when, functions, tables, alarm states: make info ENV=staging
	$(need-env)
	@$(PYTHON) -m ci.operate info $(ENV)

alarms: tools ## What is firing in an environment, since when and why: make alarms ENV=staging
	$(need-env)
	@$(PYTHON) -m ci.operate alarms $(ENV)

rotate-secret: tools ## Store a new random value for an environment's secret: make rotate-secret ENV=staging NAME=cursor
	$(need-env)
	@test -n "$(NAME)" || { echo "make rotate-secret: name the secret, e.g. make rotate-secret ENV=$(ENV) NAME=cursor" >&2; exit 2; }
	$(PYTHON) -m ci.deploy rotate-secret $(ENV) $(NAME)

destroy: tools ## Destroy an environment: make destroy ENV=staging CONFIRM=staging
	$(need-env)
	@test "$(CONFIRM)" = "$(ENV)" || { echo "make destroy: this deletes $(ENV); repeat its name to confirm: CONFIRM=$(ENV)" >&2; exit 2; }
	$(PYTHON) -m ci.deploy destroy $(ENV)

lock: ## Regenerate the hash-locked Python requirements (ci/requirements*.txt) from ci/requirements*.in; review and commit the diff
	ci/lock.sh python

module-readme: ## Rewrite modules/infrastructure/README.md's Inputs and Outputs tables from its variables and outputs
	python3 -m ci.module_readme --write

format: ## Format Swift sources with swift format
	$(SWIFT) format format -i -r Package.swift shared services tools
