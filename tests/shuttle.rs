//! Beyond loom's bound: randomized (and PCT) schedules with many threads,
//! from shuttle, over the handoff and the pool's shelf. loom explores every
//! interleaving of 2–3 threads; these run 8 and more threads through
//! thousands of schedules each, and every schedule asserts exactly-once
//! close. (shuttle checks schedules, not memory orderings: that is loom's.)
//!
//! The `shuttle` feature puts leakless's sync facade on shuttle's
//! primitives, so this file needs it:
//!
//! ```sh
//! cargo test --release --features shuttle --test shuttle                    # 10,000 schedules a test
//! SHUTTLE_SCHEDULES=200000 cargo test --release --features shuttle --test shuttle   # long
//! ```
#![cfg(all(feature = "shuttle", not(loom)))]

// The loom models' driver (`loom-tests/support/driver.rs`) is written
// against `loom::sync` and `loom::thread`; shuttle has the same names, so
// the same driver runs here under shuttle's schedulers.
extern crate shuttle as loom;
#[allow(dead_code)]
#[path = "../loom-tests/support/driver.rs"]
mod driver;

use std::time::Duration;

use shuttle::sync::Arc;
use shuttle::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use shuttle::thread;

use leakless::connect::{AsyncConnect, ConnectConfig, Idle, Pending, Progress, Subscribed};
use leakless::pool::Shelf;
use leakless::retry::{Retry, RetryPolicy};
use leakless::{Close, Requester, handoff};

fn schedules() -> usize {
    std::env::var("SHUTTLE_SCHEDULES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// A resource that counts its closes in a shared slot of its own.
struct Res {
    closes: Arc<AtomicUsize>,
}

impl Close for Res {
    type Error = ();
    fn close(self) -> Result<(), ()> {
        if self.closes.fetch_add(1, SeqCst) > 0 {
            // A second close can only come from a duplicated value: forget
            // it, so the shared count is not released twice, and fail.
            std::mem::forget(self);
            panic!("resource closed twice");
        }
        Ok(())
    }
}

fn resource() -> (Res, Arc<AtomicUsize>) {
    let closes = Arc::new(AtomicUsize::new(0));
    (
        Res {
            closes: closes.clone(),
        },
        closes,
    )
}

/// What a requester thread does with its handoff.
fn request(kind: usize, mut requester: Requester<Res, ()>) {
    match kind % 6 {
        // Polls once (a waker registered), then checks and takes: once
        // is_finished says so, try_take must hand the outcome over.
        5 => {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let polled = std::future::Future::poll(std::pin::Pin::new(&mut requester), &mut cx);
            if let std::task::Poll::Ready(Ok(resource)) = polled {
                resource.close().unwrap();
                return;
            }
            while !requester.is_finished() {
                thread::yield_now();
            }
            match requester.try_take() {
                Some(Ok(resource)) => resource.close().unwrap(),
                Some(Err(error)) => panic!("created, yet {error:?}"),
                None => panic!("is_finished, yet try_take refused"),
            }
        }
        // Waits for it and closes it.
        0 => {
            if let Ok(resource) = requester.wait() {
                resource.close().unwrap();
            }
        }
        // Takes it if it is there, else gives up.
        1 => match requester.try_take() {
            Some(Ok(resource)) => resource.close().unwrap(),
            _ => {
                let _ = requester.cancel();
            }
        },
        // Gives up at once.
        2 => {
            let _ = requester.cancel();
        }
        // Drops it.
        3 => drop(requester),
        // A timed wait that may come back empty, then gives up.
        _ => match requester.wait_timeout(std::time::Duration::ZERO) {
            Some(Ok(resource)) => resource.close().unwrap(),
            _ => drop(requester),
        },
    }
}

/// Six handoffs, twelve threads: a creator and a requester each, every
/// requester behaving differently. Each created resource is closed exactly
/// once in every schedule.
fn many_handoffs() {
    let mut closes = Vec::new();
    let mut threads = Vec::new();
    for kind in 0..6 {
        let (creator, requester) = handoff::<Res, ()>();
        let (resource, closed) = resource();
        closes.push(closed);
        threads.push(thread::spawn(move || {
            let _ = creator.complete(Ok(resource));
        }));
        threads.push(thread::spawn(move || request(kind, requester)));
    }
    for thread in threads {
        thread.join().unwrap();
    }
    for (kind, closed) in closes.iter().enumerate() {
        assert_eq!(
            closed.load(SeqCst),
            1,
            "requester kind {kind}: closed exactly once"
        );
    }
}

#[test]
fn many_handoffs_random_schedules() {
    shuttle::check_random(many_handoffs, schedules());
}

#[test]
fn many_handoffs_pct_schedules() {
    shuttle::check_pct(many_handoffs, schedules(), 3);
}

/// The pool's shelf: eight holders check clients out and back in (or
/// discard them) while the pool adds clients and closes; every client comes
/// back exactly once and is closed exactly once.
fn shelf_under_many_holders() {
    let shelf = Arc::new(Shelf::new());
    let mut closes = Vec::new();
    for _ in 0..4 {
        let (client, closed) = resource();
        closes.push(closed);
        shelf
            .add(client)
            .unwrap_or_else(|client| client.close().unwrap());
    }
    let holders: Vec<_> = (0..8)
        .map(|i| {
            let shelf = shelf.clone();
            thread::spawn(move || {
                if let Some(client) = shelf.take() {
                    if i % 3 == 0 {
                        // Unhealthy: closed, not returned.
                        shelf.discard();
                        client.close().unwrap();
                    } else if let Err(client) = shelf.put_back(client) {
                        client.close().unwrap(); // the pool closed first
                    }
                }
            })
        })
        .collect();
    let (late, late_closed) = resource();
    let adder = {
        let shelf = shelf.clone();
        thread::spawn(move || {
            if let Err(client) = shelf.add(late) {
                client.close().unwrap();
            }
        })
    };
    let (idle, _still_out) = shelf.close();
    for client in idle {
        client.close().unwrap();
    }
    for holder in holders {
        holder.join().unwrap();
    }
    adder.join().unwrap();
    closes.push(late_closed);
    for (i, closed) in closes.iter().enumerate() {
        assert_eq!(closed.load(SeqCst), 1, "client {i}: closed exactly once");
    }
}

#[test]
fn shelf_random_schedules() {
    shuttle::check_random(shelf_under_many_holders, schedules());
}

#[test]
fn shelf_pct_schedules() {
    shuttle::check_pct(shelf_under_many_holders, schedules(), 3);
}

/// The cleanup policy under test: leakless, or the naive baseline when
/// `loom-tests/mutants.sh` runs these tests as the `naive_connect` mutant.
#[cfg(not(leakless_mutant = "naive_connect"))]
type Policy = leakless::connect::Leakless;
#[cfg(leakless_mutant = "naive_connect")]
type Policy = leakless::connect::Naive;

type Attempt<S> = AsyncConnect<S, driver::ModelDriver, Policy>;

/// Between polls a client lets the scheduler run someone else.
struct YieldToScheduler;

impl Idle for YieldToScheduler {
    fn idle(&mut self, _progressed: bool) {
        thread::yield_now();
    }
}

fn two_members() -> ConnectConfig {
    ConnectConfig::new("sim:shuttle-egress", 102)
        .member(0, "sim:shuttle-member-0")
        .member(1, "sim:shuttle-member-1")
}

/// Polls one state of an attempt until it moves on (returned), fails, or
/// `left` polls are used up (then the attempt is given up: closed or
/// dropped, as `close` says).
fn stage<S: leakless::connect::Stage, N>(
    mut attempt: Attempt<S>,
    left: &mut usize,
    close: bool,
    poll: fn(Attempt<S>) -> Progress<Attempt<S>, N>,
) -> Option<N> {
    loop {
        if *left == 0 {
            give_up(attempt, close);
            return None;
        }
        *left -= 1;
        match poll(attempt) {
            Progress::Pending(same) => attempt = same,
            Progress::Ready(next) => return Some(next),
            Progress::Failed(_) => return None,
        }
        thread::yield_now();
    }
}

/// A client that gives up after `polls` polls (closing or dropping the
/// attempt in whatever state it reached), or earlier if it connects.
fn impatient_client(driver: driver::ModelDriver, polls: usize, close: bool) {
    let pending = Attempt::<Pending>::start(driver, two_members()).unwrap();
    let mut left = polls;
    let Some(subscribed) = stage(pending, &mut left, close, Attempt::<Pending>::poll) else {
        return;
    };
    if let Some(client) = stage(subscribed, &mut left, close, Attempt::<Subscribed>::poll) {
        give_up(client, close);
    }
}

fn give_up<S: leakless::connect::Stage>(attempt: Attempt<S>, close: bool) {
    if close {
        let _ = attempt.close();
    } else {
        drop(attempt);
    }
}

/// Three clusters, each with a client, a conductor finishing creations in
/// whatever order they come, and a timer that expires every deadline once
/// at a point of the scheduler's choosing: nine threads. Client 0 retries
/// until connected (its first attempt may time out with the subscription
/// or two publications pending); clients 1 and 2 give up after a few polls
/// by closing or dropping, in whatever state they reached. When the
/// clients are done, the conductors finish every creation still asked for
/// (late completions nobody waits for). Every resource ever created is
/// closed exactly once, in every schedule.
fn connects_retries_and_give_ups() {
    let drivers: Vec<_> = (0..3).map(|_| driver::ModelDriver::new()).collect();
    let done = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for (i, driver) in drivers.iter().enumerate() {
        let conductor = driver.clone();
        let finished = done.clone();
        threads.push(thread::spawn(move || {
            loop {
                let all_done = finished.load(SeqCst) == 3;
                while conductor.complete_subscription() || conductor.complete_publication() {}
                if all_done {
                    break;
                }
                thread::yield_now();
            }
        }));
        let timer = driver.clone();
        threads.push(thread::spawn(move || timer.expire()));
        let client = driver.clone();
        let finished = done.clone();
        threads.push(thread::spawn(move || {
            if i == 0 {
                let policy = RetryPolicy {
                    max_attempts: 3,
                    initial_backoff: Duration::ZERO,
                    max_backoff: Duration::ZERO,
                    ..RetryPolicy::default()
                };
                let connected = Retry::<_, Policy>::connect(
                    policy,
                    client,
                    two_members(),
                    &mut YieldToScheduler,
                )
                .expect("the timer fires once, so a retry connects");
                connected.close().unwrap();
            } else {
                impatient_client(client, 2 + 2 * i, i == 1);
            }
            finished.fetch_add(1, SeqCst);
        }));
    }
    for thread in threads {
        thread.join().unwrap();
    }
    for driver in &drivers {
        driver.assert_all_closed_once();
    }
}

#[test]
fn connects_random_schedules() {
    shuttle::check_random(connects_retries_and_give_ups, schedules());
}

#[test]
fn connects_pct_schedules() {
    shuttle::check_pct(connects_retries_and_give_ups, schedules(), 3);
}
