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

# One unit job: "N validate ROOT" or "N test ROOT FILE"; its output in $unit_logs/N.log, and
# N.failed if it fails. Run by xargs (exported below), which shellcheck cannot follow.
# shellcheck disable=SC2317
unit_job() {
  local n=$1 kind=$2 root=$3
  if [ "$kind" = validate ]; then
    terraform -chdir="$root" validate -no-color >/dev/null && echo "test-terraform: $root is valid"
  else
    terraform -chdir="$root" test -no-color -filter="$4"
  fi >"$unit_logs/$n.log" 2>&1 || touch "$unit_logs/$n.failed"
}

unit() {
  terraform fmt -check -recursive -diff modules environments
  local roots=(modules/infrastructure environments/*/) jobs=() n failed=0
  for root in "${roots[@]}"; do
    terraform -chdir="$root" init -backend=false -input=false -lockfile=readonly -no-color "${plugins[@]}" >/dev/null
    jobs+=("validate $root")
    for file in "$root"/tests/*.tftest.hcl; do [ -f "$file" ] && jobs+=("test $root tests/${file##*/}"); done
  done
  # Each root's validation and each test file are separate jobs, as many at once as there are cores
  # (terraform test runs one file after another); their output follows in order.
  unit_logs=$(mktemp -d)
  export unit_logs
  export -f unit_job
  # A job that never ran (xargs itself failing) has no log: that fails too.
  for n in "${!jobs[@]}"; do echo "$n ${jobs[$n]}"; done | xargs -P "$(nproc)" -L 1 bash -c 'unit_job "$@"' _ || true
  for n in "${!jobs[@]}"; do
    cat "$unit_logs/$n.log" 2>/dev/null || echo "test-terraform: did not run: ${jobs[$n]}"
    if [ ! -f "$unit_logs/$n.log" ] || [ -f "$unit_logs/$n.failed" ]; then
      echo "test-terraform: failed: ${jobs[$n]}"
      failed=1
    fi
  done
  rm -rf "$unit_logs"
  return "$failed"
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

# Against moto: the environments' suites (deploy, rollback, destroy) and the pipeline's jobs in
# order, with the real packages. Each suite (a test class) has its own moto, tree and directories,
# so they share nothing and run side by side; each one's output follows when all are done.
ci/build.sh
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
python=.venv/bin/python
suites=$("$python" -c 'import unittest
for module in ("ci.tests.integration.test_environments_on_moto", "ci.tests.integration.test_pipeline_on_moto"):
    for suite in unittest.defaultTestLoader.loadTestsFromName(module):
        if suite.countTestCases():
            print(next(iter(suite)).id().rsplit(".", 1)[0])')
pids=()
for suite in $suites; do
  "$python" -m unittest -v "$suite" >"$logs/$suite.log" 2>&1 &
  pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
cat "$logs"/*.log
exit "$failed"
