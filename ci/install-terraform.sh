#!/usr/bin/env bash
# Installs the pinned Terraform into /usr/local/bin when it is missing (pipeline images); a laptop
# with Terraform keeps its own. The download must match the SHA-256 recorded in ci/terraform.sha256
# (from HashiCorp's signed SHA256SUMS, per version and architecture), never a checksum file fetched
# from the same place as the archive.
#   TERRAFORM_VERSION (1.11.4), TERRAFORM_INSTALL_DIR (/usr/local/bin),
#   TERRAFORM_RELEASES_URL (https://releases.hashicorp.com/terraform: a mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
version=${TERRAFORM_VERSION:-1.11.4}
target=${TERRAFORM_INSTALL_DIR:-/usr/local/bin}
command -v terraform >/dev/null && exit 0
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "install-terraform: unsupported machine $(uname -m)" >&2; exit 1 ;; esac
archive="terraform_${version}_linux_${arch}.zip"
expected=$(awk -v name="$archive" '$2 == name {print $1}' ci/terraform.sha256)
if [ -z "$expected" ]; then
  echo "install-terraform: no SHA-256 recorded for $archive in ci/terraform.sha256: add its line from HashiCorp's signed terraform_${version}_SHA256SUMS" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL -o "$work/terraform.zip" "${TERRAFORM_RELEASES_URL:-https://releases.hashicorp.com/terraform}/$version/$archive"
if ! echo "$expected  $work/terraform.zip" | sha256sum -c --quiet --status; then
  echo "install-terraform: $archive does not match its SHA-256 in ci/terraform.sha256 ($(sha256sum "$work/terraform.zip" | cut -c1-16)… downloaded); not installed" >&2
  exit 1
fi
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("terraform", sys.argv[2])' "$work/terraform.zip" "$target"
chmod +x "$target/terraform"
"$target/terraform" version | head -1
