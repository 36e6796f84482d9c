#!/usr/bin/env bash
# Shared work against the KV store it is built on, on one local cluster in one run (issue 14):
# a coordinator and 3 local workers (`troupe run --workers 3`); KV puts with 1 and 16 clients
# in flight, then jobs submitted by 1 and 16 clients (one submit in flight each) to a queue
# whose handler is `echo` (an empty handler; 64 slots per worker so slots do not bound the
# rate), measured from the first submit until every job is done. A job costs a submit, a
# hand-out and a result, each a Raft write (batched: many jobs per write); a put costs one.
# Also the hand-out latency: the leader's clock from a submit applied to its hand-out planned.
#
#   scripts/bench/jobs.sh          # SECONDS_PER_LOAD=10 by default
#
# Results: build/bench-jobs/results.jsonl and the table printed at the end
# (build/bench-jobs/results.md). Every process it starts is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
ROOT=$PWD
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-10}

scripts/setup.sh
scripts/build.sh

BIN=$ROOT/build/bin
OUT=$ROOT/build/bench-jobs
rm -rf "$OUT" && mkdir -p "$OUT"
share_cookie "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

trap stop_local_cluster EXIT
start_local_cluster "$BIN" "$OUT" jobs

for k in 1 16; do
  echo "KV puts, $k in flight for ${SECONDS_PER_LOAD}s"
  "$BIN/troupe_bench" load --system troupe --endpoints "$ENDPOINT" --in-flight "$k" \
    --seconds "$SECONDS_PER_LOAD" | tee -a "$RESULTS"
  echo "jobs, $k submitting for ${SECONDS_PER_LOAD}s, then until every job is done"
  "$BIN/troupe_bench" load --system troupe --op jobs --value-size 8 --endpoints "$ENDPOINT" \
    --in-flight "$k" --seconds "$SECONDS_PER_LOAD" | tee -a "$RESULTS"
done

echo
echo "On $(nproc) cores, $(uname -r):"
"$BIN/troupe_bench" report "$RESULTS" | tee "$OUT/results.md"
