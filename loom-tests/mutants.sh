#!/usr/bin/env bash
# Shows that the models catch real bugs: rebuilds the crate with each
# deliberate bug (src/mutant.rs; for naive_connect, the connect models run
# with the naive cleanup policy) and expects the models to FAIL for the
# reason that bug causes. Exits 0 only when every mutant is killed.
#
# The mutant is chosen by LEAKLESS_MUTANT, which build.rs turns into a cfg
# of leakless alone. RUSTFLAGS stay exactly those of the CI loom step (for
# the shuttle runs, none), so the dependencies are built once and shared
# with that step; a mutant rebuilds leakless and one test target.
#
# Usage: loom-tests/mutants.sh            (from the repository root)
set -uo pipefail
cd "$(dirname "$0")/.."

# mutant name | test target | what the failure must say (either pattern)
# Targets named loom_* run as loom models (RUSTFLAGS below); `shuttle`
# runs tests/shuttle.rs with the shuttle feature and no loom cfg. Under
# shuttle, both_close's duplicated resource can also be dropped twice and
# glibc abort the process (SIGABRT: "double free or corruption", "unaligned
# tcache chunk"): that is the mutant caught too, in the test then running.
mutants=(
  "aeron_1574|loom_handoff|Allocation leaked|resource closed 0 times"
  "both_close|loom_handoff|resource closed twice|resource closed twice"
  "relaxed_publish|loom_handoff|Causality violation|Causality violation"
  "naive_connect|loom_connect|resources created|Allocation leaked"
  "lost_wake|loom_async|deadlock|deadlock"
  "refusing_take|loom_async|try_take refused|try_take refused"
  "relaxed_gone_load|loom_handoff|Causality violation|Causality violation"
  "release_only_gone|loom_handoff|Causality violation|Causality violation"
  "relaxed_waiting_clear|loom_async|Causality violation|Causality violation"
  "forget_second_publication|loom_connect|resources created|Allocation leaked"
  "forget_new_leader_publication|loom_connect|resources created|Allocation leaked"
  "blind_withdraw|loom_handoff|closed 0 times|deadlock"
  "aeron_1574|shuttle|closed exactly once|closed exactly once"
  "both_close|shuttle|resource closed twice|SIGABRT"
  "refusing_take|shuttle|try_take refused|try_take refused"
  "naive_connect|shuttle|resources created|resources created"
  "forget_second_publication|shuttle|resources created|resources created"
)

loom_flags="--cfg loom -C debug_assertions"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
survivors=0
for entry in "${mutants[@]}"; do
  IFS='|' read -r name target expect_a expect_b <<<"$entry"
  log=$(mktemp)
  start=$SECONDS
  # --no-fail-fast is not needed (one target); the harness itself runs
  # every test of the target and names each one that failed.
  if [ "$target" = shuttle ]; then
    # One test at a time: a mutant whose duplicated value is dropped twice
    # can abort the process (glibc: "double free or corruption"), and the
    # test that was running is then the last one the harness named.
    LEAKLESS_MUTANT="$name" RUSTFLAGS="" CARGO_TARGET_DIR=target/shuttle \
      cargo test --release --features shuttle --test shuttle -- --test-threads=1 >"$log" 2>&1
  else
    LEAKLESS_MUTANT="$name" RUSTFLAGS="$loom_flags" cargo test --release --test "$target" >"$log" 2>&1
  fi
  status=$?
  took=$((SECONDS - start))
  # The models that failed, by name: "test NAME ... FAILED" from the
  # harness, or, when a model's panic aborted the process (loom's deadlock
  # report can panic again while unwinding), "thread 'NAME' ... panicked".
  # Or, when the process aborted (heap corruption), the test it was in:
  # the last "test NAME ... " line without a result.
  models=$( { sed -n 's/^test \(.*\) \.\.\. FAILED$/\1/p' "$log"
              sed -n "s/^thread '\([^']*\)'.* panicked at.*/\1/p" "$log" | grep -v '^main$'
              if grep -q 'SIGABRT' "$log"; then
                grep '^test ' "$log" | grep -v ' ok$\| FAILED$\| ignored$' | tail -n 1 |
                  sed 's/^test \([^ ]*\) .*/\1/'
              fi
            } | sort -u | paste -sd, -)
  if [ "$status" -ne 0 ] && [ -n "$models" ] && grep -q -e "$expect_a" -e "$expect_b" "$log"; then
    reason=$(grep -o -m1 -e "$expect_a" -e "$expect_b" "$log")
    echo "killed   $name by $target::{$models} ('$reason', ${took}s)"
  else
    echo "SURVIVED $name ($target exited $status; failed models: '${models:-none}'; expected '$expect_a'; log follows)"
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
