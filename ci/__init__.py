"""The project's tooling, one package: each job is a module run from the repository's root with
`python3 -m ci.<job>` (the Makefile's targets and the pipeline's jobs are one such line each).

Where each fact lives:
- declarations: the services (services/*/service.json, checked against services/service.schema.json),
  the REST authorizer pseudo-service, what is packaged.
- servers: ports and how moto and the local servers start (the tests' and the tools' one way).
- bootstraps: running a packaged bootstrap under the Runtime API emulator (the runtime-api
  executable of shared/).

Jobs: package, deploy, operate, capacity, new_service, module_readme, mutants, docs_check,
authorizer_contract, telemetry_check, stream_check, bench_cold, bench_stream, iam_check,
conformance.run and conformance.fuzz (the local DynamoDB against DynamoDB's documented behaviour).
Two programs run as files because they stand alone: moto_server (moto with the repairs the tests
need, started by servers) and aws_web_identity (the pipeline's token exchange, standard library
only, run before any environment exists)."""
