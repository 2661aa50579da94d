#!/usr/bin/env bash
# `make test` tells where it is: a banner as each phase starts (with how long the previous one
# took) and a closing summary. The phases are recorded in $MAKE_TEST_PHASES (set by `make test`);
# a target run on its own prints just its banner.
#   ci/phase.sh NAME        banner for phase NAME
#   ci/phase.sh --summary   each phase's time and the total
set -euo pipefail
log=${MAKE_TEST_PHASES:-}
now=$(date +%s)
duration() { if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }

if [ "${1:-}" = --summary ]; then
  [ -n "$log" ] && [ -f "$log" ] || exit 0
  echo "$now -" >>"$log"
  start=$(head -1 "$log" | cut -d' ' -f1)
  summary=$(awk 'NR > 1 { printf "%s %s, ", name, $1 - t } { t = $1; name = $2 }' "$log" | sed 's/, $//')
  echo "== make test: passed, every phase, in $(duration $((now - start))) ($(awk '{ print }' <<<"$summary" | sed -E 's/ ([0-9]+)(,|$)/ \1s\2/g'))"
  rm -f "$log"
  exit 0
fi

phase=$1
if [ -n "$log" ]; then
  mkdir -p "$(dirname "$log")"
  if [ -f "$log" ]; then
    read -r previous_time previous_name < <(tail -1 "$log")
    start=$(head -1 "$log" | cut -d' ' -f1)
    echo "== make test: $phase (after $previous_name, $(duration $((now - previous_time))); $(duration $((now - start))) in)"
  else
    echo "== make test: $phase"
  fi
  echo "$now $phase" >>"$log"
else
  echo "== $phase"
fi
