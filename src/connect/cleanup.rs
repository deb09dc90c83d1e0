//! What an attempt does with what it holds and what is still being created
//! when it gives up: the only difference between leakless and the naive
//! (pre-fix Aeron) connect.

use std::fmt::Display;

use crate::{Cancelled, Close, Owned, Requester};

/// What an attempt released when it ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Released {
    /// Egress subscriptions it held and closed.
    pub subscriptions: usize,
    /// Ingress publications it held and closed.
    pub publications: usize,
    /// Creations still in progress that it cancelled: the driver closes
    /// each one when it finishes.
    pub cancelled: usize,
    /// Creations that had finished but were not yet taken: closed here.
    pub closed_late: usize,
    /// Creations still in progress that it forgot (the naive baseline
    /// only): each one leaks when it finishes.
    pub forgotten: usize,
    /// Close errors, as text, in the order they happened.
    pub close_errors: Vec<String>,
}

impl Released {
    /// Adds another report to this one.
    pub fn absorb(&mut self, other: Released) {
        self.subscriptions += other.subscriptions;
        self.publications += other.publications;
        self.cancelled += other.cancelled;
        self.closed_late += other.closed_late;
        self.forgotten += other.forgotten;
        self.close_errors.extend(other.close_errors);
    }

    /// Closes a held resource, counting it with `count`. A close that
    /// fails or panics is recorded in `close_errors` (a panic as "close
    /// panicked: message"); the caller goes on releasing the rest.
    pub(crate) fn close<T: Close>(&mut self, resource: Owned<T>, count: fn(&mut Self))
    where
        T::Error: Display,
    {
        count(self);
        if let Err(error) = resource.close_catching() {
            self.close_errors.push(error.to_string());
        }
    }
}

/// A policy for creations still in progress when an attempt gives up.
///
/// Sealed: [`Leakless`] is the policy; [`Naive`] is the bug, kept as a
/// baseline.
pub trait Cleanup: sealed::Sealed + 'static {
    /// The policy's name, as reports print it.
    const NAME: &'static str;

    /// Deals with a creation still in progress.
    fn give_up<T: Close, E>(pending: Requester<T, E>, released: &mut Released)
    where
        T::Error: Display;
}

/// Cancel what is pending: the handoff closes it, whoever comes second.
#[derive(Debug, Clone, Copy, Default)]
pub struct Leakless;

impl Cleanup for Leakless {
    const NAME: &'static str = "leakless";

    fn give_up<T: Close, E>(pending: Requester<T, E>, released: &mut Released)
    where
        T::Error: Display,
    {
        match pending.cancel() {
            Ok(Cancelled::WhilePending) => released.cancelled += 1,
            Ok(Cancelled::ClosedLate) => released.closed_late += 1,
            Ok(Cancelled::NothingToClose) => {}
            Err(error) => {
                released.closed_late += 1;
                released.close_errors.push(error.to_string());
            }
        }
    }
}

/// **Baseline only — this is the bug.** Reproduces the Aeron cluster client
/// before the fix of issue #1574: an attempt that gives up releases what it
/// holds and forgets what is still being created, so every creation that
/// finishes afterwards leaks (a live resource that nobody owns).
///
/// It exists so the soak and the tests can show the leak next to its
/// absence. Never use it for anything else.
#[derive(Debug, Clone, Copy, Default)]
pub struct Naive;

impl Cleanup for Naive {
    const NAME: &'static str = "naive";

    fn give_up<T: Close, E>(pending: Requester<T, E>, released: &mut Released)
    where
        T::Error: Display,
    {
        if pending.is_spent() {
            return; // nothing pending: nothing to forget
        }
        released.forgotten += 1;
        // The bug, faithfully: lose the only handle to the pending creation
        // (Aeron lost the registration id). Dropping would cancel it.
        std::mem::forget(pending);
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Leakless {}
    impl Sealed for super::Naive {}
}
