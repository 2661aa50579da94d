#!/usr/bin/env bash
# The Terraform tests. Without Terraform they say so in one line and skip (under CI=true, where
# Terraform must be there, they fail instead).
#   ci/test-terraform.sh unit   formatting, validation of every root, `terraform test` with a mock
#                               provider (make check)
#   ci/test-terraform.sh integration   checkov, and the environments and the pipeline applied
#                               against moto (ci/tests/integration)
#   ci/test-terraform.sh all    both (make test-terraform; make test runs make check, then integration)
set -euo pipefail
cd "$(dirname "$0")/.."
scope=${1:-all}

if ! command -v terraform >/dev/null; then
  if [ "${CI:-}" = true ]; then
    echo "test-terraform: terraform is not installed, and CI=true needs the Terraform tests: run ci/install-terraform.sh (pinned, checksum-verified) first" >&2
    exit 1
  fi
  echo "test-terraform: terraform is not installed, skipping the Terraform tests (install Terraform >= 1.10 to run them; ci/install-terraform.sh)"
  exit 0
fi
[ -f "${TF_CLI_CONFIG_FILE:-/}" ] || export TF_CLI_CONFIG_FILE=/dev/null
plugins=()
[ -d "${TF_PLUGIN_DIR:-/opt/tf-plugins}" ] && plugins=(-plugin-dir="${TF_PLUGIN_DIR:-/opt/tf-plugins}")

unit() {
  terraform fmt -check -recursive -diff modules environments
  for root in modules/infrastructure environments/*/; do
    [ -n "$(ls "$root"/*.tf 2>/dev/null)" ] || continue
    terraform -chdir="$root" init -backend=false -input=false -lockfile=readonly -no-color "${plugins[@]}" >/dev/null
    terraform -chdir="$root" validate -no-color >/dev/null
    echo "test-terraform: $root is valid"
  done
  for root in modules/*/ environments/*/; do
    if [ -d "$root/tests" ]; then terraform -chdir="$root" test -no-color; fi
  done
}
case "$scope" in
  unit) unit; exit 0 ;;
  all) unit ;;
  integration) ;;
  *) echo "usage: ci/test-terraform.sh unit|integration|all" >&2; exit 2 ;;
esac

# Every skipped check carries its reason next to the resource (checkov:skip=...). A file checkov
# cannot parse would go unchecked while it still reports 0 failed, so that fails too.
scan=$(BC_SKIP_MAPPING=TRUE .venv-checkov/bin/checkov --quiet --compact --framework terraform --download-external-modules false \
  -d modules -d environments) || { echo "$scan"; exit 1; }
echo "$scan"
if grep -q "Parsing errors" <<<"$scan"; then
  echo "test-terraform: checkov could not parse a file, so its checks did not run (BC_SKIP_MAPPING=TRUE .venv-checkov/bin/checkov -d modules names it)"
  exit 1
fi

# Against moto: each environment test (deploy, rollback, destroy) and the pipeline's jobs in order,
# with the real packages. Each runs in its own process with its own moto, tree and directories, so
# they share nothing and run side by side (Terraform mostly waits on moto); each one's output
# follows when all are done.
ci/build.sh
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
cd ci/tests/integration
python=../../../.venv/bin/python
runs=$("$python" -c 'import unittest, test_environments_on_moto as m
def ids(suite):
    for t in suite:
        yield from (ids(t) if isinstance(t, unittest.TestSuite) else [t.id()])
print("\n".join(ids(unittest.defaultTestLoader.loadTestsFromModule(m))))')
pids=()
for run in $runs test_pipeline_on_moto; do
  "$python" -m unittest -v "$run" >"$logs/$run.log" 2>&1 &
  pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
cat "$logs"/*.log
exit "$failed"
