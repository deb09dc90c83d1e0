//! The single-use handoff of an asynchronously created resource.
//!
//! [`handoff()`] makes a connected pair: the [`Creator`] goes to whoever
//! creates the resource (a driver's conductor, a background thread), the
//! [`Requester`] stays with whoever asked for it and may give up.
//!
//! **The guarantee:** every resource that is created is closed exactly once:
//! by the requester's [`Owned`](crate::Owned) guard if it took it, otherwise
//! by whichever of "creation finished" ([`Creator::complete`]) and "requester
//! gave up" ([`Requester::cancel`], or dropping it) comes second. There is no
//! interleaving in which it is closed twice or never; the loom models in
//! `loom-tests/` check every one.
//!
//! One allocation per handoff, one state word (four bits, documented in `src/handoff/state.rs`), one value cell;
//! completing, taking and cancelling are lock-free (a bounded number of
//! atomic operations, no lock). Only the blocking waits park.

mod creator;
mod error;
mod requester;
pub(crate) mod state;
mod waiter;

use std::mem::MaybeUninit;
use std::ptr::NonNull;

pub use creator::Creator;
pub use error::{Cancelled, CreateError, Delivery};
pub use requester::{Outcome, Requester};

use crate::sync::Ordering::{Acquire, Release};

use crate::sync::{AtomicU8, Track, UnsafeCell, spin_loop};
use crate::{Close, mutant};

/// Creates a connected [`Creator`] / [`Requester`] pair for one resource.
///
/// # Example
///
/// ```
/// # leakless::doc_model(|| {
/// use leakless::{Close, handoff};
///
/// struct Subscription;
/// impl Close for Subscription {
///     type Error = std::convert::Infallible;
///     fn close(self) -> Result<(), Self::Error> { Ok(()) }
/// }
///
/// let (creator, mut requester) = handoff::<Subscription, String>();
/// assert!(requester.try_take().is_none()); // still being created
///
/// let _ = creator.complete(Ok(Subscription));
/// let subscription = requester.try_take().unwrap().unwrap();
/// subscription.close().unwrap();
/// # });
/// ```
pub fn handoff<T: Close, E>() -> (Creator<T, E>, Requester<T, E>) {
    let shared = Shared::allocate();
    (Creator::new(shared), Requester::new(shared))
}

/// The one allocation both halves point to.
pub(crate) struct Inner<T, E> {
    pub(crate) state: AtomicU8,
    /// The outcome; initialised by the creator before it sets `DONE`
    /// (unless `ABANDONED`), moved out by exactly one side afterwards.
    pub(crate) value: UnsafeCell<MaybeUninit<Result<T, E>>>,
    /// Who to wake while the requester waits (`WAITING`): the waker of
    /// the task awaiting it, or the handle of its blocked thread.
    pub(crate) waiter: UnsafeCell<Option<waiter::Waiter>>,
}

/// A pointer to the shared allocation; freed by whichever half sees the
/// other's bit in the state word (see `state.rs`).
pub(crate) struct Shared<T, E>(NonNull<Track<Inner<T, E>>>);

impl<T, E> Clone for Shared<T, E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, E> Copy for Shared<T, E> {}

impl<T, E> Shared<T, E> {
    fn allocate() -> Self {
        let inner = Track::new(Inner {
            state: AtomicU8::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            waiter: UnsafeCell::new(None),
        });
        Shared(NonNull::from(Box::leak(Box::new(inner))))
    }

    /// # Safety
    /// The allocation must not have been freed.
    pub(crate) unsafe fn get(&self) -> &Inner<T, E> {
        // SAFETY: the caller guarantees the allocation is live.
        unsafe { self.0.as_ref() }.get_ref()
    }

    /// Moves the outcome out of the cell.
    ///
    /// # Safety
    /// The cell must be initialised, the caller must have exclusive access to
    /// it (established through the state word), and must not read it again.
    pub(crate) unsafe fn take_value(&self) -> Result<T, E> {
        // A read, not a write: moving out leaves the bytes in place, and the
        // model must not call two reads a write-write race (see BOTH_CLOSE).
        // SAFETY: live and exclusively ours, per the caller's contract.
        unsafe { self.get().value.with(|cell| (*cell).assume_init_read()) }
    }

    /// Ends one side's use of the allocation after it gave up or finished:
    /// the side that came second frees it.
    ///
    /// # Safety
    /// `came_second` must come from the side's own RMW on the state word
    /// (acquire), and the side must not use this pointer again.
    pub(crate) unsafe fn release(self, came_second: bool) {
        if mutant::BOTH_CLOSE {
            // SAFETY: as the caller promises.
            return unsafe { self.release_mutant(came_second) };
        }
        if came_second {
            // SAFETY: the other side is finished, per the caller.
            unsafe { self.free() };
        }
    }

    /// The BOTH_CLOSE mutant lets the side that came first read the cell
    /// after its RMW; to keep the mutant memory-safe (so the models report
    /// its double close, not a use after free), the second side frees only
    /// once the first has signalled it is out.
    unsafe fn release_mutant(self, came_second: bool) {
        // SAFETY: still live: the second side waits for us below.
        let state = &unsafe { self.get() }.state;
        if !came_second {
            state.fetch_or(mutant::FIRST_OUT, Release);
            return;
        }
        while state.load(Acquire) & mutant::FIRST_OUT == 0 {
            spin_loop();
        }
        // SAFETY: both sides are out.
        unsafe { self.free() };
    }

    /// Frees the allocation. Does not drop the cell's contents.
    ///
    /// # Safety
    /// The other half must be finished with the allocation (the caller saw
    /// its bit in the state word with acquire ordering), and the caller must
    /// not use this pointer again.
    pub(crate) unsafe fn free(self) {
        // A model-only check (no code outside loom): the free must come after
        // the other side's last access to each part of the allocation. loom
        // sees a free as no access at all, so without this, an ordering that
        // exists only to order the other side's last access before the free
        // could be weakened and every model would still pass.
        // SAFETY: live until the drop below, per the caller.
        let inner = unsafe { self.get() };
        crate::sync::exclusive(&inner.state);
        inner.value.with_mut(|_| ());
        inner.waiter.with_mut(|_| ());
        // SAFETY: allocated by `Box` in `allocate`, freed once, per the caller.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}
