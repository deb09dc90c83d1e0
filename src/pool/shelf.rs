//! The shelf: where a pool keeps its idle clients, and the one place where
//! checking in races with closing. loom checks that race
//! (`loom-tests/pool.rs`): if the shelf closed first, the check-in gets its
//! item back to close; otherwise the close gets it with the idle ones.

use crate::sync::{Condvar, Mutex, MutexGuard};

struct State<T> {
    idle: Vec<T>,
    /// Taken and not yet returned.
    out: usize,
    open: bool,
}

/// Idle items, a count of the ones taken, and whether the shelf is open: a
/// pool's storage, public so the loom model can race its check-in against
/// its close.
///
/// Every item given to the shelf comes back exactly once: from
/// [`take`](Shelf::take), from [`put_back`](Shelf::put_back) or
/// [`add`](Shelf::add) when the shelf is closed, or from
/// [`close`](Shelf::close).
pub struct Shelf<T> {
    state: Mutex<State<T>>,
    /// Signalled when an item is put back or the shelf closes.
    changed: Condvar,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl<T> std::fmt::Debug for Shelf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (idle, out) = self.counts();
        f.debug_struct("Shelf")
            .field("idle", &idle)
            .field("out", &out)
            .field("open", &self.is_open())
            .finish()
    }
}

impl<T> Default for Shelf<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Shelf<T> {
    /// An open, empty shelf.
    pub fn new() -> Self {
        Shelf {
            state: Mutex::new(State {
                idle: Vec::new(),
                out: 0,
                open: true,
            }),
            changed: Condvar::new(),
        }
    }

    /// Takes an idle item, if the shelf is open and has one.
    pub fn take(&self) -> Option<T> {
        let mut state = lock(&self.state);
        if !state.open {
            return None;
        }
        let item = state.idle.pop()?;
        state.out += 1;
        Some(item)
    }

    /// Waits up to `timeout` for an item to be put back (or the shelf to
    /// close); spurious returns are fine, the caller takes again.
    pub fn wait(&self, timeout: std::time::Duration) {
        let state = lock(&self.state);
        if state.open && state.idle.is_empty() {
            let _ = self.changed.wait_timeout(state, timeout);
        }
    }

    /// Adds a new item (from the connector). Hands it back if the shelf is
    /// closed: the caller must close it.
    pub fn add(&self, item: T) -> Result<(), T> {
        let mut state = lock(&self.state);
        if !state.open {
            return Err(item);
        }
        state.idle.push(item);
        self.changed.notify_one();
        Ok(())
    }

    /// Returns a taken item. Hands it back if the shelf closed meanwhile:
    /// the caller must close it (close has come first, so check-in closes).
    pub fn put_back(&self, item: T) -> Result<(), T> {
        let mut state = lock(&self.state);
        state.out = state.out.saturating_sub(1);
        if !state.open {
            return Err(item);
        }
        state.idle.push(item);
        self.changed.notify_one();
        Ok(())
    }

    /// Forgets a taken item that will not come back (it was closed).
    pub fn discard(&self) {
        let mut state = lock(&self.state);
        state.out = state.out.saturating_sub(1);
    }

    /// Closes the shelf: returns the idle items for the caller to close,
    /// and how many are still taken (they close when they are put back).
    pub fn close(&self) -> (Vec<T>, usize) {
        let mut state = lock(&self.state);
        state.open = false;
        self.changed.notify_all();
        (std::mem::take(&mut state.idle), state.out)
    }

    /// Idle and taken counts.
    pub fn counts(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state.idle.len(), state.out)
    }

    /// Whether the shelf is open.
    pub fn is_open(&self) -> bool {
        lock(&self.state).open
    }
}
