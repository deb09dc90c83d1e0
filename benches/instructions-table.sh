#!/usr/bin/env bash
# Runs the instruction-count benches (callgrind through gungraun) and prints
# the table of docs/BENCHMARKS.md: instructions per operation for every path
# and contender, leakless's count as a multiple of each, and of the floor.
# Needs valgrind and `cargo install gungraun-runner --version 0.20.0`.
#
# Usage: bash benches/instructions-table.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
ops=1000 # OPS in benches/benches/instructions.rs
cargo bench -q -p leakless-benches --features instructions --bench instructions 2>/dev/null |
  awk -v ops="$ops" '
    /^instructions::/ {
      sub(/^instructions::[^:]*::/, "")
      path = $1; contender = $2; sub(/:.*/, "", contender)
    }
    /^ *Instructions:/ {
      n = $2; sub(/\|.*/, "", n)
      per = n / ops
      if (contender == "leakless" || contender == "typestate") ref = per
      if (path != last) {
        printf "\n| %s | instructions / op | leakless ÷ this |\n|---|---:|---:|\n", path
        last = path
      }
      printf "| %s | %.1f | %.2f× |\n", contender, per, ref / per
    }'
