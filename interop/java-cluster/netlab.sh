#!/usr/bin/env bash
# The network lab: a client host and three node hosts, each a network
# namespace of its own, joined by a bridge in a hub namespace, on a private
# range only these namespaces use (10.231.0.0/24). Needs root, `ip` and
# `nft` (Debian's iproute2 and nftables).
#
#   netlab.sh up            # make the namespaces (fails if any exists)
#   netlab.sh down          # remove them (and everything in them)
#   netlab.sh check-clean   # exit 1 if anything of the lab is left
#   netlab.sh test [RUNS]   # up, the network-fault tests RUNS times (default
#                           # 1), down -- also on failure
#   netlab.sh run CMD...    # up, CMD in the client's namespace, down; e.g.
#                           # the fault soak (build it first, outside):
#     cargo build --release --features java-cluster --example soak
#     bash interop/java-cluster/netlab.sh run target/release/examples/soak \
#       --transport java-cluster --members 3 --faults network
#
# Hosts: client 10.231.0.10 (namespace llab-client), member i 10.231.0.2i
# (llab-n0 .. llab-n2). A link is cut by dropping, in each of the two
# namespaces, what arrives from the other (an nftables set `cut` that the
# tests fill and empty; see src/aeron/netlab.rs); nothing is sent back, so
# a cut looks like a partition, not a refusal. No namespace other than
# these is touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

hub=llab-hub
hosts=(client n0 n1 n2)
declare -A address=([client]=10.231.0.10 [n0]=10.231.0.20 [n1]=10.231.0.21 [n2]=10.231.0.22)

up() {
  for h in hub "${hosts[@]}"; do
    if ip netns list | grep -qw "llab-$h"; then
      echo "llab-$h exists: run '$0 down' first" >&2
      exit 1
    fi
  done
  ip netns add "$hub"
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set br0 up
  ip -n "$hub" link set lo up
  for h in "${hosts[@]}"; do
    local ns="llab-$h"
    ip netns add "$ns"
    # The pair is made inside the hub and one end moved: no interface ever
    # appears in the namespace this script runs in.
    ip -n "$hub" link add "v-$h" type veth peer name eth0 netns "$ns"
    ip -n "$hub" link set "v-$h" master br0 up
    ip -n "$ns" addr add "${address[$h]}/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip netns exec "$ns" nft -f - <<NFT
table inet llab {
  set cut { type ipv4_addr; }
  chain input { type filter hook input priority 0; ip saddr @cut drop; }
}
NFT
  done
  # Every host reaches every other before a test starts.
  for h in "${hosts[@]}"; do
    for other in "${hosts[@]}"; do
      [ "$h" = "$other" ] && continue
      ip netns exec "llab-$h" ping -c 1 -W 2 "${address[$other]}" >/dev/null
    done
  done
  # To stderr: `run` passes the command's standard output through (JSON).
  echo "lab up: client ${address[client]}, members ${address[n0]} ${address[n1]} ${address[n2]}" >&2
}

down() {
  # Processes left in a lab namespace (a node whose test crashed) go first.
  for h in "${hosts[@]}"; do
    local ns="llab-$h"
    if ip netns list | grep -qw "$ns"; then
      local pids
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      if [ -n "$pids" ]; then
        # shellcheck disable=SC2086 # one pid per word
        kill -9 $pids 2>/dev/null || true
      fi
      ip netns del "$ns"
    fi
  done
  if ip netns list | grep -qw "$hub"; then
    ip netns del "$hub"
  fi
}

check_clean() {
  local left=0
  if ip netns list | grep -q '^llab-'; then
    echo "namespaces left: $(ip netns list | grep '^llab-' | tr '\n' ' ')" >&2
    left=1
  fi
  if ip -o link show | grep -qE ' (v-(client|n[0-2])|eth0@)'; then
    echo "lab interfaces left in this namespace" >&2
    left=1
  fi
  if pgrep -f 'leakless.hosts=10.231.0.' >/dev/null; then
    echo "lab nodes still running: $(pgrep -f 'leakless.hosts=10.231.0.' | tr '\n' ' ')" >&2
    left=1
  fi
  if ls -d /tmp/leakless-java-node-* >/dev/null 2>&1; then
    echo "node directories left: $(ls -d /tmp/leakless-java-node-* | tr '\n' ' ')" >&2
    left=1
  fi
  # The client's media driver directory (SteppedDriver: /dev/shm/leakless-*).
  if ls -d /dev/shm/leakless-* >/dev/null 2>&1; then
    echo "media driver directories left: $(ls -d /dev/shm/leakless-* | tr '\n' ' ')" >&2
    left=1
  fi
  return "$left"
}

test_runs() {
  local runs=${1:-1}
  trap down EXIT
  # Built outside the lab (cargo may want the network); run inside it.
  local binary
  binary=$(cd "$root" && cargo test --features java-cluster --test network_faults --no-run \
    --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "network_faults" and m.get("executable"):
        print(m["executable"])')
  [ -n "$binary" ] || { echo "could not build tests/network_faults.rs" >&2; exit 1; }
  for run in $(seq 1 "$runs"); do
    echo "== network faults, run $run of $runs"
    up
    (cd "$root" && LEAKLESS_NETLAB=1 ip netns exec llab-client "$binary" --ignored --test-threads=1 --nocapture)
    down
  done
  trap - EXIT
  check_clean
}

run_in_lab() {
  trap down EXIT
  up
  local status=0
  (cd "$root" && LEAKLESS_NETLAB=1 ip netns exec llab-client "$@") || status=$?
  down
  trap - EXIT
  check_clean
  return "$status"
}

case "${1:-}" in
  up) up ;;
  run)
    shift
    run_in_lab "$@"
    ;;
  down) down ;;
  check-clean) check_clean ;;
  test) test_runs "${2:-1}" ;;
  *)
    echo "usage: $0 up | down | check-clean | test [RUNS] | run CMD..." >&2
    exit 2
    ;;
esac
