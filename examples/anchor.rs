//! leakless's rows of the #1574 anchor table (docs/AERON.md), against a
//! Java Aeron Cluster node that is already running (`cluster.sh start 1`;
//! `interop/java-cluster/anchors.sh` runs the whole table): the naive connect
//! and leakless, each through the workload that `JavaClient.java` runs
//! with Aeron's own client. `attempts` connects whose deadline passes while
//! the client's media driver is held (the egress subscription add still in
//! flight), each on an ephemeral egress port (`:0`), as Aeron's client
//! does; then the driver runs and a retry
//! connects and closes. Live subscriptions and publications are read from
//! the client's media driver's own counters, two seconds after the close.
//!
//! ```sh
//! cargo run --release --features java-cluster --example anchor -- 3 50
//! ```

use std::time::Duration;

use leakless::aeron::AeronDriver;
use leakless::aeron::testing::{
    SteppedDriver, driver_counts, ingress_endpoint, java_layout, receive_channels,
    time_out_while_held,
};
use leakless::connect::{Backoff, Cleanup, ConnectConfig, Leakless, Naive, connect_with};

const INGRESS_STREAM: i32 = 101;
const EGRESS_STREAM: i32 = 102;

fn config(timeout: Duration) -> ConnectConfig {
    ConnectConfig::new("aeron:udp?endpoint=localhost:0", EGRESS_STREAM)
        .member(0, ConnectConfig::endpoint_channel(&ingress_endpoint(0)))
        .ingress_stream_id(INGRESS_STREAM)
        .layout(java_layout())
        .timeout(timeout)
}

fn row<C: Cleanup>(attempts: usize, deadline: Duration) -> Result<String, String> {
    let media = SteppedDriver::launch().map_err(|e| e.to_string())?;
    let driver = AeronDriver::connect(media.dir()).map_err(|e| e.to_string())?;
    let observer = media.client().map_err(|e| e.to_string())?;
    time_out_while_held::<C>(&media, &driver, |_| config(deadline), attempts)?;
    media.release();
    let client = connect_with::<_, C>(
        driver.clone(),
        config(Duration::from_secs(10)),
        &mut Backoff::default(),
    )
    .map_err(|failed| format!("the retry did not connect: {}", failed.error))?;
    client.close().map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_secs(2));
    Ok(format!(
        "attempts={attempts} timed_out={attempts} connected=1 live_subscriptions={} live_publications={}",
        receive_channels(&observer),
        driver_counts(&observer, INGRESS_STREAM).publications
    ))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let attempts = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let deadline_ms = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let deadline = Duration::from_millis(deadline_ms);
    let rows = [
        ("naive", row::<Naive>(attempts, deadline)),
        ("leakless", row::<Leakless>(attempts, deadline)),
    ];
    let mut failed = false;
    for (name, row) in rows {
        match row {
            Ok(row) => println!("ROW leakless-{name} {row}"),
            Err(error) => {
                eprintln!("{name}: {error}");
                failed = true;
            }
        }
    }
    std::process::exit(i32::from(failed));
}
