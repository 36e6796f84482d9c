#!/usr/bin/env bash
# The demo: installs, builds, and starts a local cluster -- one coordinator supervising 3 worker
# processes on loopback -- then prints the cluster's status every few seconds. Partway through it
# SIGKILLs a worker so you can watch the coordinator see it down and restart it. Ctrl-C stops
# the coordinator, which stops its workers gracefully; nothing is left running. On the second
# round it writes and reads the cluster's replicated KV namespace with `troupe kv`, deploys the
# word-count example over the vnodes and sends it events with `troupe ctl`. On the fourth it
# inspects actors as the console does: spawns one on a worker, asks it, kills it and watches its
# supervisor restart it (`troupe console --connect 127.0.0.1:PORT` does the same interactively),
# then crashes a worker's router, a service under the node's supervision tree, and shows it
# restarted.
# The nodes run the migrations example (the stock binary plus three run-once migrations, see
# examples/migrations): the first round lists them, done once by the main worker before any
# deployment started. On the fifth it broadcasts on the bus: a bulletin actor on one worker
# gets a broadcast from another, and a persisted one reaches a subscriber that came later. On
# the sixth it creates a job queue, submits 200 sleep-job jobs and one that fails, and shows
# the queue and its dead letter, starts a long-running task and uses a replicated set. On the
# seventh it runs the file-ingest example: files dropped in a folder, counted once each. On the
# eighth it starts a second, small cluster of the bank-account example (messages of its own
# types through routing, typed replies, its own client) and stops it again.
# Writes show the cookie the coordinator made in its data dir ($TROUPE_CLUSTER_SECRET_FILE).
# Env: WORKERS (3), PORT (8139), DEMO_CHAOS (1: kill a worker once; 0: don't).
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the binaries the demo runs (the test suite builds the rest when it runs).
TARGETS="troupe troupe-migrations-example troupe-bank-example" scripts/build.sh
bin=build/bin/troupe-migrations-example
workers="${WORKERS:-3}"
port="${PORT:-8139}"
data="$(mktemp -d /tmp/troupe-demo.XXXXXX)"
export TROUPE_EXAMPLE_MIGRATIONS_DIR="$data/migrations"
mkdir -p "$TROUPE_EXAMPLE_MIGRATIONS_DIR"

echo "== troupe demo: 1 coordinator + $workers workers on 127.0.0.1:$port (data in $data)"
echo "== logs: $data/troupe.log   status: $bin status --connect 127.0.0.1:$port   web view http://127.0.0.1:$((port + 1))/"
"$bin" run --workers "$workers" --name demo --cluster-port "$port" --data-dir "$data/node" \
  --pid-file "$data/troupe.pid" >"$data/troupe.log" 2>&1 &
coord=$!
bank_pid=""

stop_bank() {
  [ -n "$bank_pid" ] || return 0
  kill -TERM "$bank_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$bank_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$bank_pid" 2>/dev/null || true
  wait "$bank_pid" 2>/dev/null || true
  bank_pid=""
}

stop() {
  trap - INT TERM
  stop_bank
  echo
  echo "== stopping the coordinator (pid $coord); it stops its workers first"
  kill -TERM "$coord" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$coord" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$coord" 2>/dev/null || true
  wait "$coord" 2>/dev/null || true
  echo "== last log lines:"
  tail -n 8 "$data/troupe.log"
  echo "== stopped; data and full log kept in $data"
  exit 0
}
trap stop INT TERM

for _ in $(seq 1 100); do
  "$bin" status --connect "127.0.0.1:$port" --timeout 1s >/dev/null 2>&1 && break
  kill -0 "$coord" 2>/dev/null || { cat "$data/troupe.log"; echo "== the coordinator exited"; exit 1; }
  sleep 0.1
done

# The coordinator made the cluster's cookie in its data dir: the demo's commands that change
# anything show it (a client run where the node keeps ./troupe-data would find it alone).
export TROUPE_CLUSTER_SECRET_FILE="$data/node/cookie"
echo "== the cluster's cookie: $TROUPE_CLUSTER_SECRET_FILE (writes need it; reads do not)"

round=0
while kill -0 "$coord" 2>/dev/null; do
  round=$((round + 1))
  echo
  echo "== $(date +%T) cluster status (Ctrl-C to stop)"
  "$bin" status --connect "127.0.0.1:$port" --timeout 2s || true
  if [ "$round" = 1 ]; then
    sleep 1
    echo "== demo: run-once migrations, run by the main worker before any deployment starts"
    "$bin" ctl --connect "127.0.0.1:$port" migrations || true
    echo "== $TROUPE_EXAMPLE_MIGRATIONS_DIR/migrations.log (one line: 001-stamp ran once):"
    cat "$TROUPE_EXAMPLE_MIGRATIONS_DIR/migrations.log" 2>/dev/null || true
  fi
  if [ "$round" = 5 ] && [ "$workers" -ge 2 ]; then
    c=(--connect "127.0.0.1:$port")
    addr() { "$bin" status --connect "127.0.0.1:$port" | awk -v n="$1" '$1 == n { print $2 }'; }
    w1=$(addr demo-worker-1); w3=$(addr "demo-worker-$workers")
    echo "== demo: the broadcast bus; a bulletin actor on demo-worker-$workers subscribes to cafe/menu"
    "$bin" ctl --connect "$w3" spawn bulletin --name board cafe menu >/dev/null || true
    sleep 0.3
    "$bin" ctl --connect "$w1" publish menu soup --namespace cafe || true
    "$bin" ctl --connect "$w1" publish menu cake --namespace cafe --persist || true
    sleep 0.3
    echo -n "the bulletin on demo-worker-$workers received: "
    "$bin" ctl --connect "$w3" ask board show || true
    echo "== a subscriber that comes later still gets the persisted one:"
    "$bin" ctl --connect "$w3" subscribe menu --namespace cafe --count 1 --wait 3s 2>/dev/null || true
  fi
  if [ "$round" = 2 ]; then
    echo "== demo: the cluster's KV namespace, kept through Raft in $data/node/raft"
    "$bin" kv put demo/greeting "hello from round $round" --connect "127.0.0.1:$port" || true
    "$bin" kv put demo/started "$(date +%T)" --connect "127.0.0.1:$port" || true
    "$bin" kv list demo/ --connect "127.0.0.1:$port" || true
    echo "== demo: deploy word-count on every vnode, send events by key, ask for a count"
    "$bin" ctl --connect "127.0.0.1:$port" deploy words word-count || true
    sleep 0.5 # the workers start their instances once the deployment reaches them
    printf 'apple\tred\npear\tgreen\napple\tgreen\n' |
      "$bin" ctl --connect "127.0.0.1:$port" send words --stdin || true
    echo -n "apple was seen this many times: "
    "$bin" ctl --connect "127.0.0.1:$port" request words apple || true
    "$bin" ctl --connect "127.0.0.1:$port" deployments || true
    echo "== demo: a durable deployment: its events are logged through Raft; a crash loses none it acknowledged"
    "$bin" ctl --connect "127.0.0.1:$port" deploy tally word-count --durable --delivery at-least-once || true
    sleep 0.5
    for i in $(seq 1 3000); do printf 'k%d\tx\n' $((i % 3)); done |
      "$bin" ctl --connect "127.0.0.1:$port" send tally --stdin || true
  fi
  if [ "$round" = 5 ]; then
    echo "== after demo-worker-2's SIGKILL the durable tally still counts each of its 3,000 events once (1,000 per key):"
    for k in k0 k1 k2; do
      echo -n "$k: "
      "$bin" ctl --connect "127.0.0.1:$port" request tally "$k" "" || true
    done
    echo "== its instance records (snapshots and events logged since), in the cluster state, not the KV:"
    "$bin" ctl --connect "127.0.0.1:$port" snapshots tally | awk 'NR == 1 || $4 > 0' || true
  fi
  if [ "$round" = 4 ]; then
    c=(--connect "127.0.0.1:$port")
    echo "== demo: actor inspection (interactive: $bin console --connect 127.0.0.1:$port)"
    echo -n "spawned on demo-worker-1 as: "
    "$bin" ctl "${c[@]}" spawn word-count --node demo-worker-1 --name counter || true
    echo -n "ask counter hello -> "
    "$bin" ctl "${c[@]}" ask counter hello || true
    "$bin" ctl "${c[@]}" actors --node demo-worker-1 --limit 8 || true
    "$bin" ctl "${c[@]}" kill counter --reason "demo" || true
    sleep 0.5
    echo "== after the kill its supervisor restarted it (restarts 1):"
    "$bin" ctl "${c[@]}" inspect counter || true
    "$bin" ctl "${c[@]}" tree --node demo-worker-1 | grep -v "^.*words:" | head -n 12 || true
    echo "== every role is supervised: crash demo-worker-1's router; its supervisor starts it again"
    "$bin" ctl "${c[@]}" kill router --node demo-worker-1 || true
    sleep 0.3
    "$bin" ctl "${c[@]}" tree --node demo-worker-1 | grep -E "services|router" || true
    echo "== the worker's recent warnings:"
    "$bin" ctl "${c[@]}" logs --node demo-worker-1 --level warn --lines 3 || true
  fi
  if [ "$round" = 6 ]; then
    c=(--connect "127.0.0.1:$port")
    echo "== demo: shared work: a queue of sleep-job jobs handed to idle worker slots"
    "$bin" ctl "${c[@]}" queue create naps sleep-job --slots-per-worker 2 --timeout 5s \
      --max-attempts 2 --backoff 200ms || true
    seq 1 200 | sed 's/.*/10/' | "$bin" ctl "${c[@]}" jobs submit naps --stdin >/dev/null || true
    "$bin" ctl "${c[@]}" jobs submit naps fail >/dev/null || true
    sleep 1.5
    "$bin" ctl "${c[@]}" jobs naps || true
    echo "== the job that failed twice is a dead letter (ctl jobs retry naps puts it back):"
    "$bin" ctl "${c[@]}" jobs dead naps || true
    echo "== a long-running task: 4 beacon instances placed over the workers, a fair share each"
    "$bin" ctl "${c[@]}" tasks start beats beacon --instances 4 --config interval-ms=500 || true
    sleep 0.5
    "$bin" ctl "${c[@]}" tasks || true
    echo "== a replicated set (state such as the files already processed):"
    "$bin" ctl "${c[@]}" set add processed report.csv || true
    echo -n "processed has report.csv: "
    "$bin" ctl "${c[@]}" set contains processed report.csv || true
  fi
  if [ "$round" = 7 ]; then
    c=(--connect "127.0.0.1:$port")
    echo "== demo: file ingest: a prospector task submits a job per file dropped in $data/incoming"
    mkdir -p "$data/incoming" "$data/staging"
    "$bin" ctl "${c[@]}" queue create ingest line-count --slots-per-worker 2 --timeout 5s || true
    "$bin" ctl "${c[@]}" tasks start prospect file-prospector --instances 2 \
      --config "dir=$data/incoming" --config "output=$data/counts.tsv" --config interval-ms=100 || true
    for n in 3 5 8; do
      seq 1 "$n" >"$data/staging/file-$n.txt"
      mv "$data/staging/file-$n.txt" "$data/incoming/" # by rename: never seen half written
    done
    sleep 1.5
    echo "== $data/counts.tsv (each file once, with its line count):"
    sort "$data/counts.tsv" 2>/dev/null || echo "(not written yet)"
    echo -n "files in the set of processed files: "
    "$bin" ctl "${c[@]}" set list ingested | tr '\n' ' ' || true
    echo
  fi
  if [ "$round" = 8 ]; then
    bank=build/bin/troupe-bank-example
    bport=$((port + 20))
    echo "== demo: messages of your own types (examples/bank_account): a second cluster on 127.0.0.1:$bport"
    "$bank" run --workers 2 --name bank --cluster-port "$bport" --http-port 0 --data-dir "$data/bank" \
      >"$data/bank.log" 2>&1 &
    bank_pid=$!
    b=(--connect "127.0.0.1:$bport")
    for _ in $(seq 1 100); do "$bank" ctl "${b[@]}" deploy accounts bank-account >/dev/null 2>&1 && break; sleep 0.1; done
    for _ in $(seq 1 100); do "$bank" ctl "${b[@]}" request accounts alice >/dev/null 2>&1 && break; sleep 0.1; done
    echo "\$ bank client deposit alice 100   (a bank::deposit, answered with a bank::balance)"
    "$bank" client "--connect=127.0.0.1:$bport" deposit alice 100 || true
    echo "\$ bank client withdraw alice 300  (the instance's own error)"
    "$bank" client "--connect=127.0.0.1:$bport" withdraw alice 300 || true
    echo "\$ bank client audit alice         (a type it never registered: refused where it is sent)"
    "$bank" client "--connect=127.0.0.1:$bport" audit alice || true
    teller=$("$bank" ctl "${b[@]}" spawn teller --node bank-worker-2 2>/dev/null || true)
    echo "\$ ctl ask $teller \"withdraw alice 30\"  (a teller actor on bank-worker-2 asks with troupe::request)"
    "$bank" ctl "${b[@]}" ask "$teller" "withdraw alice 30" || true
    stop_bank
    echo "== the bank cluster stopped"
  fi
  if [ "${DEMO_CHAOS:-1}" = 1 ] && [ "$round" = 3 ] && [ "$workers" -ge 2 ]; then
    victim=$("$bin" status --connect "127.0.0.1:$port" | awk '$1 == "demo-worker-2" { print $5 }')
    echo "== demo: SIGKILL demo-worker-2 (pid $victim): watch it go down and come back with a new pid"
    kill -KILL "$victim"
    sleep 0.05
    "$bin" status --connect "127.0.0.1:$port" --timeout 2s || true
    echo "== the coordinator saw it down; its supervisor restarts it after a short backoff:"
    sleep 1
    grep -E "supervisor\].*demo-worker-2" "$data/troupe.log" | tail -n 2
    continue
  fi
  sleep 3
done
echo "== the coordinator exited:"; tail -n 20 "$data/troupe.log"; exit 1
