#!/usr/bin/env bash
# Installs everything Troupe needs to build, from Debian's packages only; with --tests also
# what only the tests need: Debian's Chromium and Doxygen, Node.js when the machine has none,
# and the web view test's npm package (playwright-core, pinned in tests/web/package-lock.json).
# Idempotent: when everything is installed it prints nothing and asks apt and npm nothing.
# Usage: scripts/setup.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config ccache
  libcaf-dev libssl-dev
  libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  libedit-dev libisal-dev libjemalloc-dev
  clang libclang-rt-14-dev
  iproute2 procps tmux curl python3 openssl
)
tests=0
[ "${1:-}" = "--tests" ] && tests=1
if [ $tests = 1 ]; then
  packages+=(chromium doxygen)
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi

# The web view's browser test drives Chromium with playwright-core (no browser download: it
# uses Debian's). Installed again only when the lock file is newer than what is installed.
if [ $tests = 1 ]; then
  stamp=tests/web/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/web/package-lock.json -nt "$stamp" ]; then
    echo "setup: installing the web view test's npm packages"
    npm ci --prefix tests/web --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi
