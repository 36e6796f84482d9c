#!/usr/bin/env bash
# KV puts before and after a change, side by side in one run: a group of three coordinators
# with fsync on, small puts (64 bytes) with 1 and 16 in flight for SECONDS each, once with the
# binaries (troupe, troupe_bench) built from BASELINE (a commit, built in a git worktree under
# build/bench-kv-wire/) and once with the current tree, alternating which goes first, TRIALS
# times. Reports puts/s and p50 (medians of the trials) and current / baseline.
#
#   scripts/bench/kv_wire.sh        # BASELINE=9b23d4e SECONDS_PER_LOAD=5 TRIALS=3
#
# 9b23d4e is the last commit on CAF's BASP, before Troupe's own wire (issue 13). Results:
# build/bench-kv-wire/results.jsonl and the table printed at the end. Every process it starts
# is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
BASELINE=${BASELINE:-9b23d4e}
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-5}
TRIALS=${TRIALS:-3}
scripts/build.sh
OUT=$ROOT/build/bench-kv-wire
mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

base_commit=$(git rev-parse --verify "$BASELINE^{commit}")
SRC=$OUT/src-$base_commit
if [ ! -x "$SRC/build/bin/troupe_bench" ]; then
  echo "building the baseline $BASELINE in $SRC"
  git worktree prune
  [ -d "$SRC" ] || git worktree add --detach "$SRC" "$base_commit" >/dev/null
  cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$OUT/baseline-configure.log" 2>&1
  cmake --build "$SRC/build" -j "$(nproc)" --target troupe troupe_bench >"$OUT/baseline-build.log" 2>&1 \
    || { tail -n 40 "$OUT/baseline-build.log"; exit 1; }
fi
declare -A BIN=([baseline]="$SRC/build/bin" [current]="$ROOT/build/bin")

declare -a PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
trap stop_all EXIT


# run_one WHICH: a fresh group with that build, both loads, tagged with the build's name.
run_one() {
  local which=$1 bin=${BIN[$1]} data
  data=$(mktemp -d "$OUT/group.XXXXXX")
  local ports=($(free_port) $(free_port) $(free_port))
  local peers="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
  for i in 0 1 2; do
    "$bin/troupe" run --coordinator --name "c$i" --peers "$peers" --cluster-port "${ports[$i]}" \
      --http-port 0 --data-dir "$data/c$i" --log-level warn >"$data/c$i.log" 2>&1 &
    PIDS+=($!)
  done
  "$bin/troupe_bench" ready --system troupe --endpoints "$peers"
  for k in 1 16; do
    "$bin/troupe_bench" load --system troupe --endpoints "$peers" --in-flight "$k" \
      --seconds "$SECONDS_PER_LOAD" | sed "s/^{/{\"build\":\"$which\",/" | tee -a "$RESULTS"
  done
  stop_all
  rm -rf "$data"
}

for t in $(seq 1 "$TRIALS"); do
  if [ $((t % 2)) -eq 1 ]; then order="baseline current"; else order="current baseline"; fi
  for which in $order; do
    echo "trial $t: $which"
    run_one "$which"
  done
done

python3 - "$RESULTS" "$BASELINE" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"\nKV puts, three coordinators, medians of the trials (baseline {sys.argv[2]}):\n")
print("| in flight | baseline puts/s | current puts/s | current / baseline | baseline p50 ms | current p50 ms |")
print("|---|---|---|---|---|---|")
for k in (1, 16):
    def med(build, key):
        return statistics.median(r[key] for r in rows if r["build"] == build and r["in_flight"] == k)
    b, c = med("baseline", "puts_per_s"), med("current", "puts_per_s")
    print(f"| {k} | {b:,.0f} | {c:,.0f} | {c / b:.2f}x | {med('baseline', 'p50_ms'):.2f} | {med('current', 'p50_ms'):.2f} |")
PY
