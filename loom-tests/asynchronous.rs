//! loom models of the handoff awaited as a future: the waker registered in
//! the same state word and slot as a parked thread. Every model asserts
//! exactly-once close; a lost wake shows as a deadlock of `block_on`.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_async`
#![cfg(loom)]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};

use loom::future::block_on;
use loom::thread;

use leakless::handoff;
use support::{Res, assert_closed_once, unbounded};

type Error = &'static str;

/// complete ∥ await: the wake is not lost.
#[test]
fn complete_vs_await() {
    unbounded(|| {
        let (creator, requester) = handoff::<Res, Error>();
        let (resource, closes) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        block_on(requester).unwrap().close().unwrap();
        let _ = completer.join().unwrap();
        assert_closed_once(&closes);
    });
}

/// complete ∥ drop of a future that was polled (its waker registered).
#[test]
fn complete_vs_drop_of_polled_future() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let (resource, closes) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        let mut cx = Context::from_waker(Waker::noop());
        if let std::task::Poll::Ready(outcome) = Pin::new(&mut requester).poll(&mut cx) {
            outcome.unwrap().close().unwrap();
        }
        drop(requester);
        let _ = completer.join().unwrap();
        assert_closed_once(&closes);
    });
}

/// After a poll registered its waker: complete ∥ `is_finished` then
/// `try_take`. Once `is_finished` says so, `try_take` returns the outcome,
/// also while the creator is still handing the waker's slot back.
#[test]
fn is_finished_then_try_take_after_a_poll_vs_complete() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let (resource, closes) = Res::new();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut requester).poll(&mut cx).is_pending());
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        // The pattern users write: check, then take.
        while !requester.is_finished() {
            thread::yield_now();
        }
        let outcome = requester.try_take();
        assert!(outcome.is_some(), "is_finished, yet try_take refused");
        if let Some(outcome) = outcome {
            outcome.unwrap().close().unwrap();
        }
        let _ = completer.join().unwrap();
        assert_closed_once(&closes);
    });
}

/// A first poll registers one waker, the next polls (by `block_on`) another,
/// while the creator completes: the second is woken.
#[test]
fn re_poll_with_another_waker_vs_complete() {
    unbounded(|| {
        let (creator, mut requester) = handoff::<Res, Error>();
        let (resource, closes) = Res::new();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        let mut cx = Context::from_waker(Waker::noop());
        let taken = match Pin::new(&mut requester).poll(&mut cx) {
            std::task::Poll::Ready(outcome) => outcome,
            std::task::Poll::Pending => block_on(requester),
        };
        taken.unwrap().close().unwrap();
        let _ = completer.join().unwrap();
        assert_closed_once(&closes);
    });
}
