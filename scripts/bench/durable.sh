#!/usr/bin/env bash
# What `--durable` costs (issue 15): events/s of a durable at-least-once deployment against the
# same deployment without --durable (and with periodic snapshots, `snapshot-every-ms=1000`,
# not durable), on one local cluster (a coordinator and 3 workers) in one run. `troupe ctl send --stdin` of EVENTS key<tab>payload lines over 1,000 keys (batches of
# 1,000, one batch in flight per sender) to word-count, with SENDERS senders at once (each its
# share of the lines), alternating which deployment goes first, TRIALS times. A durable batch
# is answered once its events were logged through Raft (one append per vnode of the batch) and
# handled; without --durable once handled. Also the Raft entries per 1,000 events, and each
# key's count afterwards against the events sent (the durable counts must be exact).
#
#   scripts/bench/durable.sh     # EVENTS=200000 TRIALS=5 SENDERS="1 4"
#
# Results: build/bench-durable/results.jsonl and the table printed at the end
# (build/bench-durable/results.md). Every process it starts is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
EVENTS=${EVENTS:-200000}
TRIALS=${TRIALS:-5}
SENDERS=${SENDERS:-"1 4"}

scripts/setup.sh
scripts/build.sh

BIN=$ROOT/build/bin
OUT=$ROOT/build/bench-durable
rm -rf "$OUT" && mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

trap stop_local_cluster EXIT
start_local_cluster "$BIN" "$OUT" durable
CTL=("$BIN/troupe" ctl "--connect=$ENDPOINT")
commit_index() {
  "$BIN/troupe" status --json --connect "$ENDPOINT" --timeout 2s \
    | python3 -c 'import json,sys; print(max((m.get("raft") or {}).get("commit_index", 0) for m in json.load(sys.stdin)["members"]))'
}

"${CTL[@]}" deploy plain word-count --delivery at-least-once >/dev/null
"${CTL[@]}" deploy snap word-count --delivery at-least-once --config snapshot-every-ms=1000 >/dev/null
"${CTL[@]}" deploy durable word-count --delivery at-least-once --durable >/dev/null
for d in plain snap durable; do
  for _ in $(seq 1 100); do "${CTL[@]}" request "$d" k0 "" >/dev/null 2>&1 && break; sleep 0.1; done
done

# Each sender's share of the lines, per sender count.
python3 - "$EVENTS" "$OUT" $SENDERS <<'PY'
import sys
n, out, counts = int(sys.argv[1]), sys.argv[2], [int(x) for x in sys.argv[3:]]
lines = [f"k{i % 1000}\tx\n" for i in range(n)]
for k in counts:
    for s in range(k):
        with open(f"{out}/events-{k}-{s}.tsv", "w") as f:
            f.writelines(lines[s::k])
PY

# run DEPLOYMENT SENDERS TRIAL: one measurement, appended to the results.
run() {
  local dep=$1 k=$2 trial=$3 pids=() s before after start end
  before=$(commit_index)
  start=$(date +%s.%N)
  for s in $(seq 0 $((k - 1))); do
    "${CTL[@]}" send "$dep" --stdin --timeout 60s <"$OUT/events-$k-$s.tsv" >/dev/null &
    pids+=($!)
  done
  local failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  end=$(date +%s.%N)
  after=$(commit_index)
  [ "$failed" = 0 ] || { echo "durable.sh: a send to $dep failed" >&2; exit 1; }
  python3 - "$dep" "$k" "$trial" "$EVENTS" "$start" "$end" "$before" "$after" >>"$RESULTS" <<'PY'
import json, sys
dep, k, trial, n, start, end, before, after = sys.argv[1:]
secs = float(end) - float(start)
system = {"durable": "troupe-durable", "snap": "troupe-snapshots"}.get(dep, "troupe")
print(json.dumps({"bench": "durable", "system": system,
                  "senders": int(k), "trial": int(trial), "events": int(n), "seconds": round(secs, 3),
                  "events_per_s": round(int(n) / secs),
                  "raft_entries_per_1000": round((int(after) - int(before)) * 1000 / int(n), 2)}))
PY
  tail -n 1 "$RESULTS"
}

sent=0
for trial in $(seq 1 "$TRIALS"); do
  for k in $SENDERS; do
    if [ $((trial % 2)) = 1 ]; then order="plain snap durable"; else order="durable snap plain"; fi
    for dep in $order; do run "$dep" "$k" "$trial"; done
    sent=$((sent + EVENTS))
  done
done

# Every key's count against the events sent to it (1,000 keys, round robin over the lines).
check() {
  local dep=$1 key=$2 want got
  want=$(python3 -c "import sys; n=$EVENTS; k=int(sys.argv[1][1:]); print(($sent // n) * (n // 1000 + (1 if k < n % 1000 else 0)))" "$key")
  got=$("${CTL[@]}" request "$dep" "$key" "")
  [ "$got" = "$want" ] || { echo "durable.sh: $dep $key counts $got, $want were sent" >&2; exit 1; }
}
for key in k0 k1 k499 k999; do check durable "$key"; check snap "$key"; check plain "$key"; done
echo "counts checked: k0, k1, k499, k999 hold every event sent, in all three deployments"

echo
echo "On $(nproc) cores, $(uname -r), $EVENTS events per measurement, median of $TRIALS:"
python3 - "$RESULTS" <<'PY' | tee "$OUT/results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| senders | without --durable (events/s) | --durable (events/s) | durable / plain | each trial's ratio (median) | Raft entries per 1,000 events (durable) | snapshot-every-ms=1000, not durable (events/s) | its trials' ratio (median) |")
print("|---|---|---|---|---|---|---|---|")
for k in sorted({r["senders"] for r in rows}):
    of = lambda s: [r for r in rows if r["senders"] == k and r["system"] == s]
    med = lambda s, f: statistics.median(r[f] for r in of(s))
    plain, durable = med("troupe", "events_per_s"), med("troupe-durable", "events_per_s")
    # Each trial ran both back to back: its own ratio cancels the machine's drift between trials.
    trials = {r["trial"]: r["events_per_s"] for r in of("troupe")}
    ratios = sorted(r["events_per_s"] / trials[r["trial"]] for r in of("troupe-durable") if r["trial"] in trials)
    each = ", ".join(f"{x:.2f}" for x in ratios)
    snap = [r["events_per_s"] / trials[r["trial"]] for r in of("troupe-snapshots") if r["trial"] in trials]
    print(f"| {k} | {plain:,.0f} | {durable:,.0f} | {durable / plain:.2f}x | {statistics.median(ratios):.2f}x ({each}) "
          f"| {med('troupe-durable', 'raft_entries_per_1000'):.1f} | {med('troupe-snapshots', 'events_per_s'):,.0f} | {statistics.median(snap):.2f}x |")
PY
