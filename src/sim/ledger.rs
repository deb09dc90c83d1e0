//! The ledger: what the simulated driver has created and closed.

use std::collections::HashSet;

use crate::sync::os::{Mutex, MutexGuard};

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
    /// (late completions, closed exactly once).
    pub late_closes: u64,
}

impl LedgerSnapshot {
    /// Live subscriptions and publications together.
    pub fn live(&self) -> usize {
        self.live_subscriptions + self.live_publications
    }
}

/// Counts the simulated driver's resources: live, created, closed, peak,
/// and double closes.
#[derive(Debug, Default)]
pub struct Ledger {
    state: Mutex<State>,
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
    pub(crate) fn created(&self, kind: Kind, id: u64) {
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
    pub(crate) fn closed(&self, kind: Kind, id: u64) {
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
    pub(crate) fn closed_late(&self) {
        self.state().counts.late_closes += 1;
    }

    /// The counts now.
    pub fn snapshot(&self) -> LedgerSnapshot {
        self.state().counts
    }
}
