//! The audit: a ledger of what a driver has created and closed, usable
//! with any [`Driver`](crate::Driver).
//!
//! A driver records each resource it creates and each close; at shutdown
//! the ledger says what is still live, the peak, and any double close
//! (counted, never hidden). The simulation keeps one; the `aeron` driver
//! keeps one; a driver of yours can wrap its resources in [`Tracked`] to
//! keep one too:
//!
//! ```
//! use std::sync::Arc;
//! use leakless::Close;
//! use leakless::audit::{Kind, Ledger};
//!
//! struct Subscription;
//! impl Close for Subscription {
//!     type Error = std::convert::Infallible;
//!     fn close(self) -> Result<(), Self::Error> { Ok(()) }
//! }
//!
//! let ledger = Arc::new(Ledger::default());
//! let tracked = ledger.track(Kind::Subscription, Subscription);
//! assert_eq!(ledger.snapshot().live_subscriptions, 1);
//! tracked.close().unwrap();
//! assert_eq!(ledger.snapshot().live(), 0); // nothing live at shutdown
//! ```

use std::collections::HashSet;
use std::ops::Deref;

use crate::Close;
use crate::sync::os::atomic_order::Relaxed;
use crate::sync::os::{Arc, AtomicU64, Mutex, MutexGuard};

/// Which kind of resource a ledger entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A subscription.
    Subscription,
    /// A publication.
    Publication,
}

/// A snapshot of the ledger's counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LedgerSnapshot {
    /// Subscriptions created and not yet closed.
    pub live_subscriptions: usize,
    /// Publications created and not yet closed.
    pub live_publications: usize,
    /// Subscriptions ever created.
    pub created_subscriptions: u64,
    /// Publications ever created.
    pub created_publications: u64,
    /// Subscriptions ever closed.
    pub closed_subscriptions: u64,
    /// Publications ever closed.
    pub closed_publications: u64,
    /// The most resources live at once.
    pub peak_live: usize,
    /// Closes of a resource that was already closed (never hidden).
    pub double_closes: u64,
    /// Resources closed by the driver because their requester had given up
    /// (late completions, closed exactly once), as the driver reports them.
    pub late_closes: u64,
}

impl LedgerSnapshot {
    /// Live subscriptions and publications together.
    pub fn live(&self) -> usize {
        self.live_subscriptions + self.live_publications
    }
}

/// Counts a driver's resources: live, created, closed, peak, and double
/// closes.
#[derive(Debug, Default)]
pub struct Ledger {
    state: Mutex<State>,
    next_id: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    live: HashSet<(Kind, u64)>,
    counts: LedgerSnapshot,
}

impl Ledger {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere does not make the counts wrong: keep counting.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Records a creation.
    pub fn created(&self, kind: Kind, id: u64) {
        let mut state = self.state();
        state.live.insert((kind, id));
        match kind {
            Kind::Subscription => {
                state.counts.created_subscriptions += 1;
                state.counts.live_subscriptions += 1;
            }
            Kind::Publication => {
                state.counts.created_publications += 1;
                state.counts.live_publications += 1;
            }
        }
        state.counts.peak_live = state.counts.peak_live.max(state.live.len());
    }

    /// Records a close; a close of something not live is a double close.
    pub fn closed(&self, kind: Kind, id: u64) {
        let mut state = self.state();
        if !state.live.remove(&(kind, id)) {
            state.counts.double_closes += 1;
            return;
        }
        match kind {
            Kind::Subscription => {
                state.counts.closed_subscriptions += 1;
                state.counts.live_subscriptions -= 1;
            }
            Kind::Publication => {
                state.counts.closed_publications += 1;
                state.counts.live_publications -= 1;
            }
        }
    }

    /// Records a late completion that the driver closed.
    pub fn closed_late(&self) {
        self.state().counts.late_closes += 1;
    }

    /// The counts now.
    pub fn snapshot(&self) -> LedgerSnapshot {
        self.state().counts
    }

    /// A new id for a resource this ledger will track.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed)
    }

    /// Records `resource` as created, and returns it wrapped so that its
    /// close is recorded too.
    pub fn track<T: Close>(self: &Arc<Self>, kind: Kind, resource: T) -> Tracked<T> {
        let id = self.next_id();
        self.created(kind, id);
        Tracked {
            resource,
            kind,
            id,
            ledger: self.clone(),
        }
    }
}

/// A resource whose creation and close a [`Ledger`] records.
pub struct Tracked<T> {
    resource: T,
    kind: Kind,
    id: u64,
    ledger: Arc<Ledger>,
}

impl<T> Deref for Tracked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.resource
    }
}

impl<T: Close> Close for Tracked<T> {
    type Error = T::Error;
    fn close(self) -> Result<(), T::Error> {
        self.ledger.closed(self.kind, self.id);
        self.resource.close()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked")
            .field("resource", &self.resource)
            .field("kind", &self.kind)
            .finish()
    }
}
