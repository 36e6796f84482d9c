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
