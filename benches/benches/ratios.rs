//! Wall-time ratios with the contenders interleaved: each round times a
//! batch of every contender in turn (the order rotating from round to
//! round), so a change of load hits all of them alike. Prints, per path,
//! each contender's median time per operation and its ratio to leakless:
//! the median of the per-round ratios and their range (min–max).
//!
//! `cargo bench -p leakless-benches --bench ratios` (about a minute);
//! `ROUNDS=N` and `BATCH=N` change the rounds and operations per batch.
use std::hint::black_box;
use std::time::{Duration, Instant};

use leakless_benches::connect::{self, InlineDriver};
use leakless_benches::paths::PATHS;
use leakless_benches::two_threads::{self, Worker};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A contender: its name and one operation.
type Contender<'a> = (&'static str, Box<dyn FnMut() -> u64 + 'a>);

/// Times `rounds` interleaved batches of each contender; prints the table.
/// The first contender is the reference (leakless).
fn compare(title: &str, contenders: &mut [Contender<'_>], batch: usize) {
    let rounds = env("ROUNDS", 31);
    let n = contenders.len();
    let mut per_op = vec![Vec::with_capacity(rounds); n];
    // A warm-up round, not recorded.
    for (_, op) in contenders.iter_mut() {
        for _ in 0..batch {
            black_box(op());
        }
    }
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let op = &mut contenders[i].1;
            let started = Instant::now();
            for _ in 0..batch {
                black_box(op());
            }
            per_op[i].push(started.elapsed().as_nanos() as f64 / batch as f64);
        }
    }
    println!("\n{title} ({rounds} rounds of {batch} operations, interleaved)");
    println!(
        "  {:<26} {:>10} {:>12} {:>22}",
        "contender", "median ns", "leakless ÷", "per-round range"
    );
    for i in 0..n {
        let mut ratios: Vec<f64> = (0..rounds).map(|r| per_op[0][r] / per_op[i][r]).collect();
        let ratio = median(&mut ratios);
        let (lo, hi) = (ratios[0], ratios[rounds - 1]);
        let mut times = per_op[i].clone();
        println!(
            "  {:<26} {:>10.1} {:>11.2}× {:>13.2}–{:.2}×",
            contenders[i].0,
            median(&mut times),
            ratio,
            lo,
            hi
        );
    }
}

/// How long the wait's spin phase lasts here: `SPINS` `spin_loop`s.
fn spin_phase() {
    const SPINS: u32 = 128;
    let mut samples: Vec<f64> = (0..101)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..SPINS {
                std::hint::spin_loop();
            }
            started.elapsed().as_nanos() as f64
        })
        .collect();
    println!(
        "\n{SPINS} spin_loop()s: median {:.0} ns (one: {:.1} ns)",
        median(&mut samples),
        median(&mut samples) / f64::from(SPINS)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it with
    // no arguments: then only check that it runs.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("ratios: run with `cargo bench -p leakless-benches --bench ratios`");
        return;
    }
    let batch = env("BATCH", 20_000);
    for path in PATHS {
        let mut ops: Vec<Contender> = path
            .contenders
            .iter()
            .map(|&(name, op)| (name, Box::new(op) as Box<dyn FnMut() -> u64>))
            .collect();
        compare(path.name, &mut ops, batch);
    }

    spin_phase();
    for (title, delay) in [
        ("two threads, completion at once", Duration::ZERO),
        (
            "two threads, completion after 20 µs",
            Duration::from_micros(20),
        ),
    ] {
        let worker = Worker::start(delay);
        let worker = &worker;
        let mut ops: Vec<Contender> = two_threads::CONTENDERS
            .iter()
            .map(|&(name, op)| {
                (
                    name,
                    Box::new(move || op(worker)) as Box<dyn FnMut() -> u64>,
                )
            })
            .collect();
        compare(title, &mut ops, batch / 20);
    }

    let inline = InlineDriver::default();
    let config = connect::one_member();
    compare(
        "connect cycle, inline driver",
        &mut [
            (
                "typestate",
                Box::new(|| connect::typestate_cycle(&inline, &config) as u64),
            ),
            (
                "hand_written",
                Box::new(|| connect::hand_written_cycle(&inline, &config) as u64),
            ),
        ],
        batch / 10,
    );

    let (sim, driver, config) = connect::one_member_simulation();
    compare(
        "connect cycle, simulation (conductor thread)",
        &mut [
            (
                "typestate",
                Box::new(|| connect::typestate_cycle(&driver, &config) as u64),
            ),
            (
                "hand_written",
                Box::new(|| connect::hand_written_cycle(&driver, &config) as u64),
            ),
        ],
        batch / 100,
    );
    sim.settle();
    assert_eq!(sim.ledger().live(), 0, "every connect cycle released all");
}
