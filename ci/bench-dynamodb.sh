#!/usr/bin/env bash
# Operations per second of one boto3 workload against the local DynamoDB (release build) and
# moto, in one run, on a small (200 items) and a larger (20,000 items) table. Both servers are
# started here on loopback and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product local-dynamodb --package-path shared >&2
binary="$(swift build -c release --package-path shared --show-bin-path)/local-dynamodb"
echo "boto3 put/get/update/query mix, one sequential client (local DynamoDB first, then moto):"
# Both servers from ci/servers.py, the one place tests and tools start them.
.venv/bin/python - "$binary" <<'EOF'
import subprocess
import sys

from ci import servers

local = servers.local_dynamodb(sys.argv[1])
try:
    moto = servers.moto()
    try:
        sys.exit(subprocess.call([sys.executable, "shared/Tests/DynamoDBTests/Scripts/dynamodb_workload.py", "bench",
                                  local.endpoint, moto.endpoint]))
    finally:
        moto.stop()
finally:
    local.stop()
EOF
