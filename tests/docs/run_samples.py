#!/usr/bin/env python3
"""Runs the samples of a Markdown file as a reader would, and fails on the first that does not
do what the text says (CTest: docs.readme_samples, docs.getting_started).

    run_samples.py FILE.md --root REPO --work DIR

The samples run in order, in one bash session whose working directory starts as DIR (emptied
first), where `build` and `scripts` link to the repository's, and whose HOME is DIR/home (so a
guide's `~/my-app` stays inside DIR):

- A ```sh block runs line by line (a line ending in a backslash continues). A line must exit 0,
  unless its comment says otherwise: `#=> TEXT` means its output (stdout and stderr) must
  contain TEXT; `#=> exit N` that it must exit with code N, `#=> exit N: TEXT` both;
  `#=> eventually TEXT` that it must, run again every 0.2 s for at most 30 s, exit 0 with TEXT
  in its output (a condition a reader waits for). Other comments are for the reader.
- A line that starts a node (`... run ...`, the first word a program and the second `run`)
  goes to the background, as a reader runs it in another terminal; the session then waits
  (at most 60 s) until the node's cluster (`--cluster-port`, default 8139) has every member up,
  `--workers N` of them workers. Every node started is stopped at the end by pid (SIGTERM, as
  Ctrl-C would, then SIGKILL after 20 s), also after a failure, and must be gone.
- A block right after a `<!-- file: PATH -->` comment is written to PATH before the next
  step; after `<!-- same as: PATH -->`, its lines must appear, in order and together, in the
  repository's file PATH (a sample that shows an example's code).
- Any other block (ini, text, ...) is not run (ini samples: unit.config).
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

PRELUDE = r'''
set -u
started=()
step=0
stop_nodes() {
  local pid
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done # bounded wait for its exit
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_nodes EXIT
fail() { echo "samples: $SAMPLE_FILE:$1: $2" >&2; [ -f "$out" ] && sed 's/^/  | /' "$out" >&2; exit 1; }
out=$(mktemp)
# run WHERE LINE EXPECT CODE [TRIES]: the line, in this shell (cd and export persist); its
# output must contain EXPECT (when not empty) and its exit code be CODE, within TRIES runs
# 0.2 s apart (default 1).
run() {
  local where=$1 line=$2 expect=$3 want=$4 tries=${5:-1} code=0
  echo "\$ $line" >&2
  for ((try = 1; try <= tries; try++)); do
    code=0
    eval "$line" >"$out" 2>&1 || code=$?
    if [ "$code" = "$want" ] && { [ -z "$expect" ] || grep -qF -- "$expect" "$out"; }; then
      break
    fi
    [ "$try" -lt "$tries" ] && sleep 0.2 # the condition is polled: the line is run again
  done
  sed 's/^/  /' "$out" | head -n 20 >&2
  [ "$code" = "$want" ] || fail "$where" "'$line' exited $code, the text says $want"
  if [ -n "$expect" ] && ! grep -qF -- "$expect" "$out"; then
    fail "$where" "'$line' did not print '$expect'"
  fi
}
# start LINE PORT WORKERS: a node in the background; waits until its cluster is all up.
start() {
  local where=$1 line=$2 port=$3 workers=$4 log
  log=$(mktemp)
  echo "\$ $line   (in the background)" >&2
  # exec: $! is then the node's own pid, not a subshell's that would leave it behind.
  eval "exec $line" >"$log" 2>&1 &
  started+=($!)
  for _ in $(seq 1 600); do # polls every 0.1 s, at most 60 s
    if "$TROUPE_BIN" status --connect "127.0.0.1:$port" --json >"$out" 2>/dev/null \
       && python3 -c '
import json, sys
st = json.load(open(sys.argv[1])); want = int(sys.argv[2])
ms = st["members"]
up = [m for m in ms if m["state"] == "up"]
workers = [m for m in up if "worker" in m["roles"]]
sys.exit(0 if ms and len(up) == len(ms) and len(workers) >= want else 1)' "$out" "$workers"; then
      return 0
    fi
    kill -0 "${started[-1]}" 2>/dev/null || { cat "$log" >"$out"; fail "$where" "'$line' exited"; }
    sleep 0.1 # the status is polled until the condition above holds (600 times at most)
  done
  cat "$log" >"$out"
  fail "$where" "the cluster of '$line' was not all up within 60 s"
}
'''


def steps_of(path):
    """Yields (line number, kind, payload) in file order."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    pending = None  # ("file", PATH) or ("same", PATH) from the comment before a block
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*<!--\s*(file|same as):\s*(\S+)\s*-->", line)
        if m:
            pending = (m.group(1), m.group(2))
            i += 1
            continue
        fence = re.match(r"^```(\w*)\s*$", line)
        if not fence:
            i += 1
            continue
        lang, start = fence.group(1), i + 1
        j = start
        while j < len(lines) and lines[j] != "```":
            j += 1
        body = lines[start:j]
        if pending and pending[0] == "file":
            yield start, "file", (pending[1], "\n".join(body) + "\n")
        elif pending and pending[0] == "same as":
            yield start, "same", (pending[1], body)
        elif lang == "sh":
            k = 0
            while k < len(body):
                text, first = body[k], start + k + 1
                while text.endswith("\\") and k + 1 < len(body):
                    k += 1
                    text = text[:-1] + " " + body[k].strip()
                k += 1
                if text.strip():
                    yield first, "sh", text
        pending = None
        i = j + 1


def split_comment(text):
    """The command and its comment (a '#' outside quotes that starts a word)."""
    quote = None
    for pos, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (pos == 0 or text[pos - 1].isspace()):
            return text[:pos].rstrip(), text[pos + 1:].strip()
    return text.rstrip(), ""


def script_of(path, root):
    out = [PRELUDE]
    for where, kind, payload in steps_of(path):
        if kind == "file":
            target, content = payload
            out.append(f"mkdir -p \"$(dirname {shlex.quote(target)})\"")
            out.append(f"cat > {shlex.quote(target)} <<'TROUPE_SAMPLE_EOF'\n{content}TROUPE_SAMPLE_EOF")
            continue
        if kind == "same":
            target, body = payload
            source = open(os.path.join(root, target), encoding="utf-8").read()
            if "\n".join(body) not in source:
                sys.exit(f"samples: {path}:{where}: this block is not in {target} as it stands")
            continue
        command, comment = split_comment(payload)
        if not command:
            continue
        words = command.split()
        if len(words) >= 2 and words[1] == "run" and "--help" not in words:
            port = re.search(r"--cluster-port[ =](\d+)", command)
            workers = re.search(r"--workers[ =](\d+)", command)
            out.append(f"start {where} {shlex.quote(command)} {port.group(1) if port else 8139} "
                       f"{workers.group(1) if workers else 1}")
            continue
        expect, code, tries = "", 0, 1
        m = re.match(r"=>\s*(.*)$", comment)
        if m:
            said = m.group(1)
            ev = re.match(r"eventually (.*)$", said)
            if ev:
                said, tries = ev.group(1), 150
            e = re.match(r"exit (\d+)(?:: (.*))?$", said)
            if e:
                code, expect = int(e.group(1)), e.group(2) or ""
            else:
                expect = said
        out.append(f"run {where} {shlex.quote(command)} {shlex.quote(expect)} {code} {tries}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--root", required=True, help="the repository")
    ap.add_argument("--work", required=True, help="a folder of the run's own (emptied)")
    a = ap.parse_args()
    root = os.path.realpath(a.root)
    path = os.path.join(root, a.file)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(os.path.join(a.work, "home"))
    for name in ("build", "scripts"):
        os.symlink(os.path.join(root, name), os.path.join(a.work, name))
    script = script_of(path, root)
    with open(os.path.join(a.work, "samples.sh"), "w") as f:
        f.write(script)
    env = dict(os.environ, HOME=os.path.join(a.work, "home"), SAMPLE_FILE=a.file,
               TROUPE_BIN=os.path.join(root, "build", "bin", "troupe"))
    if shutil.which("ccache"):
        # A reader's own builds get no ccache; this run's do, so that running it again is quick.
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = "ccache"
    env.pop("TROUPE_CONNECT", None)
    r = subprocess.run(["bash", os.path.join(a.work, "samples.sh")], cwd=a.work, env=env)
    if r.returncode == 0:
        print(f"samples: every sample of {a.file} did what its text says")
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
