# shellcheck shell=bash
# Sourced by scripts that start the local gateway: start_local_api LOG ARGS... runs local-api
# ($local_api) on ports it picks itself (--port 0: no race with another server for a port chosen
# beforehand), its output in LOG, and once it serves sets local_api_pid and local_api_url (from the
# banner's "on http://127.0.0.1:PORT"). stop_local_api ends it.
start_local_api() {
  local log=$1
  shift
  # shellcheck disable=SC2154 # local_api: set by the script that sources this one
  "$local_api" --port 0 --dynamodb-port 0 "$@" >"$log" 2>&1 &
  local_api_pid=$!
  local_api_url=
  for _ in $(seq 600); do
    local_api_url=$(grep -o 'on http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -c4- || true)
    [ -n "$local_api_url" ] && return 0
    kill -0 "$local_api_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "local-api did not start ($log): $(tail -3 "$log")" >&2
  return 1
}

stop_local_api() {
  if [ -n "${local_api_pid:-}" ]; then
    kill "$local_api_pid" 2>/dev/null || true
    wait "$local_api_pid" 2>/dev/null || true
    local_api_pid=
  fi
}
