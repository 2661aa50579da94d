#!/usr/bin/env bash
# `make test` tells where it is: a banner as each phase starts and a closing summary. The phases
# are recorded in $MAKE_TEST_PHASES (set by `make test`); a target run on its own prints just its
# banner. A phase that records its end (the Makefile's phase-end) is timed to it; one that does not,
# to whatever the run did next (the last phase must record it: nothing follows).
#   ci/phase.sh NAME         banner for phase NAME
#   ci/phase.sh --end NAME   phase NAME has ended
#   ci/phase.sh --summary    each phase's time and the wall time
set -euo pipefail
log=${MAKE_TEST_PHASES:-}
now=$(date +%s)
duration() { if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }

case "${1:-}" in
  --summary)
    [ -n "$log" ] && [ -f "$log" ] || exit 0
    start=$(head -1 "$log" | cut -d' ' -f1)
    # A phase lasts until its end, or without one until whatever the run did next.
    summary=$(awk '{ t[NR] = $1; kind[NR] = $2; name[NR] = $3 }
      END {
        for (i = 1; i <= NR; i++) if (kind[i] == "start") {
          stop = 0
          for (j = i + 1; j <= NR && !stop; j++) if (kind[j] == "end" && name[j] == name[i]) stop = t[j]
          if (!stop) stop = (i < NR) ? t[i + 1] : t[NR]
          seconds = stop - t[i]
          out = out sep name[i] " " (seconds >= 60 ? sprintf("%dm%02ds", seconds / 60, seconds % 60) : seconds "s")
          sep = ", "
        }
        print out
      }' "$log")
    echo "== make test: passed, every phase, in $(duration $((now - start))) of wall time ($summary)"
    rm -f "$log"
    ;;
  --end)
    [ -z "$log" ] || echo "$now end $2" >>"$log"
    ;;
  *)
    if [ -n "$log" ]; then
      mkdir -p "$(dirname "$log")"
      if [ -f "$log" ]; then
        echo "== make test: $1 ($(duration $((now - $(head -1 "$log" | cut -d' ' -f1)))) in)"
      else
        echo "== make test: $1"
      fi
      echo "$now start $1" >>"$log"
    else
      echo "== $1"
    fi
    ;;
esac
