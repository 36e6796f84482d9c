#!/usr/bin/env bash
# The batched event path before and after a change, side by side in one run: `troupe ctl send
# --stdin` of EVENTS key<tab>payload lines to a hash deployment (word-count) on a local cluster
# of one coordinator and WORKERS worker processes, once with the binary built from BASELINE (a
# commit, built in a git worktree under build/bench-send/) and once with the current tree,
# alternating which goes first, TRIALS times; at-most-once and at-least-once. Reports events/s
# (median of the trials), current / baseline of the medians, and the median of each trial's
# own ratio (its two runs back to back, so drift of the machine between trials cancels).
#
#   scripts/bench/send.sh        # BASELINE=168be4c EVENTS=300000 TRIALS=5 WORKERS=2
#
# 168be4c is the last commit before the supervision tree and vnodes as actors (issue 12).
# Results: build/bench-send/results.jsonl and the table printed at the end. Every cluster it
# starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
BASELINE=${BASELINE:-168be4c}
EVENTS=${EVENTS:-300000}
TRIALS=${TRIALS:-5}
WORKERS=${WORKERS:-2}
scripts/build.sh
OUT=$ROOT/build/bench-send
mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

# The baseline binary, built once per commit (ccache makes a rebuild cheap).
base_commit=$(git rev-parse --verify "$BASELINE^{commit}")
SRC=$OUT/src-$base_commit
if [ ! -x "$SRC/build/bin/troupe" ]; then
  echo "building the baseline $BASELINE in $SRC"
  git worktree prune
  [ -d "$SRC" ] || git worktree add --detach "$SRC" "$base_commit" >/dev/null
  cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$OUT/baseline-configure.log" 2>&1
  cmake --build "$SRC/build" -j "$(nproc)" --target troupe >"$OUT/baseline-build.log" 2>&1 \
    || { tail -n 40 "$OUT/baseline-build.log"; exit 1; }
fi
declare -A BIN=([baseline]="$SRC/build/bin/troupe" [current]="$ROOT/build/bin/troupe")

python3 - "$EVENTS" >"$OUT/events.tsv" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    out.write(f"k{i % 10007}\tpayload-{i:08d}\n")
EOF

NODE_PID=""
stop_node() {
  if [ -n "$NODE_PID" ]; then
    kill "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
    NODE_PID=""
  fi
}
trap stop_node EXIT

# run_one WHICH DELIVERY: starts a cluster with that binary, deploys, times the send.
run_one() {
  local which=$1 delivery=$2 bin=${BIN[$1]}
  local port=$((20000 + RANDOM % 12000)) data
  data=$(mktemp -d "$OUT/node.XXXXXX")
  "$bin" run --workers "$WORKERS" --name bench --cluster-port "$port" --http-port 0 \
    --data-dir "$data" --log-level warn >"$data/node.log" 2>&1 &
  NODE_PID=$!
  local c="--connect=127.0.0.1:$port" up=0
  for _ in $(seq 1 200); do
    [ "$("$bin" status "$c" --timeout 1s 2>/dev/null | grep -c ' up ')" -ge $((WORKERS + 1)) ] \
      && { up=1; break; }
    sleep 0.1
  done
  [ "$up" = 1 ] || { cat "$data/node.log"; echo "the $which cluster did not come up"; exit 1; }
  "$bin" ctl "$c" deploy words word-count --delivery "$delivery" >/dev/null
  for _ in $(seq 1 200); do
    "$bin" ctl "$c" --timeout 1s request words warmup >/dev/null 2>&1 && break
    sleep 0.1
  done
  local s e
  s=$(date +%s%N)
  "$bin" ctl "$c" --timeout 120s send words --stdin <"$OUT/events.tsv" >/dev/null
  e=$(date +%s%N)
  stop_node
  rm -rf "$data"
  python3 -c "import json; print(json.dumps({'binary': '$which', 'delivery': '$delivery',
    'events': $EVENTS, 'ms': $(((e - s) / 1000000)),
    'per_s': round($EVENTS / max(1, $(((e - s) / 1000000))) * 1000)}))" | tee -a "$RESULTS"
}

for t in $(seq 1 "$TRIALS"); do
  for delivery in at-most-once at-least-once; do
    if [ $((t % 2)) = 1 ]; then order="baseline current"; else order="current baseline"; fi
    for which in $order; do run_one "$which" "$delivery"; done
  done
done

python3 - "$RESULTS" "$BASELINE" "$EVENTS" "$TRIALS" "$WORKERS" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base, events, trials, workers = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
print(f"\n`ctl send --stdin` of {events} events, {workers} workers, median of {trials} trials")
print(f"\n| delivery | baseline {base} events/s | current events/s | current / baseline "
      "| median of trials' ratios |")
print("|---|---|---|---|---|")
for d in ("at-most-once", "at-least-once"):
    med = {b: statistics.median(r["per_s"] for r in rows if r["delivery"] == d and r["binary"] == b)
           for b in ("baseline", "current")}
    runs = [r for r in rows if r["delivery"] == d]
    pairs = [{r["binary"]: r["per_s"] for r in runs[i:i + 2]} for i in range(0, len(runs) - 1, 2)]
    paired = statistics.median(p["current"] / p["baseline"] for p in pairs)
    print(f"| {d} | {med['baseline']:.0f} | {med['current']:.0f} | "
          f"{med['current'] / med['baseline']:.2f}x | {paired:.2f}x |")
EOF
