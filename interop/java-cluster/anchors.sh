#!/usr/bin/env bash
# The #1574 anchor table of docs/AERON.md, from one run: Aeron's own Java
# cluster client before the fix (1.43.0, the last release without upstream
# commit 08ec5631d6) and after it (1.51.0), leakless's naive connect, and
# leakless, all against the same one-node Aeron 1.51.0 cluster and through
# the same workload: ATTEMPTS connects whose deadline (DEADLINE_MS) passes
# while the client's own media driver is held, then a retry that connects
# and closes. Live resources are read from each client's media driver's
# own counters.
#
#   bash interop/java-cluster/anchors.sh [ATTEMPTS] [DEADLINE_MS]    # 3 50
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
attempts=${1:-3}
deadline_ms=${2:-50}
cd "$root"

cargo build -q --release --features java-cluster --example anchor
bash "$here/cluster.sh" start 1 >&2
trap 'bash "$here/cluster.sh" stop' EXIT

rows=()
for version in 1.43.0 1.51.0; do
  eval "$(bash "$here/prepare.sh" "$version")"
  # shellcheck disable=SC2086 # the options are several words
  row=$("$LEAKLESS_JAVA" $LEAKLESS_JAVA_OPTS -cp "$LEAKLESS_AERON_CLASSPATH" JavaClient anchor \
    "$attempts" "$deadline_ms" "0=localhost:20110" | grep '^ROW ')
  rows+=("${row/ROW /ROW java-$version }")
done
eval "$(bash "$here/prepare.sh" 1.51.0)"
while IFS= read -r row; do rows+=("$row"); done \
  < <(target/release/examples/anchor "$attempts" "$deadline_ms" | grep '^ROW ')

echo "| client | attempts timed out (driver held) | retry connected | live subscriptions | live publications |"
echo "|---|---|---|---|---|"
for row in "${rows[@]}"; do
  set -- $row
  name=$2
  declare -A f=()
  for kv in "${@:3}"; do f[${kv%%=*}]=${kv#*=}; done
  case "$name" in
    java-*) label="Java \`AeronCluster\` ${name#java-}" ;;
    leakless-naive) label="leakless, naive cleanup" ;;
    leakless-leakless) label="leakless" ;;
  esac
  echo "| $label | ${f[timed_out]} of ${f[attempts]} | ${f[connected]} | ${f[live_subscriptions]} | ${f[live_publications]} |"
  unset f
done
