//! loom models of the handoff: every interleaving of the creator's and the
//! requester's operations, each asserting that a created resource is closed
//! exactly once (and, through loom's leak tracking, that the shared
//! allocation is freed).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_handoff`
#![cfg(loom)]

mod support;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;

use leakless::{Cancelled, CreateError, Delivery, handoff};
use support::{Res, assert_closed_once, bounded, unbounded};

type Error = &'static str;

#[test]
fn complete_vs_take() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let (resource, counter) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        match requester.try_take() {
            Some(taken) => taken.unwrap().close().unwrap(),
            None => drop(requester),
        }
        let delivery = completer.join().unwrap().unwrap();
        assert_ne!(delivery, Delivery::Discarded);
        assert_closed_once(&counter);
    });
}

#[test]
fn complete_vs_wait() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let (resource, counter) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        requester.wait().unwrap().close().unwrap();
        assert_eq!(completer.join().unwrap(), Ok(Delivery::Delivered));
        assert_closed_once(&counter);
    });
}

#[test]
fn complete_vs_cancel() {
    unbounded(|| {
        let (creator, requester) = handoff::<Res, Error>();
        let (resource, counter) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        let cancelled = requester.cancel().unwrap();
        let delivery = completer.join().unwrap().unwrap();
        // Exactly one side reports the late close it did.
        let late_closes = usize::from(cancelled.closed_resource())
            + usize::from(delivery == Delivery::ClosedLate);
        assert_eq!(late_closes, 1);
        assert_closed_once(&counter);
    });
}

#[test]
fn complete_err_vs_cancel() {
    unbounded(|| {
        let (creator, requester) = handoff::<Res, Error>();
        let completer = thread::spawn(move || creator.complete(Err("refused")));
        let cancelled = requester.cancel().unwrap();
        let delivery = completer.join().unwrap().unwrap();
        assert!(!cancelled.closed_resource());
        assert_ne!(delivery, Delivery::ClosedLate);
    });
}

#[test]
fn creator_dropped_vs_take() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let dropper = thread::spawn(move || drop(creator));
        if let Some(outcome) = requester.try_take() {
            assert_eq!(outcome.unwrap_err(), CreateError::Abandoned);
        }
        drop(requester);
        dropper.join().unwrap();
    });
}

#[test]
fn creator_dropped_vs_wait() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let dropper = thread::spawn(move || drop(creator));
        assert_eq!(requester.wait().unwrap_err(), CreateError::Abandoned);
        dropper.join().unwrap();
    });
}

#[test]
fn creator_dropped_vs_cancel() {
    unbounded(|| {
        let (creator, requester) = handoff::<Res, Error>();
        let dropper = thread::spawn(move || drop(creator));
        assert_ne!(requester.cancel(), Ok(Cancelled::ClosedLate));
        dropper.join().unwrap();
    });
}

#[test]
fn complete_vs_requester_dropped() {
    unbounded(|| {
        let (creator, requester) = handoff::<Res, Error>();
        let (resource, counter) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        drop(requester);
        let _ = completer.join().unwrap().unwrap();
        assert_closed_once(&counter);
    });
}

/// A timer thread signals the deadline; the requester polls and cancels
/// when it sees it, while the creator completes.
#[test]
fn timeout_vs_complete() {
    bounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let (resource, counter) = Res::new();
        let deadline = Arc::new(AtomicBool::new(false));
        let timer = {
            let deadline = deadline.clone();
            thread::spawn(move || deadline.store(true, SeqCst))
        };
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        loop {
            if let Some(taken) = requester.try_take() {
                taken.unwrap().close().unwrap();
                break;
            }
            if deadline.load(SeqCst) {
                let _ = requester.cancel().unwrap();
                break;
            }
            thread::yield_now();
        }
        let _ = completer.join().unwrap().unwrap();
        timer.join().unwrap();
        assert_closed_once(&counter);
    });
}

/// A wait whose deadline has already passed ∥ complete; then, if the wait
/// came back empty, `then` gives up or waits on. Either way the resource is
/// closed exactly once, and an empty timed wait leaves the request usable.
fn past_deadline_wait_vs_complete(then_cancel: bool) {
    unbounded(move || {
        let (creator, mut requester) = handoff::<Res, Error>();
        let (resource, closes) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        // loom has no clock: a deadline of now has passed by the first check,
        // so this is the timed wait's withdraw racing the completion.
        match requester.wait_until(std::time::Instant::now()) {
            Some(outcome) => outcome.unwrap().close().unwrap(),
            None if then_cancel => {
                let _ = requester.cancel();
            }
            None => requester.wait().unwrap().close().unwrap(),
        }
        let _ = completer.join().unwrap();
        assert_closed_once(&closes);
    });
}

#[test]
fn past_deadline_wait_then_cancel_vs_complete() {
    past_deadline_wait_vs_complete(true);
}

#[test]
fn past_deadline_wait_then_wait_vs_complete() {
    past_deadline_wait_vs_complete(false);
}

/// A zero timeout is a deadline of now: the same race, through
/// `wait_timeout`.
#[test]
fn zero_timeout_wait_vs_creator_dropped() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let dropper = thread::spawn(move || drop(creator));
        match requester.wait_timeout(std::time::Duration::ZERO) {
            Some(outcome) => assert!(outcome.is_err(), "abandoned: nothing to take"),
            None => assert!(requester.wait().is_err(), "abandoned after the wait"),
        }
        dropper.join().unwrap();
    });
}
