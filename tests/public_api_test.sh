#!/usr/bin/env bash
# The public API stands apart from the internals: <troupe/troupe.hpp> may include, from this
# repository, only actors/api/*.hpp, nodes/troupe_node.hpp and nodes/troupe_client.hpp (what `cmake --install`
# installs). Lists every repository header the preprocessor opens for it and fails on any
# other.
# Usage: public_api_test.sh SOURCE_DIR CXX
set -euo pipefail
src=$(realpath "$1")
cxx=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # every repository header is then found through -I, by its full path
echo '#include <troupe.hpp>' >main.cpp
"$cxx" -std=c++17 -I"$src" -H -fsyntax-only main.cpp 2>headers.txt || { cat headers.txt; exit 1; }
bad=0
count=0
while IFS= read -r path; do
  path=$(realpath -m "$path")
  case "$path" in
    "$src"/*) count=$((count + 1)) ;;
    *) continue ;;
  esac
  case "$path" in
    "$src"/actors/api/*.hpp | "$src"/nodes/troupe_node.hpp | "$src"/nodes/troupe_client.hpp \
      | "$src"/troupe.hpp) ;;
    *)
      echo "public_api: troupe.hpp reaches the internal header ${path#"$src"/}"
      bad=1
      ;;
  esac
done < <(sed -nE 's/^\.+ //p' headers.txt)
[ "$count" -gt 0 ] || { echo "public_api: no repository header seen"; exit 1; }
[ "$bad" = 0 ] && echo "public_api: troupe.hpp opens $count repository headers, all public"
exit "$bad"
