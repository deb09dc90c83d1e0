#!/usr/bin/env bash
# Runs `cargo test` RUNS times (default 5) while BUSY busy processes
# (default 2: both cores) keep the machine loaded, as a user's CI often is;
# every run must pass. The busy loops are bounded in time and stopped on
# exit, also on failure.
#
#   bash .ci/under-load.sh [RUNS] [BUSY]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
busy_count=${2:-2}

cargo test --no-run -q   # build first: the runs then test, not compile

busy=()
stop_busy() { for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_busy EXIT
for ((i = 0; i < busy_count; i++)); do
  timeout 1800 bash -c 'while :; do :; done' &
  busy+=("$!")
done

passed=0
for ((run = 1; run <= runs; run++)); do
  start=$SECONDS
  if cargo test -q >"target/under-load-$run.log" 2>&1; then
    passed=$((passed + 1))
    echo "run $run of $runs: passed ($((SECONDS - start)) s, load $(cut -d' ' -f1 /proc/loadavg))"
  else
    echo "run $run of $runs: FAILED; the failures:"
    grep -E -A8 'panicked at|FAILED' "target/under-load-$run.log" | head -n 60
  fi
done
echo "under load: $passed of $runs runs passed"
[ "$passed" -eq "$runs" ]
