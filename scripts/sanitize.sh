#!/usr/bin/env bash
# Builds the unit and simulation suites with AddressSanitizer + UndefinedBehaviorSanitizer
# (g++, into build-asan/) and runs them: any memory error, leak or undefined behaviour fails.
# Usage: scripts/sanitize.sh   Env: SANITIZE_SIM_SEEDS (400 per simulation suite)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p build-asan
if [ ! -f build-asan/CMakeCache.txt ]; then
  # -O1 and line tables only: a third less to compile than -O2 -g, and stacks still name lines.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" -DTROUPE_SANITIZE=ON \
    >build-asan/configure.log 2>&1 || { cat build-asan/configure.log; exit 1; }
fi
echo "sanitize: building the unit and simulation suites with ASan + UBSan"
cmake --build build-asan -j "$(nproc)" --target troupe_unit_tests troupe_sim_tests \
  >build-asan/build.log 2>&1 || { tail -n 60 build-asan/build.log; echo "sanitize: build FAILED"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
# The simulations run SANITIZE_SIM_SEEDS seeds per suite here (the normal build runs them all):
# every code path they have, under the sanitizers, in about a minute rather than six.
export TROUPE_SIM_SEEDS=${SANITIZE_SIM_SEEDS:-400}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for suite in troupe_unit_tests troupe_sim_tests; do
  echo "sanitize: $suite"
  if ! (cd build-asan && TROUPE_SOURCE_DIR="$PWD/.." "bin/$suite" -n -v 4 -r 1200 >"$suite.log" 2>&1); then
    grep -aE 'ERROR|runtime error|!!|SUMMARY' "build-asan/$suite.log" | head -n 40
    echo "sanitize: $suite FAILED (log: build-asan/$suite.log)"
    exit 1
  fi
  grep -aE '^ +(tests|checks|time):' "build-asan/$suite.log" | tr -s ' ' | tr '\n' ' ' \
    | sed "s/^/sanitize: $suite:/; s/\$/\n/"
done
