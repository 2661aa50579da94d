#!/usr/bin/env bash
# Proves that `make contract` catches a broken handler: a temporary copy of services/users whose
# create answers 200 instead of 201 is built and replayed against the users corpus, which must fail
# naming the case and the field. The copy builds in the repository's scratch directory so only the
# users targets compile; the next build of the repository recompiles them from its own sources.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/services" "$work/dist/users"
cp -R services/users "$work/services/users"
rm -rf "$work/services/users/.build"
ln -s "$root/shared" "$work/shared"
original='return try respond(user, status: 201)'
grep -qF "$original" "$work/services/users/Sources/Users/UsersAPI.swift" || {
  echo "contract-mutation: '$original' is no longer in UsersAPI.swift; update the mutation" >&2; exit 1; }
sed -i "s/$original/return try respond(user, status: 200)/" "$work/services/users/Sources/Users/UsersAPI.swift"

swift build --package-path "$work/services/users" --scratch-path "$root/.build" --product users-bootstrap >&2
cp "$(swift build --package-path "$work/services/users" --scratch-path "$root/.build" --show-bin-path)/users-bootstrap" \
  "$work/dist/users/bootstrap"

if report=$("$(swift build --show-bin-path)/local-api" contract users --artifact "$work/dist"); then
  echo "contract-mutation: the corpus passed against a handler answering 200 for a create" >&2; exit 1
fi
for expected in 'crud.json › "1. POST /users → 201"' 'statusCode: expected 201, got 200'; do
  grep -qF "$expected" <<<"$report" || {
    echo "contract-mutation: the failure does not say: $expected" >&2; echo "$report" >&2; exit 1; }
done
echo "contract-mutation: a create answering 200 fails the users corpus, naming the case and the field"
