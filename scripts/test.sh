#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through CTest.
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit (then no fuzzing and
# no sanitizer build: those run with the whole suite)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
scripts/build.sh
cd build
# Integration tests keep their data and logs under test-tmp (one folder per test process, for
# a look after a failure): only the last run's are kept.
rm -rf test-tmp
# Integration tests start real processes on random loopback ports; two at a time fits 2 cores.
ctest --output-on-failure -j 2 --timeout 600 "$@"
cd ..
# The installed package, as a user builds against it (find_package(troupe)).
scripts/check_package.sh
# The whole run (no ctest arguments): every decoder and the frame reader fuzzed for a bounded
# time, and the unit and simulation suites under ASan + UBSan.
if [ $# -eq 0 ]; then
  scripts/fuzz.sh
  scripts/sanitize.sh
fi
