#!/usr/bin/env bash
# Re-records the committed contract corpora by using the API through the local gateway in record
# mode (local-api --record): one scenario per block below, each against an empty database. A
# developer records their own the same way: `make run RECORD=my-scenario`, then curl or a browser.
# Review the diff before committing: what changed in a recorded answer is a change of contract.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product local-api >&2
local_api="$(swift build --show-bin-path)/local-api"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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

rm -f services/*/contracts/*.json

# users: create, read, replace, patch, conflicting write, list, delete
record crud
id=$(json -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada Lovelace"}' | field id)
call "$base/users/$id"
call -X PUT "$base/users/$id" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"email":"ada@example.com","name":"Ada King"}'
call -X PATCH "$base/users/$id" -H 'content-type: application/json' -H 'if-match: "2"' -d '{"name":"Countess of Lovelace"}'
call -X PATCH "$base/users/$id" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"name":"Stale"}'
call "$base/users"
call -X DELETE "$base/users/$id" -H 'if-match: "3"'
call "$base/users/$id"
stop

# users: what clients get wrong
record invalid-requests
call -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"not-an-email","name":""}'
call -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"a@example.com","name":"A","role":"admin"}'
call -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"a@example.com","name":42}'
call -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"a@example.com",'
call -X POST "$base/users" -H 'content-type: text/plain' -d 'email=a@example.com'
call -X POST "$base/users" -d '{"email":"b@example.com","name":"No content type"}'
python3 -c 'print("{\"email\":\"c@example.com\",\"name\":\"" + "x" * 65536 + "\"}")' |
  call -X POST "$base/users" -H 'content-type: application/json' --data-binary @-
call -X POST "$base/users" -H 'content-type: application/octet-stream' --data-binary $'\x00\xff\xfe binary'
call "$base/users?limit=0"
call "$base/users?limit=2&limit=3"
call "$base/users?cursor=forged"
call "$base/users/does%20not%20exist"
call "$base/users/01ARZ3NDEKTSV4RRFFQ69G5FAV" -H 'cookie: session=abc; theme=dark'
stop

# users: a retried create with an Idempotency-Key, and one email twice
record idempotency-and-uniqueness
call -X POST "$base/users" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Grace Hopper"}'
call -X POST "$base/users" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Grace Hopper"}'
call -X POST "$base/users" -H 'content-type: application/json' -H 'idempotency-key: 5b0e6c1e-1' -d '{"email":"grace@example.com","name":"Someone else"}'
call -X POST "$base/users" -H 'content-type: application/json' -d '{"email":"GRACE@example.com","name":"Grace again"}'
stop

# users: pages
record pagination
for name in Alan Barbara Claude; do
  call -X POST "$base/users" -H 'content-type: application/json' -d "{\"email\":\"$name@example.com\",\"name\":\"$name\"}"
done
cursor=$(json "$base/users?limit=2" | field nextCursor)
call "$base/users?limit=2&cursor=$cursor"
stop

# users behind a $default route: requests no declared route matches reach its own router
record unmatched-requests --default-route users
call "$base/nope"
call -X DELETE "$base/users"
call -X POST "$base/users/01ARZ3NDEKTSV4RRFFQ69G5FAV" -H 'content-type: application/json' -d '{}'
stop

# users behind a REST API (Lambda proxy integration, payload 1.0): repeated headers and query
# parameters arrive as multi-value maps
record rest-proxy --payload 1.0
id=$(json -X POST "$base/users" -H 'content-type: application/json' -H 'x-trace: a' -H 'x-trace: b' -d '{"email":"rest@example.com","name":"Rest"}' | field id)
call "$base/users/$id"
call "$base/users?limit=1&limit=5"
call -X PATCH "$base/users/$id" -H 'content-type: application/json' -d '{"name":"Rest Proxy"}'
call -X PUT "$base/users/$id" -H 'content-type: application/json' -d '{"email":"rest@example.com"}'
call -X DELETE "$base/users/$id"
stop

# items: the owner comes from the JWT; status workflow; listing by owner and status
token="authorization: Bearer $("$local_api" token 01JD3Q7N5ZKXG8W3M1V2C4B6HA)"
record crud
id=$(json -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Write the launch post"}' | field id)
call "$base/items/$id" -H "$token"
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -H 'if-match: "1"' -d '{"status":"in_progress"}'
call -X PUT "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"title":"Write and publish the launch post","status":"done"}'
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open"}'
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open","reopen":true}'
call "$base/items?owner=01JD3Q7N5ZKXG8W3M1V2C4B6HA" -H "$token"
call "$base/items?status=open" -H "$token"
call -X DELETE "$base/items/$id" -H "$token"
call "$base/items/$id" -H "$token"
stop

record invalid-requests
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":""}'
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"x","status":"archived"}'
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"x","expiresAt":"tomorrow"}'
call -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d 'null'
call "$base/items" -H "$token"
call "$base/items?owner=a&status=open" -H "$token"
call "$base/items?status=open&cursor=AAAA" -H "$token"
call "$base/items/nope" -H "$token"
stop

record rest-proxy --payload 1.0
id=$(json -X POST "$base/items" -H "$token" -H 'content-type: application/json' -d '{"title":"Via REST"}' | field id)
call "$base/items/$id" -H "$token"
call "$base/items?status=open&status=done" -H "$token"
call -X PUT "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"title":"Via REST","status":"cancelled"}'
call -X PATCH "$base/items/$id" -H "$token" -H 'content-type: application/json' -d '{"status":"open","reopen":true}'
call -X DELETE "$base/items/$id" -H "$token"
stop
