#!/usr/bin/env bash
# What inspection costs, measured on this machine in one run:
#  1. the message path: msgs/s of an echo actor counted as Troupe runs user actors, against the
#     same actor as bare CAF (troupe_actor_bench, alternating trials, median of each);
#  2. listing: a node running ACTORS (default 100,000) spawned actors; the time of
#     `troupe ctl actors --node N` (one page of 1,000) and of `--all` (every page), against
#     `troupe ctl members` (a ctl call that inspects nothing), medians of TRIALS runs.
#
#   scripts/bench/inspect.sh            # ACTORS=100000 TRIALS=5 MESSAGES=2000000
#
# Results: build/bench-inspect/results.jsonl and the table printed at the end. The node it
# starts is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
ACTORS=${ACTORS:-100000}
TRIALS=${TRIALS:-5}
MESSAGES=${MESSAGES:-2000000}
scripts/build.sh
BIN=$ROOT/build/bin
OUT=$ROOT/build/bench-inspect
rm -rf "$OUT" && mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl

NODE_PID=""
cleanup() {
  if [ -n "$NODE_PID" ]; then
    kill "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$NODE_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "message path: $MESSAGES events per trial, $TRIALS trials each"
"$BIN/troupe_actor_bench" --messages "$MESSAGES" --trials "$TRIALS" | tee -a "$RESULTS"

port=$((20000 + RANDOM % 12000))
"$BIN/troupe" run --name inspected --cluster-port "$port" --http-port 0 \
  --data-dir "$OUT/data" --log-level warn >"$OUT/node.log" 2>&1 &
NODE_PID=$!
C="--connect=127.0.0.1:$port"
for _ in $(seq 1 100); do "$BIN/troupe" ctl "$C" members >/dev/null 2>&1 && break; sleep 0.1; done
echo "spawning $ACTORS actors..."
"$BIN/troupe" ctl "$C" --timeout 120s spawn echo --count "$ACTORS" --name e >/dev/null

ms_of() { # ms_of CMD...: wall milliseconds of one run
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null
  e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}
for t in $(seq 1 "$TRIALS"); do
  for what in members page all; do
    case $what in
      members) ms=$(ms_of "$BIN/troupe" ctl "$C" members) ;;
      page) ms=$(ms_of "$BIN/troupe" ctl "$C" actors --node inspected) ;;
      all) ms=$(ms_of "$BIN/troupe" ctl "$C" --json --timeout 60s actors --node inspected --all) ;;
    esac
    echo "{\"bench\":\"list_actors\",\"what\":\"$what\",\"actors\":$ACTORS,\"trial\":$t,\"ms\":$ms}" | tee -a "$RESULTS"
  done
done
rows=$("$BIN/troupe" ctl "$C" --json --timeout 60s actors --node inspected --all \
  | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["actors"]))')
echo "--all returned $rows rows"

python3 - "$RESULTS" "$rows" <<'PY' | tee "$OUT/results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(xs): return statistics.median(xs)
bare = med([r["msgs_per_s"] for r in rows if r.get("system") == "bare_caf"])
counted = med([r["msgs_per_s"] for r in rows if r.get("system") == "counted"])
print("| measure | value | peer | ratio |")
print("|---|---|---|---|")
print(f"| msgs/s, echo actor, counted vs bare CAF | {counted:,.0f} | {bare:,.0f} | {counted / bare:.2f}x |")
lst = {w: med([r["ms"] for r in rows if r.get("what") == w]) for w in ("members", "page", "all")}
print(f"| ms, `ctl actors --node` (first 1,000 of {rows[0:0] or ''}{int(sys.argv[2]):,}) vs `ctl members` | {lst['page']:.0f} | {lst['members']:.0f} | {lst['page'] / lst['members']:.2f}x |")
print(f"| ms, `ctl actors --node --all` ({int(sys.argv[2]):,} rows) vs `ctl members` | {lst['all']:.0f} | {lst['members']:.0f} | {lst['all'] / lst['members']:.2f}x |")
PY
