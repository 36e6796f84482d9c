#!/usr/bin/env bash
# What an idle cluster costs, side by side in one run on this machine: the CPU each process of
# an idle cluster uses over WINDOW seconds (after SETTLE seconds to start), as a percentage of
# one core, for
#   - troupe-local: a local cluster, one coordinator and 3 worker processes (`run --workers 3`);
#   - troupe-group: three coordinators (`run --coordinator --peers ...`), Raft tick 25 ms, heartbeat every 3 ticks;
#   - erlang: 4 connected Erlang nodes (Debian's erlang-base), doing nothing;
#   - etcd: a three-member etcd (Debian's etcd-server) with Troupe's Raft timing as near as
#     etcd takes it (election timeout 250 ms, heartbeat 50 ms), as scripts/bench/run.sh runs it.
# CPU is utime + stime of /proc/PID/stat (every thread of the process). The goal (issue 18) is
# at most 1% of a core per idle node. Failure detection and failover are measured by the tests
# and scripts/bench/run.sh, not here.
#
#   scripts/bench/idle.sh        # WINDOW=20 SETTLE=5
#
# Results: build/bench-idle/results.jsonl (one object per process: bench "idle", system,
# node, cpu_pct) and the table printed at the end. Every process it starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
WINDOW=${WINDOW:-20}
SETTLE=${SETTLE:-5}

scripts/setup.sh
need_packages etcd:etcd-server erl:erlang-base
scripts/build.sh

BIN=$ROOT/build/bin
OUT=$ROOT/build/bench-idle
rm -rf "$OUT" && mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
TICK=$(getconf CLK_TCK)

declare -a PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

# The CPU ticks (user + system) process $1 has used so far.
ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# measure SYSTEM NAME=PID...: the CPU of each process over WINDOW seconds, after SETTLE.
measure() {
  local system=$1
  shift
  sleep "$SETTLE"
  declare -A before=()
  local pair
  for pair in "$@"; do before[$pair]=$(ticks "${pair#*=}"); done
  local t0 t1
  t0=$(date +%s.%N)
  sleep "$WINDOW"
  t1=$(date +%s.%N)
  for pair in "$@"; do
    local pid=${pair#*=} used
    kill -0 "$pid" 2>/dev/null || { echo "idle: $system ${pair%%=*} (pid $pid) exited" >&2; exit 1; }
    used=$(( $(ticks "$pid") - ${before[$pair]} ))
    python3 -c 'import json,sys; s,n,u,tick,t0,t1=sys.argv[1:]; print(json.dumps({"bench":"idle","system":s,"node":n,"cpu_pct":round(100*int(u)/int(tick)/(float(t1)-float(t0)),2)}))' \
      "$system" "${pair%%=*}" "$used" "$TICK" "$t0" "$t1" | tee -a "$RESULTS"
  done
}

# Succeeds when the cluster at 127.0.0.1:$1 has $2 members up.
members_up() {
  "$BIN/troupe" status --json --connect "127.0.0.1:$1" --timeout 1s 2>/dev/null \
    | python3 -c 'import json,sys; sys.exit(0 if sum(m["state"] == "up" for m in json.load(sys.stdin)["members"]) == int(sys.argv[1]) else 1)' "$2"
}

# Waits (bounded) until `$@` succeeds.
until_ok() {
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "idle: gave up waiting for: $*" >&2
  return 1
}

# -- Troupe: a local cluster of a coordinator and 3 workers -------------------------------------
port=$(free_port)
"$BIN/troupe" run --workers 3 --name idle --cluster-port "$port" --http-port 0 \
  --data-dir "$OUT/local" --log-level warn >"$OUT/local.log" 2>&1 &
PIDS+=($!)
coord=$!
connect=(--connect "127.0.0.1:$port")
until_ok members_up "$port" 4
pairs=("idle=$coord")
for k in 1 2 3; do
  pid=$("$BIN/troupe" status --json "${connect[@]}" \
    | python3 -c 'import json,sys; n=sys.argv[1]; print(next(m["pid"] for m in json.load(sys.stdin)["members"] if m["name"]==n))' "idle-worker-$k")
  pairs+=("idle-worker-$k=$pid")
done
echo "troupe-local: measuring ${pairs[*]} for ${WINDOW}s"
measure troupe-local "${pairs[@]}"
kill -TERM "$coord"
for _ in $(seq 1 100); do kill -0 "$coord" 2>/dev/null || break; sleep 0.1; done

# -- Troupe: a group of three coordinators ------------------------------------------------------
ports=($(free_port) $(free_port) $(free_port))
peers="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
pairs=()
for i in 0 1 2; do
  "$BIN/troupe" run --coordinator --name "c$i" --peers "$peers" --cluster-port "${ports[$i]}" \
    --http-port 0 --data-dir "$OUT/group/c$i" --log-level warn >"$OUT/group-c$i.log" 2>&1 &
  PIDS+=($!)
  pairs+=("c$i=$!")
done
until_ok members_up "${ports[0]}" 3
echo "troupe-group: measuring ${pairs[*]} for ${WINDOW}s"
measure troupe-group "${pairs[@]}"
for p in "${pairs[@]}"; do kill -TERM "${p#*=}" 2>/dev/null || true; done

# -- Erlang: 4 connected nodes ------------------------------------------------------------------
host=$(hostname -s)
pairs=()
for i in 1 2 3 4; do
  erl -sname "idle$i" -setcookie troupe-idle-bench -noshell -noinput >"$OUT/erl-$i.log" 2>&1 &
  PIDS+=($!)
  pairs+=("idle$i=$!")
done
connect_erlang() {
  erl -sname idleprobe -setcookie troupe-idle-bench -noshell -noinput -eval "
    Ns = ['idle1@$host', 'idle2@$host', 'idle3@$host', 'idle4@$host'],
    [pong = net_adm:ping(N) || N <- Ns],
    [ok = rpc:call(N, lists, foreach, [fun(M) -> pong = net_adm:ping(M) end, Ns]) || N <- Ns],
    3 = length(rpc:call('idle1@$host', erlang, nodes, [])) - 1,
    halt(0)."
}
until_ok connect_erlang
echo "erlang: measuring ${pairs[*]} for ${WINDOW}s"
measure erlang "${pairs[@]}"
for p in "${pairs[@]}"; do kill -TERM "${p#*=}" 2>/dev/null || true; done

# -- etcd: three members ------------------------------------------------------------------------
client=($(free_port) $(free_port) $(free_port))
peer=($(free_port) $(free_port) $(free_port))
cluster="e0=http://127.0.0.1:${peer[0]},e1=http://127.0.0.1:${peer[1]},e2=http://127.0.0.1:${peer[2]}"
pairs=()
for i in 0 1 2; do
  etcd_member "e$i" "$OUT/etcd/e$i" "${client[$i]}" "${peer[$i]}" "$cluster" "$OUT/etcd-e$i.log"
  PIDS+=($!)
  pairs+=("e$i=$!")
done
until_ok curl -sf "http://127.0.0.1:${client[0]}/health"
echo "etcd: measuring ${pairs[*]} for ${WINDOW}s"
measure etcd "${pairs[@]}"

python3 - "$RESULTS" "$WINDOW" <<'EOF' | tee "$OUT/results.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
systems = []
for r in rows:
    if r["system"] not in systems:
        systems.append(r["system"])
print(f"Idle CPU, % of one core per process over {sys.argv[2]} s (goal: at most 1% per node)\n")
print("| system | per process | mean per node |")
print("|---|---|---|")
for s in systems:
    rs = [r for r in rows if r["system"] == s]
    each = ", ".join(f'{r["node"]} {r["cpu_pct"]:.2f}' for r in rs)
    mean = sum(r["cpu_pct"] for r in rs) / len(rs)
    print(f"| {s} | {each} | {mean:.2f} |")
EOF
