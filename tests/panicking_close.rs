//! A `Close` that panics, on every release path of a connect: the panic is
//! caught, reported like a close error (with its message), never unwinds
//! out of a `Drop` (which aborts the process when it happens during another
//! panic), and every resource is still closed exactly once.
//!
//! The simulation's `close_panic_rate` makes every close panic after the
//! simulated driver has released the resource, so the audit still sees
//! each close. (The handoff's own paths, and closes during another panic,
//! are in `tests/handoff.rs`.)
#![cfg(not(loom))]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use leakless::connect::{
    AsyncConnect, Backoff, Leakless, Pending, Progress, Released, StateName, connect_with,
};
use leakless::pool::{Pool, PoolConfig};
use leakless::retry::{self, RetryPolicy};
use leakless::sim::{FaultProfile, Sim, SimConfig};

const PANIC: &str = "close panicked: simulated close panic";

/// A one-member simulation whose every close panics.
fn panicking_closes() -> Sim {
    Sim::start(SimConfig {
        faults: FaultProfile {
            close_panic_rate: 1.0,
            ..FaultProfile::default()
        },
        members: 1,
        ..SimConfig::default()
    })
    .expect("a valid simulation")
}

fn assert_all_closed_once(sim: &Sim) {
    sim.settle();
    let ledger = sim.ledger();
    assert_eq!((ledger.live(), ledger.double_closes), (0, 0), "{ledger:?}");
    assert_eq!(
        ledger.created_subscriptions + ledger.created_publications,
        ledger.closed_subscriptions + ledger.closed_publications,
        "{ledger:?}"
    );
}

fn panics_reported(released: &Released) -> usize {
    released
        .close_errors
        .iter()
        .filter(|error| error.as_str() == PANIC)
        .count()
}

#[test]
fn closing_a_connected_client_reports_each_panic_and_closes_the_rest() {
    let sim = panicking_closes();
    let client =
        connect_with::<_, Leakless>(sim.driver(), sim.connect_config(), &mut Backoff::default())
            .expect("connects: in a one-member cluster nothing is closed on the way");
    let error = client.close().expect_err("both closes panicked");
    // The subscription and the publication: both closed, both panics reported.
    assert_eq!(panics_reported(&error.released), 2, "{error}");
    assert_all_closed_once(&sim);
}

#[test]
fn a_failed_connect_reports_the_panics_of_what_it_released() {
    // Three members and no answer: the attempt times out in Subscribed,
    // holding the subscription and a publication, with the losers' closed
    // or cancelled on the way.
    let sim = Sim::start(SimConfig {
        faults: FaultProfile {
            close_panic_rate: 1.0,
            lost_reply_rate: 1.0,
            ..FaultProfile::default()
        },
        members: 3,
        ..SimConfig::default()
    })
    .expect("a valid simulation");
    // The deadline passes once nothing more can happen (frozen clock).
    let failed = match connect_with::<_, Leakless>(
        sim.driver(),
        sim.connect_config(),
        &mut sim.expire_when_quiet(),
    ) {
        Ok(_) => panic!("no reply, no connect"),
        Err(failed) => failed,
    };
    assert_eq!(
        failed.error.timed_out_in(),
        Some(StateName::Subscribed),
        "{}",
        failed.error
    );
    assert!(
        panics_reported(&failed.released) >= 2,
        "{:?}",
        failed.released
    );
    assert_all_closed_once(&sim);
}

#[test]
fn dropping_an_attempt_in_any_state_does_not_unwind_and_closes_everything() {
    let sim = panicking_closes();
    // Pending, with the subscription ready but not yet taken.
    let attempt = AsyncConnect::<Pending, _>::start(sim.driver(), sim.connect_config()).unwrap();
    sim.settle();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(attempt))).is_ok());
    // Subscribed, holding the subscription and a ready publication.
    let mut attempt =
        AsyncConnect::<Pending, _>::start(sim.driver(), sim.connect_config()).unwrap();
    let subscribed = loop {
        match attempt.poll() {
            Progress::Pending(same) => attempt = same,
            Progress::Ready(next) => break next,
            Progress::Failed(failed) => panic!("{failed}"),
        }
    };
    sim.settle();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(subscribed))).is_ok());
    // Connected.
    let client =
        connect_with::<_, Leakless>(sim.driver(), sim.connect_config(), &mut Backoff::default())
            .unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(client))).is_ok());
    assert_all_closed_once(&sim);
}

#[test]
fn the_pool_closes_every_client_through_panicking_closes() {
    let sim = panicking_closes();
    let pool: Pool<_> =
        Pool::start(sim.driver(), PoolConfig::new(2, sim.connect_config())).expect("a valid pool");
    {
        let _lent = pool.check_out(Duration::from_secs(10)).expect("a client");
    } // checked in: no close yet
    let audit = pool.close();
    assert!(audit.clients_closed >= 1, "{audit:?}");
    assert!(panics_reported(&audit.released) >= 2, "{audit:?}");
    assert_all_closed_once(&sim);
}

#[test]
fn retry_releases_every_failed_attempt_through_panicking_closes() {
    let sim = Sim::start(SimConfig {
        faults: FaultProfile {
            close_panic_rate: 1.0,
            lost_reply_rate: 1.0,
            ..FaultProfile::default()
        },
        ..SimConfig::default()
    })
    .expect("a valid simulation");
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        ..RetryPolicy::default()
    };
    let config = sim.connect_config().timeout(Duration::from_millis(20));
    let error = match retry::connect(policy, sim.driver(), config, &mut Backoff::default()) {
        Ok(_) => panic!("no reply, no connect"),
        Err(error) => error,
    };
    assert_eq!(error.attempts.len(), 3);
    // Each attempt's history records the panics of what it released.
    for attempt in &error.attempts {
        assert!(panics_reported(&attempt.released) >= 1, "{attempt:?}");
    }
    assert_all_closed_once(&sim);
}
