#!/usr/bin/env bash
# Smoke test of a deployed API: ci/smoke.sh https://api.example.com (SMOKE_BASE_URL, when set,
# names another deployment to check, such as a local gateway). Read-only: it creates nothing.
# Every route is behind the JWT authorizer: without SMOKE_TOKEN (a masked CI/CD variable holding a
# token of a test identity with the users.read and items.read scopes) only the anonymous checks run.
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

check "an unknown route is API Gateway's 404" 404 '"message":"Not Found"' "$base/no-such-route"
check "users need a token" 401 'Unauthorized' "$base/users/someone"
check "items need a token" 401 'Unauthorized' "$base/items"
check "a forged token is refused" 401 'Unauthorized' -H "authorization: Bearer e30.e30.c2ln" "$base/items"
if [ -n "${SMOKE_TOKEN:-}" ]; then
  auth=(-H "authorization: Bearer $SMOKE_TOKEN")
  check "GET /items lists the caller's items" 200 '"items"' "${auth[@]}" "$base/items?limit=1"
  check "a bad cursor is a 400 problem" 400 '"status":400' "${auth[@]}" "$base/items?cursor=not-a-cursor"
  # Well-formed but not signed by the service: checking it needs the cursor secret, so a 400 (not a
  # 500) proves the deployed function can read its secret.
  check "the function reads its cursor secret" 400 '"status":400' "${auth[@]}" "$base/items?cursor=e30.AAAA"
  check "listing every user needs users.admin" 403 'Forbidden' "${auth[@]}" "$base/users"
else
  echo "smoke: SMOKE_TOKEN is not set: the signed-in checks are skipped (set it to a test identity's token)"
fi
[ "$failures" -eq 0 ] || { echo "smoke: $failures check(s) failed against $base" >&2; exit 1; }
