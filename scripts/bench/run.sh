#!/usr/bin/env bash
# Troupe's coordinator group against etcd, measured alike in the same run on this machine:
# three Troupe coordinators and a three-member etcd on loopback, each with fsync on; small puts
# (64 bytes) with 1 and 16 in flight, and Troupe's persisted broadcasts (the same replicated,
# synced write through the bus) against the same etcd puts; then leader failover (SIGKILL the leader, time to the
# first acknowledged put) over TRIALS trials each. etcd runs with the same Raft timing as
# Troupe's defaults (election timeout 250 ms; heartbeat 50 ms, Troupe's 75 ms: see lib.sh).
# TROUPE_ARGS adds options to Troupe's coordinators (e.g. TROUPE_ARGS=--heartbeat-ticks=1).
#
#   scripts/bench/run.sh                 # SECONDS_PER_LOAD=10 TRIALS=5 by default
#   SECONDS_PER_LOAD=5 TRIALS=7 scripts/bench/run.sh
#
# Results: build/bench/results.jsonl (one JSON object per measurement) and the table printed at
# the end (build/bench/results.md). Every process it starts is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-10}
TRIALS=${TRIALS:-5}

scripts/setup.sh
if ! command -v etcd >/dev/null; then
  echo "installing etcd-server (Debian) for the comparison..."
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q etcd-server >/dev/null
fi
scripts/build.sh

BIN=$ROOT/build/bin
OUT=$ROOT/build/bench
rm -rf "$OUT" && mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl

declare -a PIDS=()
# Waits (bounded) until process $1 is gone. Servers are disowned so that bash does not report
# the kills the benchmark makes on purpose; it still reaps them.
gone() {
  for _ in $(seq 1 200); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  echo "process $1 did not exit" >&2
  return 1
}
cleanup() {
  for p in "${PIDS[@]}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    [ -n "$p" ] && gone "$p" || true
  done
}
trap cleanup EXIT

# A free loopback port: random in 20000-32000 and not listening now.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    if ! ss -ltnH "sport = :$p" | grep -q .; then
      echo "$p"
      return
    fi
  done
  echo "no free port found" >&2
  exit 1
}

# measure SYSTEM ENDPOINTS FIRST_PID_SLOT START_FUNCTION: both loads, then TRIALS failovers,
# each followed by a restart of the killed node and a wait for a full, led cluster.
measure() {
  local system=$1 endpoints=$2 slot=$3 start=$4
  "$BIN/troupe_bench" ready --system "$system" --endpoints "$endpoints"
  for k in 1 16; do
    echo "$system: $k in flight for ${SECONDS_PER_LOAD}s"
    "$BIN/troupe_bench" load --system "$system" --endpoints "$endpoints" --in-flight "$k" \
      --seconds "$SECONDS_PER_LOAD" | tee -a "$RESULTS"
    if [ "$system" = troupe ]; then
      echo "$system: persisted broadcasts, $k in flight for ${SECONDS_PER_LOAD}s"
      "$BIN/troupe_bench" load --system troupe --op publish --endpoints "$endpoints" \
        --in-flight "$k" --seconds "$SECONDS_PER_LOAD" | tee -a "$RESULTS"
    fi
  done
  for t in $(seq 1 "$TRIALS"); do
    local line killed
    line=$("$BIN/troupe_bench" failover --system "$system" --endpoints "$endpoints" \
      --pids "${PIDS[$slot]},${PIDS[$((slot + 1))]},${PIDS[$((slot + 2))]}")
    echo "$system failover $t: $line" && echo "$line" >>"$RESULTS"
    killed=$(echo "$line" | sed -n 's/.*"killed":\([0-9]*\).*/\1/p')
    gone "${PIDS[$((slot + killed))]}"
    "$start" "$killed"
    "$BIN/troupe_bench" ready --system "$system" --endpoints "$endpoints"
    sleep 1
  done
}

# -- Troupe -----------------------------------------------------------------------------------
T_PORTS=($(free_port) $(free_port) $(free_port))
T_PEERS="127.0.0.1:${T_PORTS[0]},127.0.0.1:${T_PORTS[1]},127.0.0.1:${T_PORTS[2]}"
start_troupe() {
  local i=$1
  "$BIN/troupe" run --coordinator --name "c$i" --peers "$T_PEERS" --cluster-port "${T_PORTS[$i]}" \
    --http-port 0 --data-dir "$OUT/troupe/c$i" --log-level warn ${TROUPE_ARGS:-} \
    >>"$OUT/troupe-c$i.log" 2>&1 &
  PIDS[$i]=$!
  disown "$!"
}
for i in 0 1 2; do start_troupe "$i"; done
measure troupe "$T_PEERS" 0 start_troupe
for i in 0 1 2; do kill "${PIDS[$i]}"; gone "${PIDS[$i]}"; PIDS[$i]=""; done

# -- etcd -------------------------------------------------------------------------------------
E_CLIENT=($(free_port) $(free_port) $(free_port))
E_PEER=($(free_port) $(free_port) $(free_port))
E_CLUSTER="e0=http://127.0.0.1:${E_PEER[0]},e1=http://127.0.0.1:${E_PEER[1]},e2=http://127.0.0.1:${E_PEER[2]}"
E_ENDPOINTS="127.0.0.1:${E_CLIENT[0]},127.0.0.1:${E_CLIENT[1]},127.0.0.1:${E_CLIENT[2]}"
start_etcd() {
  local i=$1
  etcd_member "e$i" "$OUT/etcd/e$i" "${E_CLIENT[$i]}" "${E_PEER[$i]}" "$E_CLUSTER" "$OUT/etcd-e$i.log"
  PIDS[$((i + 3))]=$!
  disown "$!"
}
for i in 0 1 2; do start_etcd "$i"; done
measure etcd "$E_ENDPOINTS" 3 start_etcd

echo
echo "On $(nproc) cores, $(uname -r), etcd $(etcd --version | sed -n 's/etcd Version: //p'):"
"$BIN/troupe_bench" report "$RESULTS" | tee "$OUT/results.md"
