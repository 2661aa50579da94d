#!/usr/bin/env bash
# Two commands at once, for make's side-by-side phases: `ci/beside.sh FOREGROUND... -- BACKGROUND...`.
# The background one runs niced, so it never starves the foreground's timing-sensitive tests, and
# its output is held and printed once both have ended, so the two never interleave. Fails if
# either fails.
set -uo pipefail
foreground=() background=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do foreground+=("$1"); shift; done
if [ $# -lt 2 ] || [ ${#foreground[@]} -eq 0 ]; then
  echo "usage: ci/beside.sh FOREGROUND... -- BACKGROUND..." >&2
  exit 2
fi
shift
background=("$@")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
nice -n 10 "${background[@]}" >"$log" 2>&1 &
pid=$!
"${foreground[@]}"
first=$?
wait "$pid"
second=$?
cat "$log"
[ "$first" = 0 ] && [ "$second" = 0 ]
