#!/usr/bin/env bash
# Operations per second of one boto3 workload against the local DynamoDB (release build) and
# moto, in one run, on a small (200 items) and a larger (20,000 items) table. Both servers are
# started here on loopback and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product local-dynamodb --package-path shared >&2
local_port=$(python3 ci/servers.py port)
moto_port=$(python3 ci/servers.py port)
"$(swift build -c release --package-path shared --show-bin-path)/local-dynamodb" --in-memory --port "$local_port" >/dev/null &
local_pid=$!
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >/dev/null 2>&1 &
moto_pid=$!
trap 'kill -9 $local_pid $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$moto_port") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/"$local_port") 2>/dev/null; then break; fi
  sleep 0.1
done
echo "boto3 put/get/update/query mix, one sequential client (local DynamoDB first, then moto):"
.venv/bin/python shared/Tests/DynamoDBTests/Scripts/dynamodb_workload.py bench "http://127.0.0.1:$local_port" "http://127.0.0.1:$moto_port"
