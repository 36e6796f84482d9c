#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) and runs each for a
# bounded time from its seed corpus. Fails on a crash, a leak, an allocation of more than
# 64 MiB at once or a process over 1 GiB. Usage: scripts/fuzz.sh   Env: FUZZ_SECONDS (20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
seconds="${FUZZ_SECONDS:-20}"
mkdir -p build-fuzz
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CXX=clang++ cmake -S tests/fuzz -B build-fuzz -DCMAKE_BUILD_TYPE=None >build-fuzz/configure.log 2>&1 \
    || { cat build-fuzz/configure.log; exit 1; }
fi
cmake --build build-fuzz -j "$(nproc)" >build-fuzz/build.log 2>&1 \
  || { tail -n 60 build-fuzz/build.log; echo "fuzz: build FAILED"; exit 1; }
# The seeds are made by the encoders, so they follow the protocols as they change.
build-fuzz/make_seeds tests/fuzz/corpus
for target in fuzz_frame fuzz_wire fuzz_membership fuzz_raft fuzz_cluster_state; do
  work="build-fuzz/corpus/$target"
  rm -rf "$work" && mkdir -p "$work"
  echo "fuzz: $target for ${seconds}s"
  if ! build-fuzz/$target -max_total_time="$seconds" -malloc_limit_mb=64 -rss_limit_mb=1024 \
      -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" >"build-fuzz/$target.log" 2>&1; then
    tail -n 40 "build-fuzz/$target.log"
    echo "fuzz: $target FAILED (log: build-fuzz/$target.log; the input is in build-fuzz/)"
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "build-fuzz/$target.log" \
    | tr '\n' ' ' | sed "s/^/fuzz: $target: /; s/\$/\n/"
done
