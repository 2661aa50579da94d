#!/usr/bin/env bash
# Smoke test of a deployed API: ci/smoke.sh https://api.example.com (SMOKE_BASE_URL, when set,
# names another deployment to check, such as a local gateway). Read-only: it creates nothing.
set -euo pipefail
base=${SMOKE_BASE_URL:-${1:?usage: ci/smoke.sh BASE_URL}}
base=${base%/}
failures=0

check() { # check NAME EXPECTED_STATUS EXPECTED_BODY_FRAGMENT curl-args...
  local name=$1 status=$2 fragment=$3 body code
  shift 3
  body=$(mktemp)
  code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 10 --retry 5 --retry-connrefused --retry-delay 2 "$@") || code=000
  if [ "$code" = "$status" ] && grep -q -- "$fragment" "$body"; then
    echo "smoke: ok   $name ($code)"
  else
    echo "smoke: FAIL $name: expected $status with '$fragment', got $code: $(head -c 300 "$body")" >&2
    failures=$((failures + 1))
  fi
  rm -f "$body"
}

check "GET /users lists users" 200 '"items"' "$base/users?limit=1"
check "an unknown route is API Gateway's 404" 404 '"message":"Not Found"' "$base/no-such-route"
check "a bad cursor is a 400 problem" 400 '"status":400' "$base/users?cursor=not-a-cursor"
check "items need a token" 401 'Unauthorized' "$base/items"
[ "$failures" -eq 0 ] || { echo "smoke: $failures check(s) failed against $base" >&2; exit 1; }
