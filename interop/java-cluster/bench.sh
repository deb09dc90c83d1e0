#!/usr/bin/env bash
# leakless's cluster client against Aeron's own Java AeronCluster client
# (1.51.0), in alternating rounds against one Java Aeron Cluster node:
# connect time and echo round trip p50 / p99 (docs/BENCHMARKS.md).
#
#   bash interop/java-cluster/bench.sh [ROUNDS] [CONNECTS] [WARMUP] [ECHOES]   # 6 20 1000 5000
#
# Each round runs both clients one after the other (the order alternates),
# each in a fresh process with its own media driver; a client's figures are
# the median over the rounds of its per-round values, with their range.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-6}
connects=${2:-20}
warmup=${3:-1000}
echoes=${4:-5000}
cd "$root"

cargo build -q --release --features java-cluster --example echo_bench
eval "$(bash "$here/prepare.sh" 1.51.0)"
bash "$here/cluster.sh" start 1 >&2
trap 'bash "$here/cluster.sh" stop' EXIT

java_round() {
  # shellcheck disable=SC2086 # the options are several words
  "$LEAKLESS_JAVA" $LEAKLESS_JAVA_OPTS -cp "$LEAKLESS_AERON_CLASSPATH" JavaClient bench \
    "$connects" "$warmup" "$echoes" "0=localhost:20110" | grep '^RESULT '
}
rust_round() {
  target/release/examples/echo_bench "$connects" "$warmup" "$echoes" | grep '^RESULT '
}

results=$(mktemp)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < rounds; r++)); do
  if ((r % 2 == 0)); then java_round; rust_round; else rust_round; java_round; fi
done | tee "$results" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$results" "$rounds" "$connects" "$warmup" "$echoes" "$load_before" "$load_after" <<'PY'
import statistics, subprocess, sys
path, rounds, connects, warmup, echoes, before, after = sys.argv[1:]
rows = {}
for line in open(path):
    fields = dict(kv.split("=") for kv in line.split()[1:])
    rows.setdefault(fields.pop("client"), []).append({k: float(v) for k, v in fields.items()})
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
print(f"{rounds} alternating rounds; per round {connects} connects, {warmup} warm-up and {echoes} timed echoes of 32 bytes")
print(f"machine: {cpu}, {subprocess.getoutput('nproc')} cores; load average before {before}, after {after}")
print()
print("| figure | leakless (median, range over rounds) | Java AeronCluster 1.51.0 | leakless / Java |")
print("|---|---|---|---|")
noisy = []
for key, label in (("connect_us", "connect (µs, median of the round)"), ("p50_us", "echo round trip p50 (µs)"), ("p99_us", "echo round trip p99 (µs)")):
    cells, medians = [], []
    for client in ("leakless", "java"):
        values = [row[key] for row in rows[client]]
        m = statistics.median(values)
        medians.append(m)
        cells.append(f"{m:.1f} ({min(values):.1f}–{max(values):.1f})")
    ratio = medians[0] / medians[1]
    # Noisy: the two clients' ranges overlap.
    l, j = [row[key] for row in rows["leakless"]], [row[key] for row in rows["java"]]
    overlap = max(min(l), min(j)) <= min(max(l), max(j))
    if overlap:
        noisy.append(label)
    print(f"| {label} | {cells[0]} | {cells[1]} | {ratio:.2f}{' (ranges overlap: noisy)' if overlap else ''} |")
print()
print("noisy (the two clients' ranges overlap): " + (", ".join(noisy) if noisy else "none"))
PY
rm -f "$results"
