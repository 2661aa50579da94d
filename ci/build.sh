#!/usr/bin/env bash
# The pipeline's build job: every service's Lambda package (ci/package.py) into $PACKAGES, on the
# Swift image for Amazon Linux. Needs only the toolchain, python3 and binutils.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=${PACKAGES:-.build/dist}

if ! command -v python3 >/dev/null || ! command -v readelf >/dev/null; then
  if command -v yum >/dev/null; then yum install -y -q python3 binutils >/dev/null
  else ci/ensure-tools.sh; fi
fi
# Every service and the REST API's Lambda authorizer (deployed where an environment's api_type is
# "rest"); a service's architecture is its declaration's (ci/package.py reads it).
for function in $(python3 -m ci.declarations --packages); do
  python3 -m ci.package --product "$function-bootstrap" --name "$function" --out "$packages"
done
