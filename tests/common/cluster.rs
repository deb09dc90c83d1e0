//! What the tests against a real Java Aeron Cluster share (feature
//! `java-cluster`): echo, keep-alive, and the check that the client's
//! media driver holds nothing the client does not.

use std::thread;
use std::time::{Duration, Instant};

use leakless::aeron::AeronDriver;
use leakless::aeron::testing::{driver_counts, eventually};
use leakless::connect::Client;
use rusteron_client::Aeron;

/// How long a step the cluster takes may take.
pub const WAIT: Duration = Duration::from_secs(10);

pub const INGRESS_STREAM: i32 = 101;
pub const EGRESS_STREAM: i32 = 102;

/// Sends `text` and expects it back, alone.
pub fn echo(client: &mut Client<AeronDriver>, text: &[u8]) {
    assert!(eventually(WAIT, || client.offer(text).is_ok()));
    let mut got = Vec::new();
    assert!(eventually(WAIT, || {
        client.poll_egress(|payload| got.push(payload.to_vec()));
        !got.is_empty()
    }));
    assert_eq!(got, vec![text.to_vec()]);
}

/// Asserts that the client left nothing: in leakless's audit (every
/// resource created was closed, once; no add in flight) and in the media
/// driver's own counters (no ingress publication, no egress subscription).
pub fn assert_nothing_left(driver: &AeronDriver, observer: &Aeron) {
    assert!(eventually(WAIT, || driver.ledger().live() == 0
        && driver.in_flight() == 0));
    let audit = driver.ledger();
    assert_eq!(audit.double_closes, 0);
    assert_eq!(audit.created_publications, audit.closed_publications);
    assert_eq!(audit.created_subscriptions, audit.closed_subscriptions);
    assert!(
        eventually(WAIT, || driver_counts(observer, INGRESS_STREAM)
            .publications
            == 0
            && driver_counts(observer, EGRESS_STREAM).subscriptions == 0),
        "the media driver still has {:?}",
        (
            driver_counts(observer, INGRESS_STREAM),
            driver_counts(observer, EGRESS_STREAM)
        )
    );
}

/// Keeps the session alive and reads egress until `done` holds or `within`
/// passes; returns whether it held.
pub fn keep_alive_until(
    client: &mut Client<AeronDriver>,
    within: Duration,
    mut done: impl FnMut(&Client<AeronDriver>) -> bool,
) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        client.poll_egress(|_| {});
        if done(client) {
            return true;
        }
        let _ = client.send_keep_alive();
        thread::sleep(Duration::from_millis(50));
    }
    false
}
