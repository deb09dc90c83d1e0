//! leakless's side of one round of the Rust-vs-Java benchmark
//! (docs/BENCHMARKS.md; `interop/java-cluster/bench.sh` runs the rounds,
//! alternating with `JavaClient.java bench`): against a Java Aeron Cluster
//! node already running (`cluster.sh start 1`), CONNECTS connects and
//! closes, then a connect, WARMUP echoes and ECHOES timed echoes of a
//! 32-byte message, one at a time. The client's embedded C media driver
//! runs on a thread of its own; the client polls with a busy spin, as the
//! Java side's `BusySpinIdleStrategy` does. Prints
//! `RESULT client=leakless connect_us=… p50_us=… p99_us=…`: the median
//! connect time and the round trip percentiles of this round (nearest rank
//! over the sorted samples, as the Java side computes them).
//!
//! ```sh
//! cargo run --release --features java-cluster --example echo_bench -- 20 1000 5000
//! ```

use std::time::{Duration, Instant};

use leakless::aeron::AeronDriver;
use leakless::aeron::testing::{SteppedDriver, ingress_endpoint, java_layout};
use leakless::connect::{ConnectConfig, Idle, Leakless, connect_with};

/// Polls again at once, with the CPU's spin hint: Agrona's
/// `BusySpinIdleStrategy`.
struct BusySpin;

impl Idle for BusySpin {
    fn idle(&mut self, _progressed: bool) {
        std::hint::spin_loop();
    }
}

/// An ephemeral egress port, as the Java client takes by default.
fn config() -> ConnectConfig {
    ConnectConfig::new("aeron:udp?endpoint=localhost:0", 102)
        .member(0, ConnectConfig::endpoint_channel(&ingress_endpoint(0)))
        .ingress_stream_id(101)
        .layout(java_layout())
        .timeout(Duration::from_secs(10))
}

/// The value at quantile `q` of `sorted` (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn run(connects: usize, warmup: usize, echoes: usize) -> Result<String, String> {
    let media = SteppedDriver::launch().map_err(|e| e.to_string())?;
    let driver = AeronDriver::connect(media.dir()).map_err(|e| e.to_string())?;
    let mut connect_times = Vec::with_capacity(connects);
    for _ in 0..connects {
        let started = Instant::now();
        let client = connect_with::<_, Leakless>(driver.clone(), config(), &mut BusySpin)
            .map_err(|failed| failed.error.to_string())?;
        connect_times.push(started.elapsed());
        client.close().map_err(|e| e.to_string())?;
    }
    connect_times.sort();

    let mut client = connect_with::<_, Leakless>(driver.clone(), config(), &mut BusySpin)
        .map_err(|failed| failed.error.to_string())?;
    let mut message = [0u8; 32];
    let mut round_trips = Vec::with_capacity(echoes);
    for i in 0..warmup + echoes {
        let started = Instant::now();
        message[..8].copy_from_slice(&(i as u64).to_le_bytes());
        while client.offer(&message).is_err() {
            std::hint::spin_loop();
        }
        let mut received = 0;
        while received == 0 {
            received = client.poll_egress(|_| {});
            if received == 0 {
                std::hint::spin_loop();
            }
        }
        if i >= warmup {
            round_trips.push(started.elapsed());
        }
    }
    client.close().map_err(|e| e.to_string())?;
    round_trips.sort();
    Ok(format!(
        "RESULT client=leakless connect_us={:.1} p50_us={:.1} p99_us={:.1}",
        micros(quantile(&connect_times, 0.5)),
        micros(quantile(&round_trips, 0.5)),
        micros(quantile(&round_trips, 0.99)),
    ))
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let mut next = |default: usize| args.next().flatten().unwrap_or(default).max(1);
    let (connects, warmup, echoes) = (next(20), next(1_000), next(5_000));
    match run(connects, warmup, echoes) {
        Ok(result) => println!("{result}"),
        Err(error) => {
            eprintln!("echo_bench: {error}");
            std::process::exit(1);
        }
    }
}
