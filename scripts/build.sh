#!/usr/bin/env bash
# Configures and builds Troupe into build/ (ccache when present). The binary is build/bin/troupe.
# Usage: scripts/build.sh [extra cmake args...]
# Env: BUILD_TYPE (default RelWithDebInfo), JOBS, TARGETS (default: everything, tests included;
# the demo builds only its binaries). Progress is shown on a terminal; the log is build/build.log.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs="${JOBS:-$(nproc)}"
mkdir -p build
if [ ! -f build/CMakeCache.txt ]; then
  echo "build: configuring (a first build takes a few minutes on 2 cores; ccache makes later ones fast)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >build/configure.log 2>&1 \
    || { cat build/configure.log; exit 1; }
fi
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
# The percentage as it goes, on one line, when someone watches.
progress() {
  if [ -t 1 ]; then
    grep --line-buffered -oE '^\[ *[0-9]+%\]' | while read -r p; do printf '\rbuild: %s ' "$p"; done
    printf '\r'
  else
    cat >/dev/null
  fi
}
if ! cmake --build build -j "$jobs" "${targets[@]}" 2>&1 | tee build/build.log | progress; then
  grep -vE '^\[ *[0-9]+%\]' build/build.log | head -n 60
  echo "build: FAILED (full log: build/build.log)"
  exit 1
fi
test -x build/bin/troupe
