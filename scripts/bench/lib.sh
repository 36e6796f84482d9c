# Shared by the benchmark scripts (sourced).

# A loopback port that is free now, its successor too (a node's default HTTP port).
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    ss -ltnH "sport = :$p" | grep -q . || ss -ltnH "sport = :$((p + 1))" | grep -q . \
      || { echo "$p"; return; }
  done
  return 1
}

# Without TLS a cluster's nodes and clients share its cookie: one for every node and client of
# this run, in DIR ($TROUPE_CLUSTER_SECRET_FILE, which they all read).
share_cookie() {
  local file="$1/cookie"
  [ -f "$file" ] || (umask 077 && openssl rand -hex 32 >"$file")
  export TROUPE_CLUSTER_SECRET_FILE="$file"
}

# Starts, in the background, etcd member NAME (data in DIR, client port CPORT, peer port PPORT,
# the members CLUSTER as etcd's --initial-cluster) with Troupe's Raft timing as near as etcd
# takes it: election timeout 250 ms, heartbeat 50 ms (Troupe's is 75 ms, but etcd wants an
# election timeout of at least five heartbeats). Its log in LOG. The caller takes its pid from $!.
etcd_member() {
  local name=$1 dir=$2 cport=$3 pport=$4 cluster=$5 log=$6
  etcd --name "$name" --data-dir "$dir" \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token troupe-bench \
    --heartbeat-interval 50 --election-timeout 250 \
    --logger zap --log-level error >>"$log" 2>&1 &
}

# need_packages CMD:PACKAGE...: installs (Debian, apt) the package of each command missing.
need_packages() {
  local need=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
  done
  [ ${#need[@]} -eq 0 ] && return
  echo "installing ${need[*]} (Debian) for the comparison..."
  local sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${need[@]}" >/dev/null
}

# An Erlang `-eval` that fails (the scripts retry while a peer node starts) must not leave an
# erl_crash.dump in the working tree.
export ERL_CRASH_DUMP_SECONDS=0

# start_local_cluster BIN OUT NAME: starts `troupe run --workers 3` (data and log in OUT) in
# the background and waits until its 4 members are up. Sets CLUSTER_PID (for stop_local_cluster,
# which the caller's EXIT trap runs) and ENDPOINT (host:port of the coordinator).
CLUSTER_PID=""
start_local_cluster() {
  local bin=$1 out=$2 name=$3 port up=0
  port=$(free_port)
  "$bin/troupe" run --workers 3 --name "$name" --cluster-port "$port" --http-port 0 \
    --data-dir "$out/node" --log-level warn >"$out/node.log" 2>&1 &
  CLUSTER_PID=$!
  ENDPOINT=127.0.0.1:$port
  "$bin/troupe_bench" ready --system troupe --endpoints "$ENDPOINT"
  for _ in $(seq 1 150); do
    up=$("$bin/troupe" status --json --connect "$ENDPOINT" --timeout 1s 2>/dev/null \
      | python3 -c 'import json,sys; print(sum(m["state"] == "up" for m in json.load(sys.stdin)["members"]))' \
      2>/dev/null || echo 0)
    [ "$up" = 4 ] && return 0
    sleep 0.1
  done
  echo "the workers of $name did not come up (log: $out/node.log)" >&2
  return 1
}

# stop_local_cluster: stops what start_local_cluster started, by its pid.
stop_local_cluster() {
  [ -n "$CLUSTER_PID" ] || return 0
  kill -TERM "$CLUSTER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$CLUSTER_PID" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$CLUSTER_PID" 2>/dev/null || true
}
