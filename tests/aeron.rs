//! leakless over a real Aeron media driver (feature `aeron`): the connect
//! end to end, and Aeron #1574 reproduced on the real driver with the naive
//! connect and absent with leakless.
//!
//! `cargo test --features aeron --test aeron -- --test-threads=1`
#![cfg(all(feature = "aeron", not(loom)))]

use std::ffi::CStr;
use std::time::Duration;

mod common;

use leakless::Driver;
use leakless::aeron::testing::{
    Responder, SteppedDriver, TIMER_INTERVAL, driver_counts, eventually, time_out_while_held,
};
use leakless::aeron::{AeronDriver, AeronOptions, Publication};
use leakless::audit::Tracked;
use leakless::connect::{
    AsyncConnect, Cleanup, ConnectConfig, Leakless, Naive, Pending, Progress, StateName, connect,
};
use rusteron_client::{Aeron, AeronPublication, AeronSubscription, Handlers};

const CHANNEL: &str = "aeron:ipc";
const C_CHANNEL: &CStr = c"aeron:ipc";
const INGRESS_STREAM: i32 = 101;
const EGRESS_STREAM: i32 = 102;
/// A stream nothing else uses: a subscription on it orders the driver's work
/// without linking to (and so holding open) a publication being counted.
const FENCE_STREAM: i32 = 999;
const WAIT: Duration = Duration::from_secs(5);

fn config(timeout: Duration) -> ConnectConfig {
    ConnectConfig::new(CHANNEL, EGRESS_STREAM)
        .member(0, CHANNEL)
        .ingress_stream_id(INGRESS_STREAM)
        .timeout(timeout)
}

/// A fence and a probe on the egress stream: once both exist, the driver has
/// processed every command sent before them, and every live subscription on
/// the stream is linked to the probe (one subscriber-position counter each).
fn fence_and_probe(observer: &Aeron) -> (AeronSubscription, AeronPublication) {
    let fence = observer
        .async_add_subscription(C_CHANNEL, EGRESS_STREAM, Handlers::NONE, Handlers::NONE)
        .and_then(|poller| poller.poll_blocking(WAIT))
        .expect("fence subscription");
    let probe = observer
        .async_add_publication(C_CHANNEL, EGRESS_STREAM)
        .and_then(|poller| poller.poll_blocking(WAIT))
        .expect("probe publication");
    (fence, probe)
}

/// Waits until `count()` equals `expected`, then checks that it stays there
/// over twenty housekeeping ticks of the driver.
fn settles_at(expected: usize, mut count: impl FnMut() -> usize) -> usize {
    eventually(WAIT, || count() == expected);
    std::thread::sleep(TIMER_INTERVAL * 20);
    count()
}

#[test]
fn end_to_end_connect_send_close() {
    let media = SteppedDriver::launch().unwrap();
    let responder = Responder::start(&media, CHANNEL, INGRESS_STREAM).unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    let observer = media.client().unwrap();

    let mut client = connect(driver.clone(), config(WAIT)).unwrap();
    assert!(eventually(WAIT, || client.offer(b"hello").is_ok()));
    let mut echoed = Vec::new();
    assert!(eventually(WAIT, || {
        client.poll_egress(|payload| echoed.push(payload.to_vec()));
        !echoed.is_empty()
    }));
    assert_eq!(echoed, vec![b"hello".to_vec()]);
    assert_eq!(driver_counts(&observer, EGRESS_STREAM).subscriptions, 1);
    assert_eq!(driver_counts(&observer, INGRESS_STREAM).publications, 1);

    assert_eq!(
        driver.ledger().live(),
        2,
        "the client's audit: its subscription and publication"
    );
    client.close().unwrap();
    assert_eq!(
        driver.ledger().live(),
        0,
        "nothing live in the client's audit"
    );
    assert!(eventually(WAIT, || responder.stats().sessions_closed == 1));
    assert!(eventually(WAIT, || {
        driver_counts(&observer, EGRESS_STREAM).subscriptions == 0
            && driver_counts(&observer, INGRESS_STREAM).publications == 0
    }));
    assert_eq!(responder.stats().sessions_opened, 1);
}

/// `attempts` connects that time out in Pending while the driver is held;
/// then the driver runs. Returns the client subscriptions left live.
fn timed_out_attempts_while_held<C: Cleanup>(attempts: usize) -> usize {
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    time_out_while_held::<C>(
        &media,
        &driver,
        |_| config(Duration::from_millis(20)),
        attempts,
    )
    .unwrap();
    // leakless: every pending add was cancelled (by registration id) before
    // the driver runs again; naive: every add is still pending, forgotten.
    let cancelled = driver.add_counts().cancelled;
    if C::NAME == "leakless" {
        assert!(eventually(WAIT, || driver.add_counts().cancelled == attempts as u64));
    } else {
        assert_eq!(cancelled, 0);
    }
    media.release();
    let observer = media.client().unwrap();
    let (_fence, _probe) = fence_and_probe(&observer);
    let live = settles_at(attempts + 1, || {
        driver_counts(&observer, EGRESS_STREAM).subscriptions
    });
    // The client's own audit agrees with the media driver's counters.
    assert_eq!(driver.ledger().live_subscriptions, live - 1);
    live - 1 // the fence
}

#[test]
fn aeron_1574_pending_subscription_naive_leaks_it() {
    assert_eq!(timed_out_attempts_while_held::<Naive>(1), 1);
}

#[test]
fn aeron_1574_pending_subscription_leakless_leaves_none() {
    let live = timed_out_attempts_while_held::<Leakless>(1);
    assert_eq!(live, 0);
}

#[test]
fn retry_loop_of_50_naive_accumulates_leakless_stays_at_zero() {
    let naive = timed_out_attempts_while_held::<Naive>(50);
    let leakless = timed_out_attempts_while_held::<Leakless>(50);
    println!("after 50 timed-out attempts: naive {naive} live subscriptions, leakless {leakless}");
    assert_eq!(naive, 50);
    assert_eq!(leakless, 0);
}

/// One attempt that reaches Subscribed, then times out while its ingress
/// publication is pending (driver held). Returns the publications left live.
fn timed_out_with_publication_pending<C: Cleanup>() -> usize {
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    // Seconds: reaching Subscribed must not race the deadline on a loaded
    // machine; the held driver makes the timeout in Subscribed certain.
    let mut attempt =
        AsyncConnect::<Pending, _, C>::start(driver.clone(), config(Duration::from_secs(3)))
            .unwrap();
    // Let the subscription be created, then hold the driver before the
    // attempt asks for its publication.
    assert!(eventually(WAIT, || driver.in_flight() == 0));
    media.hold();
    let mut subscribed = loop {
        match attempt.poll() {
            Progress::Pending(same) => attempt = same,
            Progress::Ready(next) => break next,
            Progress::Failed(failed) => panic!("unexpected failure: {failed}"),
        }
    };
    let failed = loop {
        match subscribed.poll() {
            Progress::Pending(same) => subscribed = same,
            Progress::Ready(_) => panic!("nothing can connect while the driver is held"),
            Progress::Failed(failed) => break failed,
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert_eq!(failed.error.timed_out_in(), Some(StateName::Subscribed));
    if C::NAME == "leakless" {
        assert!(eventually(WAIT, || driver.add_counts().cancelled == 1));
    }
    media.release();
    let observer = media.client().unwrap();
    // A fence orders the driver's work: once it exists, the held add has
    // been processed (and, for leakless, removed).
    let _fence = observer
        .async_add_subscription(C_CHANNEL, FENCE_STREAM, Handlers::NONE, Handlers::NONE)
        .and_then(|poller| poller.poll_blocking(WAIT))
        .unwrap();
    let expected = usize::from(C::NAME == "naive");
    settles_at(expected, || {
        driver_counts(&observer, INGRESS_STREAM).publications
    })
}

#[test]
fn aeron_1574_pending_publication_naive_leaks_leakless_does_not() {
    assert_eq!(timed_out_with_publication_pending::<Naive>(), 1);
    assert_eq!(timed_out_with_publication_pending::<Leakless>(), 0);
}

/// Adds a publication to `channel` through the `Driver` trait and waits for it.
fn publication(driver: &AeronDriver, stream: i32) -> leakless::Owned<Tracked<Publication>> {
    driver
        .add_publication(CHANNEL, stream)
        .wait_timeout(WAIT)
        .expect("created in time")
        .expect("created")
}

#[test]
fn a_closed_publication_lingers_keeps_the_next_one_connected_and_closes_with_the_driver() {
    const STREAM: i32 = 303;
    let media = SteppedDriver::launch().unwrap();
    let observer = media.client().unwrap();
    // A subscriber, so publications on the stream connect.
    let _subscriber = observer
        .async_add_subscription(C_CHANNEL, STREAM, Handlers::NONE, Handlers::NONE)
        .and_then(|poller| poller.poll_blocking(WAIT))
        .unwrap();
    // A linger far longer than the test: nothing here depends on timing.
    let options = AeronOptions {
        publication_linger: Duration::from_secs(3_600),
    };
    let driver = AeronDriver::connect_with(media.dir(), options).unwrap();

    let first = publication(&driver, STREAM);
    assert!(eventually(WAIT, || driver.is_connected(&first)));
    leakless::Owned::close(first).unwrap();
    assert_eq!(driver.ledger().live(), 0, "closed, as its owner sees it");
    assert_eq!(driver.lingering(), 1);
    assert_eq!(
        settles_at(1, || driver_counts(&observer, STREAM).publications),
        1,
        "the driver keeps the publication while it lingers"
    );

    // The next publication to the same channel and stream shares the
    // driver's publication, which is connected already.
    let second = publication(&driver, STREAM);
    assert!(driver.is_connected(&second), "connected from the start");
    leakless::Owned::close(second).unwrap();
    assert!(
        eventually(WAIT, || driver.lingering() == 1),
        "one per channel and stream"
    );

    // Dropping the driver closes what lingers.
    drop(driver);
    assert!(eventually(WAIT, || {
        driver_counts(&observer, STREAM).publications == 0
    }));
}

#[test]
fn without_linger_a_closed_publication_closes_at_once() {
    const STREAM: i32 = 304;
    let media = SteppedDriver::launch().unwrap();
    let observer = media.client().unwrap();
    let options = AeronOptions {
        publication_linger: Duration::ZERO,
    };
    let driver = AeronDriver::connect_with(media.dir(), options).unwrap();
    let only = publication(&driver, STREAM);
    assert!(eventually(WAIT, || driver_counts(&observer, STREAM)
        .publications
        == 1));
    leakless::Owned::close(only).unwrap();
    assert_eq!(driver.lingering(), 0);
    assert!(eventually(WAIT, || driver_counts(&observer, STREAM)
        .publications
        == 0));
}
