#!/usr/bin/env bash
# Fuzzes every service through the local API Gateway with schemathesis, from its OpenAPI
# document: no 5xx, no response the document does not allow, schema-invalid input refused.
# The run is bounded (FUZZ_EXAMPLES per operation, fixed seed) and uses an in-memory DynamoDB.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${FUZZ_EXAMPLES:-25}
# PREBUILT: the caller built it (make test, beside a lane that holds SwiftPM's build lock).
[ -n "${PREBUILT:-}" ] || swift build --product local-api >&2
log=.build/fuzz-local-api.log
local_api="$(swift build --show-bin-path)/local-api"
# shellcheck source=ci/local-api.sh
. ci/local-api.sh
# Every scope any route declares, so the fuzzer reaches the admin paths too (the 401/403 paths are
# in the contracts).
scope_args=()
while read -r scope; do scope_args+=(--scope "$scope"); done < <(python3 -m ci.package --print-scopes)
token=$("$local_api" token fuzzer "${scope_args[@]}")
trap stop_local_api EXIT
start_local_api "$log" --in-memory

status=0
for service in $(python3 -m ci.declarations); do
  document=services/$service/openapi.json
  echo "fuzz: $service ($examples examples per operation)"
  # A token signed with the development key, for the gateway's JWT authorizer. The checks are the
  # contract: no server error and every response as documented; plus invalid input refused.
  .venv/bin/schemathesis run "$document" --url "$local_api_url" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection \
    --max-examples "$examples" --seed 20261123 --header "Authorization: Bearer $token" --no-color --request-timeout 10 \
    || status=1
done
if [ "$status" -ne 0 ]; then echo "fuzz: failures above; the gateway's log is in $log" >&2; fi
exit "$status"
