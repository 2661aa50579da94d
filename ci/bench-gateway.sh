#!/usr/bin/env bash
# Benchmark of the local gateway (make bench): wrk against GET /users/{id} through the gateway,
# in-process and with the packaged bootstraps (--artifact), both on release builds: latency with
# one connection (a request at a time), throughput with several. Fails if the in-process median
# latency is not under 1 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-4}
# The packages' release flags, so both builds share .build/release instead of rebuilding it.
read -ra flags <<<"$(python3 -m ci.package --print-build-flags)"
swift build --product local-api "${flags[@]}" >&2
local_api="$(swift build "${flags[@]}" --show-bin-path)/local-api"
PACKAGES=.build/dist ci/build.sh >&2

bench() { # bench LABEL [local-api options]
  local label=$1 port
  shift
  port=$(python3 -m ci.servers port)
  "$local_api" --port "$port" --dynamodb-port 0 --in-memory "$@" >/dev/null &
  local gateway=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/ready" && break; sleep 0.1; done
  local id
  id=$(curl -s -X POST "http://127.0.0.1:$port/users" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","name":"Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  wrk -t1 -c1 -d2s "http://127.0.0.1:$port/users/$id" >/dev/null # warm up
  local latency throughput
  latency=$(wrk -t1 -c1 -d"$duration" --latency "http://127.0.0.1:$port/users/$id")
  throughput=$(wrk -t2 -c"$connections" -d"$duration" "http://127.0.0.1:$port/users/$id")
  kill "$gateway"; wait "$gateway" || true
  local p50 p90 p99
  p50=$(awk '$1 == "50%" {print $2}' <<<"$latency")
  p90=$(awk '$1 == "90%" {print $2}' <<<"$latency")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$latency")
  printf '%-11s 1 connection: p50 %-9s p90 %-9s p99 %-9s %s req/s | %s connections: %s req/s\n' "$label" \
    "$p50" "$p90" "$p99" "$(awk '/Requests\/sec/ {print $2}' <<<"$latency")" "$connections" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$throughput")"
  echo "$p50" >"$work/$label.p50"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "GET /users/{id} through the local gateway, $connections connections, $duration (wrk):"
bench in-process
bench artifact --artifact .build/dist
median=$(cat "$work/in-process.p50")
python3 - "$median" <<'PY'
import re, sys
value, unit = re.match(r"([\d.]+)(\w+)", sys.argv[1]).groups()
ms = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
if ms >= 1:
    sys.exit(f"bench-gateway: in-process median {sys.argv[1]} is not under 1 ms")
print(f"in-process median {sys.argv[1]}: under 1 ms")
PY
