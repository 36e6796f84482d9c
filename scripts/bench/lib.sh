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
