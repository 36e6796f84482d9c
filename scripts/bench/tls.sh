#!/usr/bin/env bash
# What mutual TLS costs, side by side in one run with the same binaries: KV puts to a group of
# three coordinators (fsync on, 64-byte values, 1 and 16 in flight for SECONDS_PER_LOAD each,
# troupe_bench) and the batched event path (`troupe ctl send --stdin` of EVENTS lines to a
# word-count deployment on a local cluster of a coordinator and 2 workers, at-most-once and
# at-least-once), once with plain links and once with TLS on every link (certificates from
# scripts/certs.sh, the clients with the operator's), alternating which goes first, TRIALS
# times. Reports medians and tls / plain.
#
#   scripts/bench/tls.sh        # SECONDS_PER_LOAD=5 EVENTS=300000 TRIALS=3
#
# Results: build/bench-tls/results.jsonl and the table printed at the end. Every process it
# starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-5}
EVENTS=${EVENTS:-300000}
TRIALS=${TRIALS:-3}
TARGETS="troupe troupe_bench" scripts/build.sh
BIN=$ROOT/build/bin
OUT=$ROOT/build/bench-tls
rm -rf "$OUT"
mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
scripts/certs.sh "$OUT/certs" --coordinator c0 c1 c2 bench >/dev/null
python3 - "$EVENTS" >"$OUT/events.tsv" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    sys.stdout.write(f"k{i % 10007}\tpayload-{i:08d}\n")
PY

declare -a PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done # bounded
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_all EXIT


# tls_flags MODE NAME: a node's TLS flags (none for plain).
tls_flags() {
  [ "$1" = tls ] && echo "--tls-ca=$OUT/certs/ca.pem --tls-cert=$OUT/certs/$2.pem --tls-key=$OUT/certs/$2.key"
  return 0
}

# client MODE CMD...: a client command, with the operator's certificate for tls.
client() {
  local mode=$1
  shift
  if [ "$mode" = tls ]; then
    TROUPE_TLS_CA=$OUT/certs/ca.pem TROUPE_TLS_CERT=$OUT/certs/operator.pem \
      TROUPE_TLS_KEY=$OUT/certs/operator.key "$@"
  else
    "$@"
  fi
}

kv_run() {
  local mode=$1 data ports peers
  data=$(mktemp -d "$OUT/group.XXXXXX")
  ports=($(free_port) $(free_port) $(free_port))
  peers="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
  for i in 0 1 2; do
    # shellcheck disable=SC2046
    "$BIN/troupe" run --coordinator --name "c$i" --peers "$peers" --cluster-port "${ports[$i]}" \
      --http-port 0 --data-dir "$data/c$i" --log-level warn $(tls_flags "$mode" "c$i") \
      >"$data/c$i.log" 2>&1 &
    PIDS+=($!)
  done
  client "$mode" "$BIN/troupe_bench" ready --system troupe --endpoints "$peers"
  for k in 1 16; do
    client "$mode" "$BIN/troupe_bench" load --system troupe --endpoints "$peers" --in-flight "$k" \
      --seconds "$SECONDS_PER_LOAD" | sed "s/^{/{\"bench\":\"kv\",\"mode\":\"$mode\",/" \
      | tee -a "$RESULTS"
  done
  stop_all
  rm -rf "$data"
}

send_run() {
  local mode=$1 delivery=$2 port data c s e
  port=$(free_port)
  data=$(mktemp -d "$OUT/node.XXXXXX")
  # shellcheck disable=SC2046
  "$BIN/troupe" run --workers 2 --name bench --cluster-port "$port" --http-port 0 \
    --data-dir "$data" --log-level warn $(tls_flags "$mode" bench) >"$data/node.log" 2>&1 &
  PIDS+=($!)
  c="--connect=127.0.0.1:$port"
  for _ in $(seq 1 200); do # polls until the coordinator and both workers are up
    [ "$(client "$mode" "$BIN/troupe" status "$c" --timeout 1s 2>/dev/null | grep -c ' up ')" -ge 3 ] \
      && break
    sleep 0.1
  done
  client "$mode" "$BIN/troupe" ctl "$c" deploy words word-count --delivery "$delivery" >/dev/null
  for _ in $(seq 1 200); do # until every instance answers
    client "$mode" "$BIN/troupe" ctl "$c" --timeout 1s request words warmup >/dev/null 2>&1 && break
    sleep 0.1
  done
  s=$(date +%s%N)
  client "$mode" "$BIN/troupe" ctl "$c" --timeout 120s send words --stdin <"$OUT/events.tsv" >/dev/null
  e=$(date +%s%N)
  stop_all
  rm -rf "$data"
  python3 -c "import json; print(json.dumps({'bench': 'events', 'mode': '$mode',
    'delivery': '$delivery', 'events': $EVENTS, 'ms': $(((e - s) / 1000000)),
    'per_s': round($EVENTS / max(1, $(((e - s) / 1000000))) * 1000)}))" | tee -a "$RESULTS"
}

for t in $(seq 1 "$TRIALS"); do
  if [ $((t % 2)) -eq 1 ]; then order="plain tls"; else order="tls plain"; fi
  for mode in $order; do
    echo "trial $t: $mode"
    kv_run "$mode"
    send_run "$mode" at-most-once
    send_run "$mode" at-least-once
  done
done

python3 - "$RESULTS" "$TRIALS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(pred, key):
    xs = [r[key] for r in rows if pred(r)]
    return statistics.median(xs) if xs else float("nan")
print(f"\nTLS against plain links, median of {sys.argv[2]} trials")
print("\n| load | plain | tls | tls / plain |")
print("|---|---|---|---|")
for k in (1, 16):
    sel = lambda m: (lambda r: r["bench"] == "kv" and r["mode"] == m and r["in_flight"] == k)
    p, t = med(sel("plain"), "puts_per_s"), med(sel("tls"), "puts_per_s")
    pp, tp = med(sel("plain"), "p50_ms"), med(sel("tls"), "p50_ms")
    print(f"| KV puts, {k} in flight: puts/s (p50) | {p:.0f} ({pp:.2f} ms) | {t:.0f} ({tp:.2f} ms) | {t / p:.2f}x |")
for d in ("at-most-once", "at-least-once"):
    sel = lambda m: (lambda r: r["bench"] == "events" and r["mode"] == m and r["delivery"] == d)
    p, t = med(sel("plain"), "per_s"), med(sel("tls"), "per_s")
    print(f"| `ctl send --stdin`, {d}: events/s | {p:.0f} | {t:.0f} | {t / p:.2f}x |")
PY
