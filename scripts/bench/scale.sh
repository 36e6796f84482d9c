#!/usr/bin/env bash
# Scaling, plotted (issue 18), in one run on this machine:
#   - events/s of the actor-to-actor path (the bench-pump's one_way, at-most-once, EVENTS
#     events to word-count deployments) against the number of local workers (1-3), of vnodes
#     (64-4096, 2 workers) and of deployments (1-100, 2 workers, the events spread over them);
#   - memory per idle hosted user actor and spawns/s per node: `ctl spawn echo --count SPAWNS`
#     on a worker (the resident memory it added, per actor; the time of the command) against
#     bare CAF 0.17 (`troupe_caf_peer spawn`) and Erlang (`events_bench:main(["spawn", N])`)
#     spawning as many idle actors / processes.
# Each point is the median of TRIALS runs; every plot also shows Erlang's one-way rate between
# two nodes (the same events), measured in the same run. Writes build/bench-scale/results.jsonl, results.md
# and the plots docs/images/scaling-{workers,vnodes,deployments}.png (gnuplot, Debian's
# gnuplot-nox, installed by the script if missing; a QUICK run leaves them in build/bench-scale/).
#
#   scripts/bench/scale.sh            # EVENTS=300000 SPAWNS=100000 TRIALS=3
#   QUICK=1 scripts/bench/scale.sh    # a smoke check: fewer events and spawns, one trial
#
# Every process it starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
# shellcheck source=scripts/bench/cluster_lib.sh
source scripts/bench/cluster_lib.sh
ROOT=$PWD
if [ -n "${QUICK:-}" ]; then
  EVENTS=${EVENTS:-50000} SPAWNS=${SPAWNS:-20000} TRIALS=${TRIALS:-1}
fi
EVENTS=${EVENTS:-300000}
SPAWNS=${SPAWNS:-100000}
TRIALS=${TRIALS:-3}

scripts/setup.sh
need_packages erlc:erlang-base gnuplot:gnuplot-nox
TARGETS="troupe_events_node troupe_caf_peer" scripts/build.sh

start_bench bench-scale

# point SWEEP WORKERS VNODES DEPLOYMENTS: one local cluster, TRIALS one_way runs.
point() {
  local sweep=$1 workers=$2 vnodes=$3 deps=$4 port c list="" d
  port=$(free_port)
  c="--connect=127.0.0.1:$port"
  "$NODE" run --workers "$workers" --vnodes "$vnodes" --name s --cluster-port "$port" \
    --http-port 0 --data-dir "$OUT/s" --log-level warn >"$OUT/s.log" 2>&1 &
  PIDS+=($!)
  VNODES=$vnodes until_ready "$OUT/s.log" "$c" $((workers + 1))
  for ((d = 0; d < deps; d++)); do
    "$NODE" ctl "$c" deploy "d$d" word-count >/dev/null
    list+="${list:+,}d$d"
  done
  spawn_pump "$c" s "d$((deps - 1))"
  for t in $(seq 1 "$TRIALS"); do
    record scale troupe "$(pump "$c" one_way "$list" "$EVENTS" 16 64 "t$t")" \
      "{\"sweep\": \"$sweep\", \"workers\": $workers, \"vnodes\": $vnodes, \"deployments\": $deps}"
  done
  stop_all
  rm -rf "$OUT/s"
}

# The peer on every plot: Erlang's one-way rate between two nodes, same events and payloads.
start_erlang_peer
for t in $(seq 1 "$TRIALS"); do
  record scale erlang "$(erl_run one_way "$EVENTS" 16 64)" '{"sweep": "reference"}'
done
stop_all

for w in 1 2 3; do echo "workers: $w"; point workers "$w" 64 1; done
for v in 64 256 1024 4096; do echo "vnodes: $v"; point vnodes 2 "$v" 1; done
for d in 1 10 100; do echo "deployments: $d"; point deployments 2 64 "$d"; done

# rss_of PID: resident memory of process PID, in bytes.
rss_of() {
  awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"
}

echo "spawning $SPAWNS idle actors: troupe, bare CAF, Erlang"
for t in $(seq 1 "$TRIALS"); do
  port=$(free_port)
  c="--connect=127.0.0.1:$port"
  "$NODE" run --workers 1 --name m --cluster-port "$port" --http-port 0 --data-dir "$OUT/m" \
    --log-level warn >"$OUT/m.log" 2>&1 &
  PIDS+=($!)
  until_ready "$OUT/m.log" "$c" 2
  wpid=$(pid_of "$c" m-worker-1)
  before=$(rss_of "$wpid")
  s=$(date +%s%N)
  "$NODE" ctl "$c" --timeout 300s spawn echo --node m-worker-1 --count "$SPAWNS" --name e \
    >/dev/null
  e=$(date +%s%N)
  after=$(rss_of "$wpid")
  record spawn troupe "{\"count\": $SPAWNS, \"spawns_per_s\": $((SPAWNS * 1000000 / ((e - s) / 1000))),
    \"bytes_per_actor\": $(((after - before) / SPAWNS))}"
  stop_all
  rm -rf "$OUT/m"
  record spawn caf "$("$ROOT/build/bin/troupe_caf_peer" spawn "$SPAWNS")"
  record spawn erlang "$(erl -noshell -noinput -pa "$OUT" \
    -eval "events_bench:main([\"spawn\", \"$SPAWNS\"])")"
done

python3 - "$RESULTS" "$OUT" "$EVENTS" "$SPAWNS" "$TRIALS" <<'EOF'
import json, statistics, sys
path, out, events, spawns, trials = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
erlang = statistics.median(r["msgs_per_s"] for r in rows if r["bench"] == "scale"
                           and r["system"] == "erlang")
open(f"{out}/erlang.txt", "w").write(f"{erlang:.0f}\n")
md = [f"Median of {trials} runs; {events} events of 16 bytes per run; {spawns} idle actors. "
      f"Erlang's one-way rate between two nodes in the same run: {erlang:,.0f} events/s.", ""]
for sweep, field in (("workers", "workers"), ("vnodes", "vnodes"), ("deployments", "deployments")):
    xs = sorted({r[field] for r in rows if r["bench"] == "scale" and r.get("sweep") == sweep})
    md += [f"| {field} | " + " | ".join(str(x) for x in xs) + " |",
           "|---|" + "---|" * len(xs)]
    line = []
    with open(f"{out}/{sweep}.dat", "w") as dat:
        for x in xs:
            v = statistics.median(r["msgs_per_s"] for r in rows if r["bench"] == "scale"
                                  and r.get("sweep") == sweep and r[field] == x)
            dat.write(f"{x} {v:.0f}\n")
            line.append(f"{v:,.0f}")
    md += ["| events/s | " + " | ".join(line) + " |", ""]
def med(system, field):
    return statistics.median(r[field] for r in rows if r["bench"] == "spawn" and r["system"] == system)
md += ["| idle actors | Troupe (hosted user actor) | bare CAF | Erlang | Troupe / bare CAF | Troupe / Erlang |",
       "|---|---|---|---|---|---|"]
for field, label in (("bytes_per_actor", "bytes per actor"), ("spawns_per_s", "spawns/s")):
    t, c, e = med("troupe", field), med("caf", field), med("erlang", field)
    md.append(f"| {label} | {t:,.0f} | {c:,.0f} | {e:,.0f} | {t / c:.2f}x | {t / e:.2f}x |")
open(f"{out}/results.md", "w").write("\n".join(md) + "\n")
print("\n" + "\n".join(md))
EOF

# The README shows the plots of a full run; a QUICK one leaves them in $OUT.
PLOTS=docs/images
[ -n "${QUICK:-}" ] && PLOTS=$OUT
mkdir -p "$PLOTS"
erlang=$(cat "$OUT/erlang.txt")
for sweep in workers vnodes deployments; do
  logx=""
  [ "$sweep" != workers ] && logx="set logscale x 2"
  gnuplot <<EOF
set terminal png size 640,400
set output "$PLOTS/scaling-$sweep.png"
set title "troupe::send, one event at a time, to word-count: events/s against $sweep"
set xlabel "$sweep"
set ylabel "events/s"
set yrange [0:*]
set grid
$logx
set key bottom right
plot "$OUT/$sweep.dat" using 1:2 with linespoints lw 2 pt 7 title "Troupe (median of $TRIALS)", \
  $erlang with lines lw 2 dt 2 title "Erlang one-way, two nodes (same run)"
EOF
done
echo "plots: $PLOTS/scaling-{workers,vnodes,deployments}.png"
