//! Instruction counts (callgrind, through gungraun) of every handoff path
//! for leakless, each contender and the floor, and of one connect cycle:
//! the figures that are the same on every run and every machine of the
//! same architecture. Each benchmark runs its operation `OPS` times in a
//! loop (steady state: the allocator's and the branch predictors' first
//! touch amortised); divide by `OPS` for one operation.
//!
//! Needs valgrind and the runner of the same version:
//! `cargo install gungraun-runner --version 0.20.0`, then
//! `cargo bench -p leakless-benches --features instructions --bench instructions`.
//! The table in docs/BENCHMARKS.md is `benches/instructions-table.sh`.
use std::hint::black_box;

use gungraun::{library_benchmark, library_benchmark_group, main};
use leakless_benches::connect::{self, InlineDriver};
use leakless_benches::floor;
use leakless_benches::paths::{self, Op};

/// Operations a benchmark runs; the counts reported are for all of them.
const OPS: u64 = 1000;

fn repeat(op: Op) -> u64 {
    let mut sum = 0u64;
    for _ in 0..OPS {
        sum = sum.wrapping_add(black_box(op)());
    }
    sum
}

#[library_benchmark]
#[bench::leakless(paths::round_trip::leakless)]
#[bench::oneshot(paths::round_trip::oneshot)]
#[bench::tokio_oneshot(paths::round_trip::tokio_oneshot)]
#[bench::futures_oneshot(paths::round_trip::futures_oneshot)]
#[bench::crossbeam_bounded_1(paths::round_trip::crossbeam_bounded_1)]
#[bench::sync_channel_1(paths::round_trip::sync_channel_1)]
#[bench::mutex_condvar(paths::round_trip::mutex_condvar)]
#[bench::floor(floor::round_trip)]
fn round_trip(op: Op) -> u64 {
    black_box(repeat(op))
}

#[library_benchmark]
#[bench::leakless(paths::cancel_then_complete::leakless)]
#[bench::oneshot(paths::cancel_then_complete::oneshot)]
#[bench::tokio_oneshot(paths::cancel_then_complete::tokio_oneshot)]
#[bench::futures_oneshot(paths::cancel_then_complete::futures_oneshot)]
#[bench::floor(floor::cancel_then_complete)]
fn cancel_then_complete(op: Op) -> u64 {
    black_box(repeat(op))
}

#[library_benchmark]
#[bench::leakless(paths::complete_then_cancel::leakless)]
#[bench::oneshot(paths::complete_then_cancel::oneshot)]
#[bench::tokio_oneshot(paths::complete_then_cancel::tokio_oneshot)]
#[bench::futures_oneshot(paths::complete_then_cancel::futures_oneshot)]
#[bench::floor(floor::complete_then_cancel)]
fn complete_then_cancel(op: Op) -> u64 {
    black_box(repeat(op))
}

#[library_benchmark]
#[bench::leakless(paths::abandoned::leakless)]
#[bench::oneshot(paths::abandoned::oneshot)]
#[bench::tokio_oneshot(paths::abandoned::tokio_oneshot)]
#[bench::futures_oneshot(paths::abandoned::futures_oneshot)]
#[bench::crossbeam_bounded_1(paths::abandoned::crossbeam_bounded_1)]
#[bench::sync_channel_1(paths::abandoned::sync_channel_1)]
#[bench::floor(floor::abandoned)]
fn abandoned(op: Op) -> u64 {
    black_box(repeat(op))
}

#[library_benchmark]
#[bench::leakless(paths::awaited::leakless_ready)]
#[bench::oneshot(paths::awaited::oneshot_ready)]
#[bench::tokio_oneshot(paths::awaited::tokio_ready)]
#[bench::futures_oneshot(paths::awaited::futures_ready)]
#[bench::floor(floor::round_trip)]
fn awaited_ready(op: Op) -> u64 {
    black_box(repeat(op))
}

#[library_benchmark]
#[bench::leakless(paths::awaited::leakless_pending_then_woken)]
#[bench::oneshot(paths::awaited::oneshot_pending_then_woken)]
#[bench::tokio_oneshot(paths::awaited::tokio_pending_then_woken)]
#[bench::futures_oneshot(paths::awaited::futures_pending_then_woken)]
#[bench::floor(floor::pending_then_woken)]
fn awaited_pending_then_woken(op: Op) -> u64 {
    black_box(repeat(op))
}

#[library_benchmark]
#[bench::leakless(paths::wait_already_there::leakless)]
#[bench::oneshot(paths::wait_already_there::oneshot)]
#[bench::crossbeam_bounded_1(paths::wait_already_there::crossbeam_bounded_1)]
#[bench::sync_channel_1(paths::wait_already_there::sync_channel_1)]
#[bench::mutex_condvar(paths::wait_already_there::mutex_condvar)]
#[bench::floor(floor::round_trip)]
fn wait_already_there(op: Op) -> u64 {
    black_box(repeat(op))
}

// One connect + close cycle over the inline driver, `OPS` times.
#[library_benchmark]
#[bench::typestate(connect::typestate_cycle::<InlineDriver>)]
#[bench::hand_written(connect::hand_written_cycle::<InlineDriver>)]
fn connect_cycle(cycle: fn(&InlineDriver, &leakless::connect::ConnectConfig) -> i64) -> i64 {
    let driver = InlineDriver::default();
    let config = connect::one_member();
    let mut sum = 0i64;
    for _ in 0..OPS {
        sum = sum.wrapping_add(black_box(cycle)(&driver, &config));
    }
    black_box(sum)
}

library_benchmark_group!(
    name = handoff_and_connect;
    benchmarks = round_trip, cancel_then_complete, complete_then_cancel, abandoned, awaited_ready, awaited_pending_then_woken, wait_already_there, connect_cycle
);

main!(library_benchmark_groups = handoff_and_connect);
