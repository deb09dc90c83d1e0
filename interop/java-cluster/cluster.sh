#!/usr/bin/env bash
# Starts and stops a real Java Aeron Cluster on localhost by hand (Aeron
# 1.51.0, or the version in LEAKLESS_CLUSTER_VERSION, e.g. 1.15.1),
# outside the tests (which start their own nodes through JavaNode /
# JavaCluster):
#
#   bash interop/java-cluster/cluster.sh start [members]   # 1 (default) or 3
#   bash interop/java-cluster/cluster.sh status
#   bash interop/java-cluster/cluster.sh stop
#
# Member i takes client connects on localhost:(20110 + i), ingress stream 101
# (the ports are in EchoNode.java). Every node's pid, output and directories
# live under target/interop/run; `stop` ends the processes it started, by
# pid, and removes that directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
run="$root/target/interop/run"

# Whether member directory $1's process runs (a zombie nobody reaped yet
# does not).
alive() {
  [ -f "$1/pid" ] || return 1
  local state
  state=$(ps -o stat= -p "$(cat "$1/pid")" 2>/dev/null || true)
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

start() {
  local members=${1:-1}
  case "$members" in
    1 | 3) ;;
    *) echo "members must be 1 or 3, not '$members'" >&2; exit 2 ;;
  esac
  if [ -d "$run" ]; then
    echo "a cluster is already there ($run): stop it first" >&2
    exit 1
  fi
  eval "$(bash "$here/prepare.sh" "${LEAKLESS_CLUSTER_VERSION:-1.51.0}")"
  mkdir -p "$run"
  for ((i = 0; i < members; i++)); do
    local m="$run/member-$i"
    mkdir -p "$m/node"
    mkfifo "$m/stdin"
    # The node stops when its stdin closes; a FIFO opened read-write never
    # does, so it runs until `stop`.
    # shellcheck disable=SC2086 # the options are several words
    "$LEAKLESS_JAVA" $LEAKLESS_JAVA_OPTS "-Dleakless.member=$i" "-Dleakless.members=$members" \
      -cp "$LEAKLESS_AERON_CLASSPATH" EchoNode "$m/node" \
      0<>"$m/stdin" >"$m/out" 2>"$m/err" &
    echo $! >"$m/pid"
  done
  for _ in $(seq 1 120); do
    local leader
    leader=$(grep -l "^ROLE LEADER" "$run"/member-*/out 2>/dev/null | head -n 1 || true)
    if [ -n "$leader" ]; then
      echo "leader: $(basename "$(dirname "$leader")") of $members; output under $run"
      return 0
    fi
    sleep 1
  done
  echo "no node became leader within 120 s; see $run/member-*/out and err" >&2
  stop
  exit 1
}

status() {
  [ -d "$run" ] || { echo "no cluster"; return 0; }
  for m in "$run"/member-*; do
    local role
    role=$(grep "^ROLE " "$m/out" | tail -n 1 || true)
    if alive "$m"; then
      echo "$(basename "$m"): pid $(cat "$m/pid") ${role:-ROLE FOLLOWER}"
    else
      echo "$(basename "$m"): stopped"
    fi
  done
}

stop() {
  [ -d "$run" ] || return 0
  # A line on its stdin stops a node cleanly (SIGTERM may be ignored: a
  # JVM keeps the disposition it started with); SIGKILL after 10 s.
  for m in "$run"/member-*; do
    if alive "$m"; then echo stop 1<>"$m/stdin"; fi
  done
  for m in "$run"/member-*; do
    for _ in $(seq 1 100); do
      alive "$m" || break
      sleep 0.1
    done
    alive "$m" && kill -KILL "$(cat "$m/pid")" 2>/dev/null || true
  done
  rm -rf "$run"
}

case "${1:-}" in
  start) start "${2:-1}" ;;
  status) status ;;
  stop) stop ;;
  *) echo "usage: $0 start [1|3] | status | stop" >&2; exit 2 ;;
esac
