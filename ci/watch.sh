#!/usr/bin/env bash
# `make run WATCH=1`: the local gateway, rebuilt and restarted when sources change.
#   in-process (default): local-api is rebuilt and restarted; a failed build keeps the running one.
#   --artifact DIR: only the changed service is repackaged; the running gateway starts the new
#   bootstrap on its next request (a change under shared/ repackages every service).
# Arguments are local-api's (see local-api --help).
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
artifact=
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" = --artifact ] && artifact=${args[i + 1]}; done
mapfile -t services < <(python3 -m ci.declarations)

fingerprint() { # fingerprint DIR...: changes when a source file under them changes
  find "$@" \( -name '*.swift' -o -name 'service.json' -o -name 'Package.swift' \) -printf '%p %T@\n' 2>/dev/null | sort | sha1sum
}
package() { # package SERVICE: a failed build keeps the previous bootstrap
  echo "watch: packaging $1" >&2
  python3 -m ci.package --product "$1-bootstrap" --name "$1" --out "$artifact" >&2 \
    && echo "watch: $1 repackaged; its next request starts the new bootstrap" >&2 \
    || echo "watch: $1 did not build; still serving the previous package" >&2
}

gateway=
start() {
  "$(swift build --show-bin-path)/local-api" "${args[@]}" &
  gateway=$!
}
stop() { if [ -n "$gateway" ]; then kill "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true; fi; }
trap 'stop; exit 0' INT TERM

swift build --product local-api >&2
if [ -n "$artifact" ]; then for s in "${services[@]}"; do package "$s"; done; fi
start
declare -A seen
seen[shared]=$(fingerprint shared/Sources)
for s in "${services[@]}"; do seen[$s]=$(fingerprint "services/$s"); done
echo "watch: watching shared/ and services/ for changes (Ctrl-C stops)" >&2
while sleep 1; do
  changed=()
  now=$(fingerprint shared/Sources)
  if [ "$now" != "${seen[shared]}" ]; then seen[shared]=$now; changed=("${services[@]}"); fi
  for s in "${services[@]}"; do
    now=$(fingerprint "services/$s")
    if [ "$now" != "${seen[$s]}" ]; then seen[$s]=$now; changed+=("$s"); fi
  done
  [ ${#changed[@]} -gt 0 ] || continue
  if [ -n "$artifact" ]; then
    for s in $(printf '%s\n' "${changed[@]}" | sort -u); do package "$s"; done
  elif swift build --product local-api >&2; then
    echo "watch: ${changed[*]} changed; restarting the gateway" >&2
    stop
    start
  else
    echo "watch: the build failed; still serving the previous build" >&2
  fi
done
