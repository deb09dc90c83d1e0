//! Wall time of every path and contender, with criterion's statistics:
//! `cargo bench -p leakless-benches --bench wall`. Absolute times only;
//! the ratios in docs/BENCHMARKS.md come from `--bench ratios`, which
//! interleaves the contenders within one run.
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use leakless_benches::connect::{self, InlineDriver};
use leakless_benches::paths::PATHS;
use leakless_benches::two_threads::{self, Worker};

fn single_thread(c: &mut Criterion) {
    for path in PATHS {
        let mut group = c.benchmark_group(path.name);
        for &(contender, op) in path.contenders {
            group.bench_function(contender, |b| b.iter(op));
        }
        group.finish();
    }
}

fn two_thread(c: &mut Criterion) {
    for (name, delay) in [
        ("two_threads_early", Duration::ZERO),
        ("two_threads_late_20us", Duration::from_micros(20)),
    ] {
        let worker = Worker::start(delay);
        let mut group = c.benchmark_group(name);
        for &(contender, op) in two_threads::CONTENDERS {
            group.bench_function(contender, |b| b.iter(|| op(&worker)));
        }
        group.finish();
    }
}

fn connect_cycle(c: &mut Criterion) {
    let inline = InlineDriver::default();
    let config = connect::one_member();
    let mut group = c.benchmark_group("connect_cycle_inline");
    group.bench_function("typestate", |b| {
        b.iter(|| connect::typestate_cycle(&inline, &config))
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| connect::hand_written_cycle(&inline, &config))
    });
    group.finish();

    let (sim, driver, config) = connect::one_member_simulation();
    let mut group = c.benchmark_group("connect_cycle_sim");
    group.bench_function("typestate", |b| {
        b.iter(|| connect::typestate_cycle(&driver, &config))
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| connect::hand_written_cycle(&driver, &config))
    });
    group.finish();
    sim.settle();
    assert_eq!(sim.ledger().live(), 0);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    targets = single_thread, two_thread, connect_cycle
}
criterion_main!(benches);
