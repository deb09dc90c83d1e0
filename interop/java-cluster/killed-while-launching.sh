#!/usr/bin/env bash
# Reproduces what the fault soak ran into (docs/AERON.md, "The fault
# soak"): a Java Aeron Cluster node SIGKILLed while it is launching cannot
# start again, however long one waits. Agrona's MarkFile claims an existing
# mark file by writing Long.MAX_VALUE as its activity timestamp; the
# archive writes a real time only once it is ready. Killed in between, the
# timestamp stays in the far future and every later start reports "active
# mark file detected".
#
# One node on localhost (no lab needed): start it, kill it, start it again
# from its directory and kill it the moment its archive's mark file holds
# Long.MAX_VALUE, wait 15 s (more than the 10 s liveness timeout), start it
# a third time. Prints what each start did; exits 0 when the third start
# failed as described, 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
eval "$(bash "$here/prepare.sh" "${1:-1.51.0}")"
dir="$root/target/interop/killed-while-launching"
rm -rf "$dir"
mkdir -p "$dir"
# The node runs until its stdin closes: a FIFO opened read-write never does.
mkfifo "$dir/stdin"
pid=
gone() { # waits until the node's process has exited
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}
stop() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null || true
    gone
  fi
}
trap 'stop; rm -rf "$dir"' EXIT

start() { # $1: keep the directory (rejoin)
  # shellcheck disable=SC2086 # the options are several words
  "$LEAKLESS_JAVA" $LEAKLESS_JAVA_OPTS -Dleakless.member=0 -Dleakless.members=1 \
    "-Dleakless.keep=$1" -cp "$LEAKLESS_AERON_CLASSPATH" EchoNode "$dir/node" \
    0<>"$dir/stdin" >"$dir/out" 2>"$dir/err" &
  pid=$!
  # Not a job of this shell's: its kills are ours, not worth a report.
  disown "$pid"
}
launched() { # READY within a minute, or the node exited
  for _ in $(seq 1 600); do
    grep -q '^READY' "$dir/out" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start false
launched || { echo "the first start did not launch: $(head -n 1 "$dir/err")"; exit 1; }
echo "1st start: launched; killed (SIGKILL)"
stop; pid=
sleep 12
start true
python3 - "$dir/node/archive/archive-mark.dat" "$pid" <<'PY'
import os, signal, struct, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
until = time.time() + 60
while time.time() < until:
    try:
        head = open(path, 'rb').read(256)
    except OSError:
        continue
    words = [struct.unpack_from('<q', head, at)[0] for at in range(0, len(head) - 7, 8)]
    if 0x7FFFFFFFFFFFFFFF in words:
        os.kill(pid, signal.SIGKILL)
        print("2nd start (from its directory): killed while its archive mark file held Long.MAX_VALUE")
        sys.exit(0)
    try:
        os.kill(pid, 0)
    except OSError:
        break
print("2nd start: the mark file was never seen claimed")
sys.exit(1)
PY
gone
pid=
sleep 15
start true
if launched; then
  echo "3rd start, 15 s later: launched (not reproduced)"
  exit 1
fi
echo "3rd start, 15 s later: $(grep -m 1 'active mark file detected' "$dir/err" || head -n 1 "$dir/err")"
grep -q 'active mark file detected' "$dir/err"
