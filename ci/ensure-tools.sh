#!/usr/bin/env bash
# Installs what the Makefile's targets need beyond the Swift toolchain, when it is missing, and
# says what it installs: Debian packages through apt, Python tools into git-ignored venvs.
#   ci/ensure-tools.sh          everything `make test` needs
#   ci/ensure-tools.sh serve    only what `make run` needs (the SQLite headers, python3 and Swagger UI
#                               for its API docs, .venv-docs)
#   ci/ensure-tools.sh deploy   only what the pipeline's AWS jobs need (.venv, for ci/deploy.py)
#   ci/ensure-tools.sh system   only the Debian packages `make test` needs (what the Swift build needs
#                               first: make check installs the venvs while it builds)
# Python tools come only from the hash-locked ci/requirements*.txt (`make lock` writes them), as
# wheels: pip checks every file's hash and runs no package's build code.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-all}

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
[ "$profile" = deploy ] || [ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ "$profile" = all ] || [ "$profile" = system ]; then
  command -v readelf >/dev/null || need_apt+=(binutils)
  command -v gcc >/dev/null || need_apt+=(gcc)
  command -v shellcheck >/dev/null || need_apt+=(shellcheck)
  command -v curl >/dev/null || need_apt+=(curl)
  command -v wrk >/dev/null || need_apt+=(wrk)
  command -v openssl >/dev/null || need_apt+=(openssl)
  command -v chromium >/dev/null || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ensure-tools: installing ${need_apt[*]} with apt-get" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# One venv per lock (ci/requirements.txt → .venv, ci/requirements-<tool>.txt → .venv-<tool>, for
# tools whose pins clash), rebuilt when its lock changes. The stamp only saves a laptop the
# reinstall: the pipeline's jobs that hold credentials start without caches, so they always build.
# pip spends most of its time waiting on downloads, so the venvs install side by side.
[ "$profile" = system ] && exit 0
locks=(ci/requirements*.txt)
[ "$profile" = deploy ] && locks=(ci/requirements.txt)
[ "$profile" = serve ] && locks=(ci/requirements-docs.txt)
install_venv() {
  local requirements=$1 want=$2 venv=$3
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary=:all: -r "$requirements"
  echo "$want" > "$venv/.requirements.sha256"
}
pids=()
for requirements in "${locks[@]}"; do
  suffix=$(basename "$requirements" .txt); suffix=${suffix#requirements}
  venv=.venv$suffix
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "ensure-tools: installing $(grep -c '==' "$requirements") hash-pinned Python packages into $venv ($requirements; once)" >&2
    install_venv "$requirements" "$want" "$venv" &
    pids+=("$!")
  fi
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || { echo "ensure-tools: a venv did not install (pip's error is above); run make tools again" >&2; exit 1; }
