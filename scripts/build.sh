#!/usr/bin/env bash
# Configures and builds Troupe into build/ (ccache when present). The binary is build/bin/troupe.
# Usage: scripts/build.sh [extra cmake args...]   Env: BUILD_TYPE (default RelWithDebInfo), JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs="${JOBS:-$(nproc)}"
mkdir -p build
if [ ! -f build/CMakeCache.txt ]; then
  echo "build: configuring (the first build takes 1-2 minutes on 2 cores; ccache makes later ones fast)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >build/configure.log 2>&1 \
    || { cat build/configure.log; exit 1; }
fi
if ! cmake --build build -j "$jobs" >build/build.log 2>&1; then
  grep -vE '^\[ *[0-9]+%\]' build/build.log | head -n 60
  echo "build: FAILED (full log: build/build.log)"
  exit 1
fi
test -x build/bin/troupe
