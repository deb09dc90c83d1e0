#!/usr/bin/env bash
# Shows that the loom models catch real bugs: rebuilds the crate with each
# deliberate bug (src/mutant.rs; for naive_connect, the connect models run
# with the naive cleanup policy) and expects the models to FAIL for the
# reason that bug causes. Exits 0 only when every mutant is killed.
#
# Usage: loom-tests/mutants.sh            (from the repository root)
set -uo pipefail
cd "$(dirname "$0")/.."

# mutant name | loom test target | what the failure must say
mutants=(
  "aeron_1574|loom_handoff|Allocation leaked|resource closed 0 times"
  "both_close|loom_handoff|resource closed twice"
  "relaxed_publish|loom_handoff|Causality violation"
  "naive_connect|loom_connect|resources created|Allocation leaked"
  "lost_wake|loom_async|deadlock"
)

export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
survivors=0
for entry in "${mutants[@]}"; do
  IFS='|' read -r name target expect_a expect_b <<<"$entry"
  log=$(mktemp)
  start=$SECONDS
  RUSTFLAGS="--cfg loom --cfg leakless_mutant=\"$name\"" \
    cargo test --release --quiet --test "$target" >"$log" 2>&1
  status=$?
  took=$((SECONDS - start))
  if [ "$status" -ne 0 ] && { grep -q "$expect_a" "$log" || { [ -n "${expect_b:-}" ] && grep -q "$expect_b" "$log"; }; }; then
    failed=$(grep -o -m1 '[0-9]\+ failed' "$log")
    echo "killed   $name ($target: $failed, '$(grep -o -m1 -e "$expect_a" -e "${expect_b:-$expect_a}" "$log")', ${took}s)"
  else
    echo "SURVIVED $name ($target exited $status without '$expect_a'; log follows)"
    tail -n 40 "$log"
    survivors=$((survivors + 1))
  fi
  rm -f "$log"
done

if [ "$survivors" -ne 0 ]; then
  echo "$survivors mutant(s) survived"
  exit 1
fi
echo "all ${#mutants[@]} mutants killed"
