#!/usr/bin/env bash
# The event path as users write it, side by side with Erlang distribution and bare CAF in one
# run on this machine (issue 18):
#   one_way        an actor on a coordinator (the "bench-pump" of scripts/bench/events_node.cpp)
#                  calls troupe::send one event at a time (EVENTS events, BYTES-byte payloads,
#                  KEYS keys) to a word-count deployment whose vnodes are all on a worker, then
#                  asks each key's count: events/s up to the last count, at-most-once (troupe)
#                  and at-least-once (troupe-at-least-once); against an Erlang process sending
#                  {ev, Key, Payload} to a process on another node (erlang) and a CAF actor
#                  sending (key, payload) to a remote actor over CAF's BASP (caf), same sizes;
#   request        REQUESTS troupe::request round trips from that actor, one after the other:
#                  p50/p99/p999; against Erlang ping-pong and CAF's remote request;
#   cli_batch      `troupe ctl send --stdin` of EVENTS lines to the same deployments;
#   vnode_recovery RECOVERY_TRIALS times, the pump SIGKILLs a worker and probes every vnode
#                  every 5 ms: the time until every vnode answered again; in local mode (`run
#                  --workers 2`: the coordinator sees the exit and restarts the worker) and in
#                  multi-host mode (a coordinator and two `run --worker`s: the failure timeout,
#                  1.5 s by default, and the lease pass before another worker serves).
# one_way and request are the median of TRIALS runs (the machine drifts between runs).
#
#   scripts/bench/events.sh            # EVENTS=500000 REQUESTS=20000 TRIALS=3 RECOVERY_TRIALS=20
#   QUICK=1 scripts/bench/events.sh    # every part briefly (a smoke check, under 2 minutes)
#
# In local mode each crash is of a worker that has run 10 s or more (the two workers take
# turns), so that its restart waits the first delay (--restart-backoff, 100 ms), as after a
# crash in production; the delays that grow in a crash loop are the supervisor's policy (a
# worker that has run 10 s is healthy again), not what is measured here.
# Results: build/bench-events/results.jsonl (one object per measurement: bench, system and its
# figures) and results.md (the table in the README). Every process it starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
# shellcheck source=scripts/bench/cluster_lib.sh
source scripts/bench/cluster_lib.sh
ROOT=$PWD
if [ -n "${QUICK:-}" ]; then
  EVENTS=${EVENTS:-50000} REQUESTS=${REQUESTS:-1000} TRIALS=${TRIALS:-1}
  RECOVERY_TRIALS=${RECOVERY_TRIALS:-3}
fi
EVENTS=${EVENTS:-500000}
REQUESTS=${REQUESTS:-20000}
TRIALS=${TRIALS:-3}
RECOVERY_TRIALS=${RECOVERY_TRIALS:-20}
BYTES=${BYTES:-16}
KEYS=${KEYS:-64}

scripts/setup.sh
need_packages erl:erlang-base erlc:erlang-base
TARGETS="troupe_events_node troupe_caf_peer troupe" scripts/build.sh

start_bench bench-events
CAF_PEER=$ROOT/build/bin/troupe_caf_peer

# start_pump CONNECT NODE: deploys word-count at-most-once (amo) and at-least-once (alo) and
# spawns the pump on NODE; waits until both deployments answer from it.
start_pump() {
  "$NODE" ctl "$1" deploy amo word-count >/dev/null
  "$NODE" ctl "$1" deploy alo word-count --delivery at-least-once >/dev/null
  spawn_pump "$1" "$2" alo
  pump "$1" request amo 1 >/dev/null
}

python3 - "$EVENTS" "$BYTES" "$KEYS" >"$OUT/events.tsv" <<'EOF'
import sys
n, size, keys = (int(a) for a in sys.argv[1:])
payload = "x" * size
out = sys.stdout
for i in range(n):
    out.write(f"c-k{i % keys}\t{payload}\n")
EOF

# --- Troupe: a coordinator (the pump's node) and one worker (every vnode) -------------------
port=$(free_port)
C="--connect=127.0.0.1:$port"
"$NODE" run --workers 1 --name a --cluster-port "$port" --http-port 0 --data-dir "$OUT/one" \
  --log-level warn >"$OUT/one.log" 2>&1 &
PIDS+=($!)
until_ready "$OUT/one.log" "$C" 2
start_pump "$C" a
for t in $(seq 1 "$TRIALS"); do
  echo "troupe: trial $t of $TRIALS"
  record one_way troupe "$(pump "$C" one_way amo "$EVENTS" "$BYTES" "$KEYS" "m$t")"
  record one_way troupe-at-least-once "$(pump "$C" one_way alo "$EVENTS" "$BYTES" "$KEYS" "l$t")"
  record request troupe "$(pump "$C" request amo "$REQUESTS")"
  record request troupe-at-least-once "$(pump "$C" request alo "$REQUESTS")"
  for d in amo alo; do
    s=$(date +%s%N)
    "$NODE" ctl "$C" --timeout 300s send "$d" --stdin <"$OUT/events.tsv" >/dev/null
    e=$(date +%s%N)
    sys=troupe
    [ "$d" = alo ] && sys=troupe-at-least-once
    record cli_batch "$sys" "{\"events\": $EVENTS, \"secs\": $(((e - s) / 1000))e-6,
      \"msgs_per_s\": $((EVENTS * 1000000 / ((e - s) / 1000)))}"
  done
done
stop_all

# --- Erlang distribution: two nodes ---------------------------------------------------------
start_erlang_peer
for t in $(seq 1 "$TRIALS"); do
  echo "erlang: trial $t of $TRIALS"
  record one_way erlang "$(erl_run one_way "$EVENTS" "$BYTES" "$KEYS")"
  record request erlang "$(erl_run request "$REQUESTS")"
done
stop_all

# --- Bare CAF: two processes, CAF's BASP ---------------------------------------------------
port=$(free_port)
"$CAF_PEER" serve "$port" >"$OUT/caf.log" 2>&1 &
PIDS+=($!)
for t in $(seq 1 "$TRIALS"); do
  echo "caf: trial $t of $TRIALS"
  record one_way caf "$("$CAF_PEER" one_way "$port" "$EVENTS" "$BYTES" "$KEYS")"
  record request caf "$("$CAF_PEER" request "$port" "$REQUESTS")"
done
stop_all

# --- Recovery of a SIGKILLed worker's vnodes -------------------------------------------------
echo "vnode recovery, local mode: $RECOVERY_TRIALS crashes"
port=$(free_port)
C="--connect=127.0.0.1:$port"
"$NODE" run --workers 2 --name loc --cluster-port "$port" --http-port 0 --data-dir "$OUT/loc" \
  --restart-max 1000 --log-level warn >"$OUT/loc.log" 2>&1 &
PIDS+=($!)
until_ready "$OUT/loc.log" "$C" 3
start_pump "$C" loc
for t in $(seq 1 "$RECOVERY_TRIALS"); do
  victim=loc-worker-$((1 + t % 2))
  until_ready "$OUT/loc.log" "$C" 3 "$victim" 10500 # healthy again: the first restart delay
  record vnode_recovery_trial troupe-local \
    "$(pump "$C" recover amo 64 "$(pid_of "$C" "$victim")" 30000)"
done
stop_all

echo "vnode recovery, multi-host mode: $RECOVERY_TRIALS crashes"
cport=$(free_port)
C="--connect=127.0.0.1:$cport"
"$NODE" run --coordinator --peers "127.0.0.1:$cport" --name mc --cluster-port "$cport" \
  --http-port 0 --data-dir "$OUT/mc" --log-level warn >"$OUT/mc.log" 2>&1 &
PIDS+=($!)
declare -A WPID=()
start_worker() {
  "$NODE" run --worker --coordinators "127.0.0.1:$cport" --name "$1" --cluster-port 0 \
    --http-port 0 --data-dir "$OUT/$1" --log-level warn >>"$OUT/$1.log" 2>&1 &
  WPID[$1]=$!
  PIDS+=($!)
  disown "$!" # its SIGKILL is the point: no "Killed" report from the shell
}
start_worker mw1
start_worker mw2
until_ready "$OUT/mc.log" "$C" 3
start_pump "$C" mc
for t in $(seq 1 "$RECOVERY_TRIALS"); do
  victim=mw$((1 + t % 2))
  record vnode_recovery_trial troupe-multi-host \
    "$(pump "$C" recover amo 64 "${WPID[$victim]}" 30000)"
  for _ in $(seq 1 100); do kill -0 "${WPID[$victim]}" 2>/dev/null || break; sleep 0.05; done
  start_worker "$victim"
  until_ready "$OUT/mc.log" "$C" 3
done
stop_all

python3 - "$RESULTS" "$OUT/results.md" "$EVENTS" "$REQUESTS" "$TRIALS" "$RECOVERY_TRIALS" <<'EOF'
import json, statistics, sys
path, md, events, requests, trials, rtrials = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]

def med(bench, system, field):
    xs = [r[field] for r in rows if r["bench"] == bench and r["system"] == system]
    return statistics.median(xs) if xs else None

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]

summary = []
for system in ("troupe-local", "troupe-multi-host"):
    ms = [r["ms"] for r in rows if r["bench"] == "vnode_recovery_trial" and r["system"] == system]
    if ms:
        summary.append({"bench": "vnode_recovery", "system": system, "trials": len(ms),
                        "p50_ms": pct(ms, 0.5), "p99_ms": pct(ms, 0.99), "max_ms": max(ms)})
with open(path, "a") as f:
    for s in summary:
        f.write(json.dumps(s) + "\n")

def fmt(x, unit=""):
    return "-" if x is None else (f"{x:,.0f}{unit}" if x >= 100 else f"{x:.1f}{unit}")

systems = ("troupe", "troupe-at-least-once", "erlang", "caf")
out = [f"Median of {trials} runs; {events} events of 16 bytes, {requests} round trips; "
       f"{rtrials} crashes per mode.", "",
       "| measurement | Troupe | Troupe at-least-once | Erlang | bare CAF |", "|---|---|---|---|---|"]
out.append("| one_way events/s (actor to actor) | " +
           " | ".join(fmt(med("one_way", s, "msgs_per_s")) for s in systems) + " |")
for f in ("p50_us", "p99_us", "p999_us"):
    out.append(f"| request {f[:-3]} (µs) | " +
               " | ".join(fmt(med("request", s, f)) for s in systems) + " |")
out.append("| cli_batch events/s (`ctl send --stdin`) | " +
           " | ".join(fmt(med("cli_batch", s, "msgs_per_s")) for s in systems) + " |")
out += ["", "| vnode recovery after a worker's SIGKILL | p50 | p99 | max |", "|---|---|---|---|"]
for s in summary:
    out.append(f"| {s['system']} ({s['trials']} crashes) | {s['p50_ms']:.0f} ms | "
               f"{s['p99_ms']:.0f} ms | {s['max_ms']:.0f} ms |")

def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"

ow = {s: med("one_way", s, "msgs_per_s") for s in systems}
rq = {s: med("request", s, "p50_us") for s in systems}
local = next((s for s in summary if s["system"] == "troupe-local"), None)
out += ["", "| goal (issue 18) | measured |", "|---|---|",
        f"| actor-to-actor events >= 1.5x Erlang's one-way rate | {ratio(ow['troupe'], ow['erlang'])} |",
        f"| request p50 <= 1.2x bare CAF's remote request | {ratio(rq['troupe'], rq['caf'])} |",
        f"| at-least-once >= 0.5x at-most-once | {ratio(ow['troupe-at-least-once'], ow['troupe'])} |",
        f"| local-mode crash: vnodes served again <= 500 ms p99 | "
        f"{local['p99_ms']:.0f} ms |" if local else "| local-mode crash | - |"]
open(md, "w").write("\n".join(out) + "\n")
print("\n" + "\n".join(out))
EOF
