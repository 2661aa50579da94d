#!/usr/bin/env bash
# `make new` end to end, in a scratch copy of the repository (the working tree is never touched):
# scaffold a service, then prove with no other edit that it builds, passes its own tests, serves
# under the local gateway (401 without a token, 404 for a record that is not the caller's), passes
# its recorded contract, and is in the Terraform plan of an environment, with its alarms and
# dashboard widgets (modules/infrastructure/tests/monitoring.tftest.hcl reads every service).
#
# The copy links shared/ and the existing services to the real ones and builds with the
# repository's scratch directory, so only the root package's own targets and the new service
# compile (the next build of the repository recompiles those few from its own sources).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
service=${1:-orders}
work=$(mktemp -d)
# shellcheck source=ci/local-api.sh
. ci/local-api.sh
cleanup() {
  stop_local_api
  rm -rf "$work"
}
trap cleanup EXIT

copy=$work/repo
mkdir -p "$copy"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$copy"
rm -rf "$copy/shared"
ln -s "$root/shared" "$copy/shared"
for name in $(python3 -m ci.declarations); do
  rm -rf "${copy:?}/services/$name"
  ln -s "$root/services/$name" "$copy/services/$name"
done
cd "$copy"
build() { swift build --scratch-path "$root/.build" "$@"; }

echo "new-service: scaffolding $service in a scratch copy"
python3 -m ci.new_service "$service"
build --product local-api >&2
LOCAL_API="$(build --show-bin-path)/local-api"
export LOCAL_API
ci/record-contracts.sh "$service"

echo "new-service: its tests"
build --build-tests >&2
module=$(python3 -m ci.new_service --module "$service")
swift test --scratch-path "$root/.build" --skip-build --filter "${module}Tests|RegistryTests" 2>&1 | grep -E "✘|passed after|failed after|Expectation failed"

echo "new-service: served by the local gateway"
local_api=$LOCAL_API
start_local_api "$work/gateway.log" --in-memory
token=$("$LOCAL_API" token reader --scope "$service.read")
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
anonymous=$(status "$local_api_url/$service/01ARZ3NDEKTSV4RRFFQ69G5FAV")
missing=$(status -H "authorization: Bearer $token" "$local_api_url/$service/01ARZ3NDEKTSV4RRFFQ69G5FAV")
if [ "$anonymous" != 401 ] || [ "$missing" != 404 ]; then
  echo "new-service: GET /$service/{id} answered $anonymous without a token (want 401) and $missing for a missing record (want 404)" >&2
  exit 1
fi

echo "new-service: its contract"
"$LOCAL_API" contract "$service"

if command -v terraform >/dev/null; then
  echo "new-service: in the staging plan"
  [ -f "${TF_CLI_CONFIG_FILE:-/}" ] || export TF_CLI_CONFIG_FILE=/dev/null
  plugins=()
  [ -d "${TF_PLUGIN_DIR:-/opt/tf-plugins}" ] && plugins=(-plugin-dir="${TF_PLUGIN_DIR:-/opt/tf-plugins}")
  mkdir -p environments/staging/tests
  python3 - "$service" >environments/staging/tests/new_service.tftest.hcl <<'EOF'
import sys

from ci import declarations
# The module tests' mock provider, so the plan needs no AWS; a release for every service.
print('mock_provider "aws" {\n  source = "../../modules/infrastructure/tests/mocks"\n}\n')
names = declarations.names()
release = '{ s3_key = "packages/%s.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }'
print("variables {\n  releases = {\n" + "".join(f"    {n} = {release % n}\n" for n in names) + "  }\n}\n")
print(f'''run "the_scaffolded_service_is_planned" {{
  command = plan
  assert {{
    condition     = contains(keys(output.function_names), "{sys.argv[1]}")
    error_message = "{sys.argv[1]} is not in the staging plan"
  }}
}}''')
EOF
  terraform -chdir=environments/staging init -backend=false -input=false -lockfile=readonly -no-color "${plugins[@]}" >/dev/null
  terraform -chdir=environments/staging test -no-color
  echo "new-service: its alarms and dashboard widgets"
  terraform -chdir=modules/infrastructure init -backend=false -input=false -lockfile=readonly -no-color "${plugins[@]}" >/dev/null
  terraform -chdir=modules/infrastructure test -no-color -filter=tests/monitoring.tftest.hcl
elif [ "${CI:-}" = true ]; then
  echo "new-service: terraform is not installed, and CI=true needs the plan check: run ci/install-terraform.sh first" >&2
  exit 1
else
  echo "new-service: terraform is not installed, skipping the plan check (install Terraform >= 1.10 to run it)"
fi
echo "new-service: $service scaffolded, built, tested, served, contract-checked, planned and monitored with no other edit"
