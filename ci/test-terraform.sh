#!/usr/bin/env bash
# The Terraform tests: formatting, validation of every root, `terraform test` with a mock provider,
# checkov, and the environments applied against moto (ci/tests/integration). Without Terraform it
# says so in one line and skips only these.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v terraform >/dev/null; then
  echo "test-terraform: terraform is not installed, skipping the Terraform tests (install Terraform >= 1.10 to run them)"
  exit 0
fi
[ -f "${TF_CLI_CONFIG_FILE:-/}" ] || export TF_CLI_CONFIG_FILE=/dev/null
plugins=()
[ -d "${TF_PLUGIN_DIR:-/opt/tf-plugins}" ] && plugins=(-plugin-dir="${TF_PLUGIN_DIR:-/opt/tf-plugins}")

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

# Every skipped check carries its reason next to the resource (checkov:skip=...). A file checkov
# cannot parse would go unchecked while it still reports 0 failed, so that fails too.
scan=$(BC_SKIP_MAPPING=TRUE .venv-checkov/bin/checkov --quiet --compact --framework terraform --download-external-modules false \
  -d modules -d environments) || { echo "$scan"; exit 1; }
echo "$scan"
if grep -q "Parsing errors" <<<"$scan"; then
  echo "test-terraform: checkov could not parse a file, so its checks did not run (BC_SKIP_MAPPING=TRUE .venv-checkov/bin/checkov -d modules names it)"
  exit 1
fi

# Against moto: the environments (deploy, rollback, destroy) and the pipeline's jobs in order,
# with the real packages.
ci/build.sh
.venv/bin/python -m unittest discover -v -s ci/tests/integration
