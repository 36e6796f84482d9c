#!/usr/bin/env bash
# Makes what a dev or test cluster needs for mutual TLS, with the `openssl` command: a CA, one
# certificate per node name (common name and DNS alternative name = the name, which must be
# the node's --name), and an operator client certificate (common name `operator`).
#   scripts/certs.sh DIR [--coordinator] NAME... [--worker NAME...]
# The names after --coordinator get a coordinator's certificate (organizational unit
# `coordinator`): in a group of several coordinators, Raft messages are taken only from those.
# The names after --worker (or before any flag) get a member's certificate.
# writes DIR/ca.pem (give it to every node and client as --tls-ca / $TROUPE_TLS_CA),
# DIR/ca.key (keep it apart: it signs new certificates), DIR/NAME.pem + DIR/NAME.key for each
# NAME (--tls-cert, --tls-key) and DIR/operator.pem + DIR/operator.key ($TROUPE_TLS_CERT,
# $TROUPE_TLS_KEY for `troupe ctl`, `kv`, `status`, `console`). Keys are P-256, certificates
# valid for DAYS (default 365) days. An existing CA in DIR is reused, so a node can be added
# later: `scripts/certs.sh DIR new-node`.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: scripts/certs.sh DIR [--coordinator] NAME... [--worker NAME...] (the node names, as their --name)" >&2
  exit 64
fi
dir=$1
shift
days=${DAYS:-365}
command -v openssl >/dev/null || { echo "certs.sh: the openssl command is missing (apt-get install openssl)" >&2; exit 69; }
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$days" -subj "/CN=troupe-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  echo "certs: made the CA $dir/ca.pem"
fi
issue() { # NAME [UNIT]: a key and a certificate signed by the CA, naming NAME
  local name=$1 subject="/CN=$1"
  [ -n "${2:-}" ] && subject="/OU=$2/CN=$1"
  if ! [[ $name =~ ^[A-Za-z0-9._-]{1,64}$ ]]; then
    echo "certs.sh: '$name' is not a node name (1-64 of letters, digits, '-', '_', '.')" >&2
    exit 64
  fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$name.key" \
    -out "$dir/$name.csr" -subj "$subject" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$dir/$name.pem" -days "$days" \
    -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$name") \
    2>/dev/null
  rm -f "$dir/$name.csr"
  echo "certs: $dir/$name.pem and $dir/$name.key for $name${2:+ ($2)}"
}
unit=""
for name in "$@"; do
  case "$name" in
    --coordinator) unit=coordinator ;;
    --worker) unit="" ;;
    *) issue "$name" "$unit" ;;
  esac
done
[ -f "$dir/operator.pem" ] || issue operator
chmod 644 "$dir"/*.pem
