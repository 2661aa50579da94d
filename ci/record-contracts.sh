#!/usr/bin/env bash
# Re-records the committed contract corpora by using the API through the local gateway in record
# mode (local-api --record): one scenario per block below, each against an empty database. A
# developer records their own the same way: `make run RECORD=my-scenario`, then curl or a browser.
# Review the diff before committing: what changed in a recorded answer is a change of contract.
#   ci/record-contracts.sh            users' and items' scenarios
#   ci/record-contracts.sh SERVICE    the first scenario of a service `make new` scaffolded
set -euo pipefail
cd "$(dirname "$0")/.."
# LOCAL_API: an already built local-api (ci/test-new-service.sh builds it elsewhere).
if [ -z "${LOCAL_API:-}" ]; then swift build --product local-api >&2; fi
local_api=${LOCAL_API:-"$(swift build --show-bin-path)/local-api"}
port=$(python3 ci/servers.py port)
base=http://127.0.0.1:$port

record() { # record SCENARIO [local-api options]: a recording gateway on an empty database; `stop` ends it
  "$local_api" --port "$port" --dynamodb-port 0 --in-memory --record "$@" >/dev/null &
  gateway=$!
  # Probe a path no service declares: the gateway answers it itself, so nothing is recorded.
  for _ in $(seq 100); do curl -s -o /dev/null "$base/ready" && return 0; sleep 0.1; done
  echo "record-contracts: the gateway did not start" >&2; exit 1
}
stop() { kill "$gateway"; wait "$gateway" || true; }
call() { curl -s -o /dev/null "$@"; }
json() { curl -s "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

if [ $# -eq 1 ]; then
  # A scaffolded service's first scenario: what its one route answers a stranger, a reader and nonsense.
  service=$1
  token="authorization: Bearer $("$local_api" token reader --scope "$service.read")"
  record basics
  call "$base/$service/01ARZ3NDEKTSV4RRFFQ69G5FAV"
  call "$base/$service/01ARZ3NDEKTSV4RRFFQ69G5FAV" -H "$token"
  call "$base/$service/not-an-id" -H "$token"
  stop
  exit 0
fi

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
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada Lovelace"}'
call "$base/users/ada" -H "$ada"
call "$base/users/ada" -H "$ada" -H 'if-none-match: "1"'
call -X PUT "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"email":"ada@example.com","name":"Ada King"}'
call -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "2"' -d '{"name":"Countess of Lovelace"}'
call -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"name":"Stale"}'
call -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: "bogus"' -d '{"name":"Unknown tag"}'
call -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: W/"3"' -d '{"name":"Weak tag"}'
call -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -H 'if-match: 3' -d '{"name":"Malformed tag"}'
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"second@example.com","name":"Ada again"}'
call "$base/users" -H "$admin"
call -X DELETE "$base/users/ada" -H "$ada" -H 'if-match: "3"'
call "$base/users/ada" -H "$ada"
stop

# users and items: who may call what (anonymous, another tenant, missing scopes, the admin scopes)
record authorization
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada"}'
call -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -d '{"email":"grace@example.com","name":"Grace"}'
call "$base/users/ada"
call -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"anon@example.com","name":"Anon"}'
call "$base/users/ada" -H "$mallory"
call -X PATCH "$base/users/ada" -H "$mallory" -H 'content-type: application/json' -d '{"name":"Mallory"}'
call -X DELETE "$base/users/ada" -H "$mallory"
call "$base/users" -H "$ada"
call -X POST "$base/users" -H "$reader" -H 'content-type: application/json' -d '{"email":"r@example.com","name":"R"}'
call "$base/users/grace" -H "$admin"
call "$base/users?limit=1" -H "$admin"
stop

# users: what clients get wrong
record invalid-requests
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"not-an-email","name":""}'
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"a@example.com","name":"A","role":"admin"}'
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"a@example.com","name":42}'
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"a@example.com",'
call -X POST "$base/users" -H "$ada" -H 'content-type: text/plain' -d 'email=a@example.com'
call -X POST "$base/users" -H "$ada" -d '{"email":"b@example.com","name":"No content type"}'
python3 -c 'print("{\"email\":\"c@example.com\",\"name\":\"" + "x" * 65536 + "\"}")' |
  call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' --data-binary @-
call -X POST "$base/users" -H "$ada" -H 'content-type: application/octet-stream' --data-binary $'\x00\xff\xfe binary'
call "$base/users?limit=0" -H "$admin"
call "$base/users?limit=2&limit=3" -H "$admin"
call "$base/users?cursor=forged" -H "$admin"
call "$base/users/does%20not%20exist" -H "$admin"
call "$base/users/ada" -H "$ada" -H 'cookie: session=abc; theme=dark'
stop

# users: a retried create with an Idempotency-Key, the same key from another caller, one email twice
record idempotency-and-uniqueness
call -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Grace Hopper"}'
call -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Grace Hopper"}'
call -X POST "$base/users" -H "$grace" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Someone else"}'
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"GRACE@example.com","name":"Grace again"}'
stop

# users: the admin listing's pages, across the shards
record pagination
for name in alan barbara claude; do
  call -X POST "$base/users" -H "$(bearer "$name")" -H 'content-type: application/json' -d "{\"email\":\"$name@example.com\",\"name\":\"$name\"}"
done
cursor=$(json "$base/users?limit=2" -H "$admin" | field nextCursor)
call "$base/users?limit=2&cursor=$cursor" -H "$admin"
stop

# users behind a $default route: requests no declared route matches reach its own router
record unmatched-requests --default-route users
call "$base/nope"
call -X DELETE "$base/users"
call -X POST "$base/users/ada" -H 'content-type: application/json' -d '{}'
stop

# users behind a REST API (Lambda proxy integration, payload 1.0): repeated headers and query
# parameters arrive as multi-value maps
record rest-proxy --payload 1.0
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -H 'x-trace: a' -H 'x-trace: b' -d '{"email":"rest@example.com","name":"Rest"}'
call "$base/users/ada" -H "$ada"
call "$base/users?limit=1&limit=5" -H "$admin"
call -X PATCH "$base/users/ada" -H "$ada" -H 'content-type: application/json' -d '{"name":"Rest Proxy"}'
call -X PUT "$base/users/ada" -H "$ada" -H 'content-type: application/json' -d '{"email":"rest@example.com"}'
call -X DELETE "$base/users/ada" -H "$ada"
stop

# users behind a REST API with the project's Lambda authorizer (local-api --api rest): the caller
# from the authorizer's context, its 401 and its Deny
record rest-api --api rest
call -X POST "$base/users" -H "$ada" -H 'content-type: application/json' -d '{"email":"rest-api@example.com","name":"Rest API"}'
call "$base/users/ada" -H "$ada"
call "$base/users/ada"
call "$base/users" -H "$ada"
call "$base/users?limit=1" -H "$admin"
call -X DELETE "$base/users/ada" -H "$ada"
stop

# items: the owner comes from the JWT; status workflow; listing the caller's items and by status
token=$ada
record crud
id=$(json -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Write the launch post"}' | field id)
call "$base/items/$id" -H "$token"
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"status":"in_progress"}'
call -X PUT "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"title":"Write and publish the launch post","status":"done"}'
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open"}'
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open","reopen":true}'
call "$base/items" -H "$token"
call "$base/items?status=open" -H "$token"
call -X DELETE "$base/items/$id" -H "$token"
call "$base/items/$id" -H "$token"
stop

record invalid-requests
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":""}'
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"x","status":"archived"}'
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"x","expiresAt":"tomorrow"}'
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d 'null'
call "$base/items?owner=" -H "$token"
call "$base/items?status=lost" -H "$token"
call "$base/items?status=open&cursor=AAAA" -H "$token"
call "$base/items/nope" -H "$token"
stop

# items: the whole listing as NDJSON, streamed by make run (the route is declared streamed)
record export
for title in one two three; do
  call -X POST "$base/items" -H "$ada" -H 'content-type: application/json' -d "{\"title\":\"$title\"}"
done
call "$base/items/export" -H "$ada"
call "$base/items/export?status=done" -H "$ada"
call "$base/items/export" -H "$mallory"
call "$base/items/export?owner=ada" -H "$mallory"
call "$base/items/export?owner=ada" -H "$admin"
call "$base/items/export?status=lost" -H "$ada"
call "$base/items/export"
stop

# items: private to their owner
record isolation
id=$(json -X POST "$base/items" -H "$ada" -H 'content-type: application/json' -d '{"title":"Ada only"}' | field id)
call "$base/items/$id"
call "$base/items/$id" -H "$mallory"
call -X PATCH "$base/items/$id" -H "$mallory" -H 'content-type: application/json' -d '{"title":"Mine"}'
call -X DELETE "$base/items/$id" -H "$mallory"
call "$base/items" -H "$mallory"
call "$base/items?owner=ada" -H "$mallory"
call "$base/items?owner=ada" -H "$admin"
call "$base/items/$id" -H "$admin"
call -X POST "$base/items" -H "$(bearer ada --scope items.read)" -H 'content-type: application/json' -d '{"title":"Read-only"}'
stop

record rest-api --api rest
id=$(json -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Behind the Lambda authorizer"}' | field id)
call "$base/items/$id" -H "$token"
call "$base/items/$id" -H "$mallory"
call -X POST "$base/items" -H "$(bearer ada --scope items.read)" -H 'content-type: application/json' -d '{"title":"Read-only"}'
call -X POST "$base/items" -H 'content-type: application/json' -d '{"title":"Anonymous"}'
call -X DELETE "$base/items/$id" -H "$token"
stop

record rest-proxy --payload 1.0
id=$(json -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Via REST"}' | field id)
call "$base/items/$id" -H "$token"
call "$base/items?status=open&status=done" -H "$token"
call -X PUT "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"title":"Via REST","status":"cancelled"}'
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open","reopen":true}'
call -X DELETE "$base/items/$id" -H "$token"
stop
