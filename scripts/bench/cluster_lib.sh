# Shared by events.sh and scale.sh (sourced after lib.sh): clusters of troupe_events_node
# ($NODE) driven through its bench-pump actor, results appended to $RESULTS. Every process a
# script starts goes into PIDS and is stopped by stop_all.

declare -a PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}

# record BENCH SYSTEM JSON [EXTRA_JSON]: appends one measurement (JSON: its figures; EXTRA_JSON:
# fields that say what was measured) to $RESULTS and prints it; fails on {"error": ...}.
record() {
  python3 -c 'import json, sys
m = json.loads(sys.argv[3])
if "error" in m:
    sys.exit("%s %s failed: %s" % (sys.argv[1], sys.argv[2], m["error"]))
extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
print(json.dumps({"bench": sys.argv[1], "system": sys.argv[2], **extra, **m}))' "$@" \
    | tee -a "$RESULTS"
}

# ready CONNECT MEMBERS [NAME MS]: every one of MEMBERS members is up, every worker serves
# vnodes, all ${VNODES:-64} are owned (and member NAME has run MS milliseconds or more).
ready() {
  "$NODE" status "$1" --json --timeout 2s 2>/dev/null | python3 -c '
import json, sys
try:
    ms = json.load(sys.stdin)["members"]
except ValueError:
    sys.exit(1)  # no answer yet
workers = [m for m in ms if "worker" in m["roles"]]
ok = len(ms) == int(sys.argv[2]) and all(m["state"] == "up" for m in ms) \
  and all(m["vnodes"] > 0 for m in workers) and sum(m["vnodes"] for m in workers) == int(sys.argv[1])
if len(sys.argv) > 4:
    ok = ok and any(m["name"] == sys.argv[3] and m["uptime_ms"] >= int(sys.argv[4]) for m in ms)
sys.exit(0 if ok else 1)' "${VNODES:-64}" "${@:2}"
}

# until_ready LOG CONNECT MEMBERS [NAME MS]: waits (30 s at most) for ready.
until_ready() {
  local log=$1
  shift
  for _ in $(seq 1 300); do ready "$@" && return 0; sleep 0.1; done
  tail -n 30 "$log"
  echo "the cluster at $1 did not get ready"
  exit 1
}

# pump CONNECT COMMAND...: asks the bench-pump for one measurement; prints its JSON.
pump() {
  local c=$1
  shift
  "$NODE" ctl "$c" --timeout 600s ask pump "$*"
}

# spawn_pump CONNECT NODE DEPLOYMENT: spawns the pump on NODE; waits until DEPLOYMENT answers
# it.
spawn_pump() {
  "$NODE" ctl "$1" spawn bench-pump --node "$2" --name pump >/dev/null
  for _ in $(seq 1 100); do
    pump "$1" request "$3" 1 >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "deployment $3 does not answer the pump"
  exit 1
}

# pid_of CONNECT NAME: the process id of member NAME.
pid_of() {
  "$NODE" status "$1" --json | python3 -c '
import json, sys
print([m["pid"] for m in json.load(sys.stdin)["members"] if m["name"] == sys.argv[1]][0])' "$2"
}

# start_bench NAME: a fresh build/NAME ($OUT) with its cookie, an empty $RESULTS, $NODE, and
# every process stopped on exit.
start_bench() {
  NODE=$ROOT/build/bin/troupe_events_node
  OUT=$ROOT/build/$1
  rm -rf "$OUT" && mkdir -p "$OUT"
  share_cookie "$OUT"
  RESULTS=$OUT/results.jsonl
  : >"$RESULTS"
  trap stop_all EXIT
}

# start_erlang_peer: compiles erlang/events_bench.erl into $OUT and starts the Erlang node the
# measurements send to (stopped by stop_all).
start_erlang_peer() {
  erlc -o "$OUT" scripts/bench/erlang/events_bench.erl
  ERL_HOST=$(hostname -s)
  erl -sname "peer$$" -setcookie "troupe-bench-$$" -noshell -noinput -pa "$OUT" \
    >"$OUT/erl.log" 2>&1 &
  PIDS+=($!)
}

# erl_run ARGS...: one measurement of events_bench:main([Peer | ARGS]) from a second node;
# prints its JSON (an error object when the peer never answered).
erl_run() {
  local out
  for _ in $(seq 1 50); do
    out=$(erl -sname "send$$" -setcookie "troupe-bench-$$" -noshell -noinput -pa "$OUT" \
      -eval "events_bench:main([\"peer$$@$ERL_HOST\" | string:tokens(\"$*\", \" \")])" \
      2>/dev/null) && { echo "$out"; return; }
    sleep 0.2 # the peer is still starting
  done
  echo '{"error": "the Erlang peer did not answer"}'
}
