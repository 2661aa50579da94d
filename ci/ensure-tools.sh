#!/usr/bin/env bash
# Installs what `make test` and `make run` need beyond the Swift toolchain, when it is missing:
# Debian packages through apt, Python tools into the git-ignored .venv from pinned versions.
set -euo pipefail

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
command -v readelf >/dev/null || need_apt+=(binutils)
command -v gcc >/dev/null || need_apt+=(gcc)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ensure-tools: installing ${need_apt[*]} with apt-get" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
