#!/usr/bin/env bash
# Re-records the committed contract corpora by using the API through the local gateway in record
# mode (local-api --record): one scenario per block below, each against an empty database. A
# developer records their own the same way: `make run RECORD=my-scenario`, then curl or a browser.
# Each request names the status the scenario expects: an answer with another one (a regression, a
# 500) stops the recording instead of becoming the contract. Review the diff before committing: what
# changed in a recorded answer is a change of contract.
#   ci/record-contracts.sh            users' and items' scenarios
#   ci/record-contracts.sh SERVICE    the first scenario of a service `make new` scaffolded
set -euo pipefail
cd "$(dirname "$0")/.."
# LOCAL_API: an already built local-api (ci/test-new-service.sh builds it elsewhere).
if [ -z "${LOCAL_API:-}" ]; then swift build --product local-api >&2; fi
local_api=${LOCAL_API:-"$(swift build --show-bin-path)/local-api"}
# shellcheck source=ci/local-api.sh
. ci/local-api.sh
logs=$(mktemp -d)
saved=
finish() { # a recording that stopped leaves the corpora as they were
  stop_local_api
  rm -rf "$logs"
  if [ -n "$saved" ]; then
    for service in users items; do rm -rf "services/$service/contracts" && cp -a "$saved/$service" "services/$service/contracts"; done
    rm -rf "$saved"
  fi
}
trap finish EXIT
record() { # record SCENARIO [local-api options]: a recording gateway on an empty database; `stop` ends it
  scenario=$1
  start_local_api "$logs/$1.log" --in-memory --record "$@"
  base=$local_api_url
}
stop() { stop_local_api; }
expect() { # expect WANTED GOT CURL-ARGS...: names the request by method and URL (never its token)
  [ "$1" = "$2" ] && return 0
  local method=GET url='' previous=''
  for arg in "${@:3}"; do
    [ "$previous" = -X ] && method=$arg
    case $arg in http*) url=$arg ;; esac
    previous=$arg
  done
  echo "record-contracts: in scenario $scenario, $method $url answered $2, not $1: the recording stops and the corpora stay as they were" >&2
  exit 1
}
call() { # call STATUS CURL-ARGS...: one request, answered with STATUS
  expect "$1" "$(curl -s -o /dev/null -w '%{http_code}' "${@:2}")" "${@:2}"
}
json() { # json STATUS CURL-ARGS...: the same, printing the answer's body
  local answer
  answer=$(curl -s -w '\n%{http_code}' "${@:2}")
  expect "$1" "${answer##*$'\n'}" "${@:2}"
  printf '%s\n' "${answer%$'\n'*}"
}
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

if [ $# -eq 1 ]; then
  # A scaffolded service's first scenario: what its one route answers a stranger, a reader and nonsense.
  service=$1
  token="authorization: Bearer $("$local_api" token reader --scope "$service.read")"
  record basics
  call 401 "$base/$service/01ARZ3NDEKTSV4RRFFQ69G5FAV"
  call 404 "$base/$service/01ARZ3NDEKTSV4RRFFQ69G5FAV" -H "$token"
  call 404 "$base/$service/not-an-id" -H "$token"
  stop
  exit 0
fi

saved=$(mktemp -d)
for service in users items; do cp -a "services/$service/contracts" "$saved/$service"; done
rm -f services/users/contracts/*.json services/items/contracts/*.json
# Tokens of the development key, for the identities the scenarios use (the recorder redacts them;
# the verified claims stay in the events).
bearer() { echo "authorization: Bearer $("$local_api" token "$@")"; }
ada=$(bearer ada)
grace=$(bearer grace)
mallory=$(bearer mallory)
reader=$(bearer ada --scope users.read)
admin=$(bearer operator --scope users.admin --scope items.admin)

# users: create (the caller's own user), read, replace, patch, conflicting write, delete
record crud
call 201 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada Lovelace"}'
call 200 "$base/users/ada" -H "$ada"
call 304 "$base/users/ada" -H "$ada" -H 'if-none-match: "1"'
call 200 -X PUT "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"email":"ada@example.com","name":"Ada King"}'
call 200 -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "2"' -d '{"name":"Countess of Lovelace"}'
call 412 -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"name":"Stale"}'
call 412 -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "bogus"' -d '{"name":"Unknown tag"}'
call 412 -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: W/"3"' -d '{"name":"Weak tag"}'
call 400 -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: 3' -d '{"name":"Malformed tag"}'
call 409 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"second@example.com","name":"Ada again"}'
call 200 "$base/users" -H "$admin"
call 204 -X DELETE "$base/users/ada" -H "$ada" -H 'if-match: "3"'
call 404 "$base/users/ada" -H "$ada"
stop

# users and items: who may call what (anonymous, another tenant, missing scopes, the admin scopes)
record authorization
call 201 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada"}'
call 201 -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -d '{"email":"grace@example.com","name":"Grace"}'
call 401 "$base/users/ada"
call 401 -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"anon@example.com","name":"Anon"}'
call 404 "$base/users/ada" -H "$mallory"
call 404 -X PATCH "$base/users/ada" -H "$mallory" -H 'content-type: application/json' -d '{"name":"Mallory"}'
call 404 -X DELETE "$base/users/ada" -H "$mallory"
call 403 "$base/users" -H "$ada"
call 403 -X POST "$base/users" -H "$reader" -H 'content-type: application/json' -d '{"email":"r@example.com","name":"R"}'
call 200 "$base/users/grace" -H "$admin"
call 200 "$base/users?limit=1" -H "$admin"
stop

# users: what clients get wrong
record invalid-requests
call 400 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"not-an-email","name":""}'
call 400 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"a@example.com","name":"A","role":"admin"}'
call 400 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"a@example.com","name":42}'
call 400 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"a@example.com",'
call 415 -X POST "$base/users" -H "$ada" -H 'content-type: text/plain' -d 'email=a@example.com'
call 415 -X POST "$base/users" -H "$ada" -d '{"email":"b@example.com","name":"No content type"}'
python3 -c 'print("{\"email\":\"c@example.com\",\"name\":\"" + "x" * 65536 + "\"}")' |
  call 400 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' --data-binary @-
call 415 -X POST "$base/users" -H "$ada" -H 'content-type: application/octet-stream' --data-binary $'\x00\xff\xfe binary'
call 400 "$base/users?limit=0" -H "$admin"
call 200 "$base/users?limit=2&limit=3" -H "$admin"
call 400 "$base/users?cursor=forged" -H "$admin"
call 404 "$base/users/does%20not%20exist" -H "$admin"
call 404 "$base/users/ada" -H "$ada" -H 'cookie: session=abc; theme=dark'
stop

# users: a retried create with an Idempotency-Key, the same key from another caller, one email twice
record idempotency-and-uniqueness
call 201 -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Grace Hopper"}'
call 201 -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Grace Hopper"}'
call 422 -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Someone else"}'
call 409 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"GRACE@example.com","name":"Grace again"}'
stop

# users: the admin listing's pages, across the shards
record pagination
for name in alan barbara claude; do
  call 201 -X POST "$base/users" -H "$(bearer "$name")" -H 'content-type: application/json' -d "{\"email\":\"$name@example.com\",\"name\":\"$name\"}"
done
cursor=$(json 200 "$base/users?limit=2" -H "$admin" | field nextCursor)
call 200 "$base/users?limit=2&cursor=$cursor" -H "$admin"
stop

# users behind a $default route: requests no declared route matches reach its own router
record unmatched-requests --default-route users
call 404 "$base/nope"
call 405 -X DELETE "$base/users"
call 405 -X POST "$base/users/ada" -H 'content-type: application/json' -d '{}'
stop

# users behind a REST API (Lambda proxy integration, payload 1.0): repeated headers and query
# parameters arrive as multi-value maps
record rest-proxy --payload 1.0
call 201 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -H 'x-trace: a' -H 'x-trace: b' -d '{"email":"rest@example.com","name":"Rest"}'
call 200 "$base/users/ada" -H "$ada"
call 200 "$base/users?limit=1&limit=5" -H "$admin"
call 200 -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -d '{"name":"Rest Proxy"}'
call 400 -X PUT "$base/users/ada" -H "$ada" -H 'content-type: application/json' -d '{"email":"rest@example.com"}'
call 204 -X DELETE "$base/users/ada" -H "$ada"
stop

# users behind a REST API with the project's Lambda authorizer (local-api --api rest): the caller
# from the authorizer's context, its 401 and its Deny
record rest-api --api rest
call 201 -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"rest-api@example.com","name":"Rest API"}'
call 200 "$base/users/ada" -H "$ada"
call 401 "$base/users/ada"
call 403 "$base/users" -H "$ada"
call 200 "$base/users?limit=1" -H "$admin"
call 204 -X DELETE "$base/users/ada" -H "$ada"
stop

# items: the owner comes from the JWT; status workflow; listing the caller's items and by status
token=$ada
record crud
id=$(json 201 -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Write the launch post"}' | field id)
call 200 "$base/items/$id" -H "$token"
call 200 -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"status":"in_progress"}'
call 200 -X PUT "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"title":"Write and publish the launch post","status":"done"}'
call 409 -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open"}'
call 200 -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open","reopen":true}'
call 200 "$base/items" -H "$token"
call 200 "$base/items?status=open" -H "$token"
call 204 -X DELETE "$base/items/$id" -H "$token"
call 404 "$base/items/$id" -H "$token"
stop

record invalid-requests
call 400 -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":""}'
call 400 -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"x","status":"archived"}'
call 400 -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"x","expiresAt":"tomorrow"}'
call 400 -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d 'null'
call 400 "$base/items?owner=" -H "$token"
call 400 "$base/items?status=lost" -H "$token"
call 400 "$base/items?status=open&cursor=AAAA" -H "$token"
call 404 "$base/items/nope" -H "$token"
stop

# items: the whole listing as NDJSON, streamed by make run (the route is declared streamed)
record export
for title in one two three; do
  call 201 -X POST "$base/items" -H "$ada" -H 'content-type: application/json' -d "{\"title\":\"$title\"}"
done
call 200 "$base/items/export" -H "$ada"
call 200 "$base/items/export?status=done" -H "$ada"
call 200 "$base/items/export" -H "$mallory"
call 403 "$base/items/export?owner=ada" -H "$mallory"
call 200 "$base/items/export?owner=ada" -H "$admin"
call 400 "$base/items/export?status=lost" -H "$ada"
call 401 "$base/items/export"
stop

# items: private to their owner
record isolation
id=$(json 201 -X POST "$base/items" -H "$ada" -H 'content-type: application/json' -d '{"title":"Ada only"}' | field id)
call 401 "$base/items/$id"
call 404 "$base/items/$id" -H "$mallory"
call 404 -X PATCH "$base/items/$id" -H "$mallory" -H 'content-type: application/json' -d '{"title":"Mine"}'
call 404 -X DELETE "$base/items/$id" -H "$mallory"
call 200 "$base/items" -H "$mallory"
call 403 "$base/items?owner=ada" -H "$mallory"
call 200 "$base/items?owner=ada" -H "$admin"
call 200 "$base/items/$id" -H "$admin"
call 403 -X POST "$base/items" -H "$(bearer ada --scope items.read)" -H 'content-type: application/json' -d '{"title":"Read-only"}'
stop

record rest-api --api rest
id=$(json 201 -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Behind the Lambda authorizer"}' | field id)
call 200 "$base/items/$id" -H "$token"
call 404 "$base/items/$id" -H "$mallory"
call 403 -X POST "$base/items" -H "$(bearer ada --scope items.read)" -H 'content-type: application/json' -d '{"title":"Read-only"}'
call 401 -X POST "$base/items" -H 'content-type: application/json' -d '{"title":"Anonymous"}'
call 204 -X DELETE "$base/items/$id" -H "$token"
stop

record rest-proxy --payload 1.0
id=$(json 201 -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Via REST"}' | field id)
call 200 "$base/items/$id" -H "$token"
call 200 "$base/items?status=open&status=done" -H "$token"
call 200 -X PUT "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"title":"Via REST","status":"cancelled"}'
call 409 -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open","reopen":true}'
call 204 -X DELETE "$base/items/$id" -H "$token"
stop
# Every scenario answered as expected: keep the new corpora.
rm -rf "$saved"
saved=
