//! Shared pieces of the loom models: a resource that asserts it is closed
//! at most once, and model runners with explicit bounds.
#![allow(dead_code)] // each model file uses a different subset

pub mod driver;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use leakless::Close;

/// A resource whose close is counted; a second close of the same resource
/// fails the model on the spot.
#[derive(Debug)]
pub struct Res {
    closes: Arc<AtomicUsize>,
}

impl Res {
    /// A new resource and the counter its closes go to.
    pub fn new() -> (Self, Arc<AtomicUsize>) {
        let closes = Arc::new(AtomicUsize::new(0));
        (
            Res {
                closes: closes.clone(),
            },
            closes,
        )
    }
}

impl Close for Res {
    type Error = ();
    fn close(self) -> Result<(), ()> {
        let before = self.closes.fetch_add(1, SeqCst);
        if before != 0 {
            // A second close can only come from a duplicated value, whose
            // Arc must not be released twice while the panic unwinds.
            std::mem::forget(self);
            panic!("resource closed twice");
        }
        Ok(())
    }
}

/// Asserts, at the end of a model, that the resource was closed exactly once.
pub fn assert_closed_once(counter: &Arc<AtomicUsize>) {
    let closes = counter.load(SeqCst);
    assert!(
        closes == 1,
        "resource closed {closes} times, expected exactly once"
    );
}

/// Runs a model over every interleaving (no preemption bound): for the
/// two-thread models, whose state space is small.
pub fn unbounded(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = None;
    check(builder, f);
}

/// Runs a model with the preemption bound from `LOOM_MAX_PREEMPTIONS`, or 3:
/// for models with three threads.
pub fn bounded(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    check(builder, f);
}

/// Runs the model and reports how many interleavings it explored (shown
/// with `--nocapture`; the figures in docs/DESIGN.md come from here).
fn check(builder: loom::model::Builder, f: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::AtomicUsize as StdCounter;
    let runs = std::sync::Arc::new(StdCounter::new(0));
    let counted = runs.clone();
    let bound = builder.preemption_bound;
    builder.check(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    let name = std::thread::current().name().unwrap_or("model").to_owned();
    println!(
        "{name}: {} interleavings, preemption bound {bound:?}",
        runs.load(std::sync::atomic::Ordering::Relaxed)
    );
}
