#!/usr/bin/env bash
# The role actors' typed interfaces catch mistakes at compile time: tests/typed/
# interface_checks.cpp compiles as check 0 (correct use of the interfaces) and fails to compile
# as every other check (a wrong argument, a wrong reply type, a message for another role, a
# message no role takes, a behavior missing part of its interface), each refused by CAF's
# type checks: a static assertion, or no request() overload for a message outside the
# interface.
# Usage: typed_interfaces_test.sh SOURCE_DIR BUILD_DIR CXX
set -euo pipefail
src=$(realpath "$1")
bin=$(realpath "$2")
cxx=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compile() {
  "$cxx" -std=c++17 -I"$src" -I"$bin" -fsyntax-only -DCHECK="$1" \
    "$src/tests/typed/interface_checks.cpp" 2>"$work/err.txt"
}
compile 0 || { cat "$work/err.txt"; echo "typed_interfaces: the correct uses do not compile"; exit 1; }
bad=0
for check in 1 2 3 4 5; do
  if compile "$check"; then
    echo "typed_interfaces: check $check compiled, but its mistake should not"
    bad=1
  elif why=$(grep -m1 -oE "static assertion failed: .*|no matching function for call to .*>::(request|send)\(" "$work/err.txt"); then
    case "$why" in
      static*) echo "typed_interfaces: check $check refused: $why" ;;
      *) echo "typed_interfaces: check $check refused: no request() or send() takes the message" ;;
    esac
  else
    echo "typed_interfaces: check $check failed for another reason:"
    head -n 20 "$work/err.txt"
    bad=1
  fi
done
exit "$bad"
