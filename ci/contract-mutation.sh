#!/usr/bin/env bash
# Proves that `make contract` catches a broken handler: a debug users bootstrap told through the
# declared hook (CONTRACT_MUTATION, compiled into debug builds only; see HTTPLambdaHandler) to
# answer its create with 200 instead of 201 is replayed against the users corpus, which must fail
# naming the case and the field, and recording must refuse it. No source is edited or copied.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

swift build --product users-bootstrap >&2
mkdir -p "$work/dist/users"
cp "$(swift build --show-bin-path)/users-bootstrap" "$work/dist/users/bootstrap"

local_api="$(swift build --show-bin-path)/local-api"
"$local_api" contract users --artifact "$work/dist" >/dev/null || {
  echo "contract-mutation: the unmutated debug bootstrap already fails the users corpus" >&2; exit 1; }
if report=$(CONTRACT_MUTATION="POST /users=200" "$local_api" contract users --artifact "$work/dist"); then
  echo "contract-mutation: the corpus passed against a handler answering 200 for a create" >&2; exit 1
fi
for expected in 'crud.json › "1. POST /users → 201"' 'statusCode: expected 201, got 200'; do
  grep -qF "$expected" <<<"$report" || {
    echo "contract-mutation: the failure does not say: $expected" >&2; echo "$report" >&2; exit 1; }
done
# Recording refuses it too: ci/record-contracts.sh expects each answer's status, so the mutated
# create stops it at the first scenario, named, and the committed corpora stay as they were.
if report=$(CONTRACT_MUTATION="POST /users=200" LOCAL_API="$local_api" ci/record-contracts.sh 2>&1); then
  echo "contract-mutation: ci/record-contracts.sh recorded a create answering 200" >&2; exit 1
fi
grep -qE 'in scenario crud, POST http://127\.0\.0\.1:[0-9]+/users answered 200, not 201' <<<"$report" || {
  echo "contract-mutation: ci/record-contracts.sh did not say which answer it refused:" >&2; echo "$report" >&2; exit 1; }
if [ -n "$(git status --porcelain -- services/*/contracts)" ]; then
  echo "contract-mutation: a stopped recording changed the corpora:" >&2; git status --porcelain -- services/*/contracts >&2; exit 1
fi
# The hook never ships: the release packages (make contract builds them first) do not contain it.
for bootstrap in "${PACKAGES:-.build/dist}"/*/bootstrap; do
  if grep -qF CONTRACT_MUTATION "$bootstrap"; then
    echo "contract-mutation: $bootstrap contains the CONTRACT_MUTATION hook; it must be #if DEBUG only" >&2; exit 1
  fi
done
echo "contract-mutation: a create answering 200 fails the users corpus, naming the case and the field, and is never recorded; release packages lack the hook"
