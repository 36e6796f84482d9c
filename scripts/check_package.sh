#!/usr/bin/env bash
# Checks the installed CMake package as a user meets it: installs the build into build/stage,
# builds examples/custom_node against it with find_package(troupe), starts that custom node as
# a cluster of one, deploys its own actor type and checks the reply to one request; then the
# same with examples/bank_account (2 workers): a typed request from its own client and the
# error for a type it never registered. Called by
# scripts/test.sh after the test suite; every process it starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stage=$root/build/stage
out=$root/build/custom_node
rm -rf "$stage" "$out/data"
cmake --install build --prefix "$stage" >"$root/build/install.log"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S examples/custom_node -B "$out" -DCMAKE_PREFIX_PATH="$stage" "${launcher[@]}" \
  >"$out.configure.log" 2>&1 || { cat "$out.configure.log"; exit 1; }
cmake --build "$out" -j 2 >"$out.build.log" 2>&1 || { cat "$out.build.log"; exit 1; }
bin=$out/custom_node

port=""
for _ in $(seq 1 200); do
  p=$((20000 + RANDOM % 12000))
  if ! ss -ltnH "sport = :$p" | grep -q .; then port=$p; break; fi
done
[ -n "$port" ] || { echo "check_package: no free port" >&2; exit 1; }
# The node and the commands below share the cluster's cookie, as a user's would.
(umask 077 && openssl rand -hex 32 >"$out/cookie")
export TROUPE_CLUSTER_SECRET_FILE="$out/cookie"
"$bin" run --cluster-port "$port" --http-port 0 --data-dir "$out/data" >"$out/node.log" 2>&1 &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
connect=(--connect "127.0.0.1:$port")
for _ in $(seq 1 100); do
  "$bin" ctl "${connect[@]}" deploy hello greeter --config greeting=Bonjour >/dev/null 2>&1 && break
  sleep 0.1
done
reply=""
for _ in $(seq 1 100); do
  reply=$("$bin" ctl "${connect[@]}" request hello anna world 2>/dev/null) && break
  sleep 0.1
done
case "$reply" in
  "Bonjour, world (vnode "*")") echo "check_package: custom node built against the installed package answered: $reply" ;;
  *) echo "check_package: unexpected reply '$reply'; node log:" >&2; cat "$out/node.log" >&2; exit 1 ;;
esac
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
trap - EXIT
[ "$code" = 0 ] || { echo "check_package: the custom node exited $code on SIGTERM" >&2; exit 1; }

# The bank-account example: messages of its own types through routing, from its own client.
bank_out=$root/build/bank_account
rm -rf "$bank_out/data"
cmake -S examples/bank_account -B "$bank_out" -DCMAKE_PREFIX_PATH="$stage" "${launcher[@]}" \
  >"$bank_out.configure.log" 2>&1 || { cat "$bank_out.configure.log"; exit 1; }
cmake --build "$bank_out" -j 2 >"$bank_out.build.log" 2>&1 || { cat "$bank_out.build.log"; exit 1; }
bank=$bank_out/bank
"$bank" run --workers 2 --cluster-port "$port" --http-port 0 --data-dir "$bank_out/data" \
  >"$bank_out/node.log" 2>&1 &
pid=$!
trap stop EXIT
for _ in $(seq 1 100); do
  "$bank" ctl "${connect[@]}" deploy accounts bank-account >/dev/null 2>&1 && break
  sleep 0.1
done
reply=""
for _ in $(seq 1 100); do
  reply=$("$bank" client "--connect=127.0.0.1:$port" deposit alice 100 2>/dev/null) && break
  sleep 0.1
done
[ "$reply" = "alice: 100" ] \
  || { echo "check_package: the bank client got '$reply'; node log:" >&2; cat "$bank_out/node.log" >&2; exit 1; }
if err=$("$bank" client "--connect=127.0.0.1:$port" audit alice 2>&1); then
  echo "check_package: an unregistered type was sent: $err" >&2; exit 1
fi
case "$err" in
  *"cannot send bank::audit"*) ;;
  *) echo "check_package: the unregistered type's error does not name it: $err" >&2; exit 1 ;;
esac
echo "check_package: the bank example built against the installed package answered: $reply; $err"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
trap - EXIT
[ "$code" = 0 ] || { echo "check_package: the bank node exited $code on SIGTERM" >&2; exit 1; }
