#!/usr/bin/env bash
# Regenerates the pinned dependency locks from their top-level pins.
#   ci/lock.sh python                  ci/requirements*.in → ci/requirements*.txt: every dependency
#                                      pinned, with the hashes of all its published files (pip-tools)
#   ci/lock.sh terraform PLATFORM...   each Terraform root's .terraform.lock.hcl, adding the
#                                      provider's hashes for these platforms (e.g. linux_arm64
#                                      darwin_arm64; needs registry.terraform.io)
# Review the diff and commit it: the locks are what CI installs, and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  python)
    tools=$(mktemp -d)
    trap 'rm -rf "$tools"' EXIT
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check pip-tools==7.7.0
    for input in ci/requirements*.in; do
      CUSTOM_COMPILE_COMMAND="make lock" "$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links \
        --no-emit-index-url --output-file "${input%.in}.txt" "$input"
      echo "lock: ${input%.in}.txt"
    done
    ;;
  terraform)
    shift
    [ $# -gt 0 ] || { echo "lock: name the platforms, e.g. ci/lock.sh terraform linux_amd64 linux_arm64 darwin_arm64" >&2; exit 2; }
    # staging and production share environments/.terraform.lock.hcl (links, like their main.tf).
    for root in environments/staging environments/bootstrap modules/infrastructure; do
      terraform -chdir="$root" providers lock "${@/#/-platform=}"
    done
    if [ ! -L environments/staging/.terraform.lock.hcl ]; then
      mv environments/staging/.terraform.lock.hcl environments/.terraform.lock.hcl
      ln -s ../.terraform.lock.hcl environments/staging/.terraform.lock.hcl
    fi
    ;;
  *)
    echo "usage: ci/lock.sh python | ci/lock.sh terraform PLATFORM..." >&2
    exit 2
    ;;
esac
