//! The creating side of a handoff.

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

use super::state::{ABANDONED, DONE, GONE, WAITING};
use super::{Delivery, Inner, Shared};
use crate::Close;
use crate::close::{CloseError, close_contained, contained};
use crate::mutant;
use crate::sync::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// The side that creates the resource: completes the handoff once, with the
/// resource or the error.
///
/// Dropping a `Creator` without completing (including during a panic
/// unwind) tells the requester that creation was abandoned.
#[must_use = "dropping a Creator abandons the creation"]
pub struct Creator<T: Close, E> {
    shared: Shared<T, E>,
    _owns: PhantomData<Inner<T, E>>,
}

// SAFETY: a Creator moves a `T` or an `E` to another thread (into the cell
// or, when the requester has gone, into `close`), and touches the shared
// allocation only through the state word's protocol, so sending it is sound
// when `T` and `E` may be sent.
unsafe impl<T: Close + Send, E: Send> Send for Creator<T, E> {}

impl<T: Close, E> Creator<T, E> {
    pub(super) fn new(shared: Shared<T, E>) -> Self {
        Self {
            shared,
            _owns: PhantomData,
        }
    }

    /// Whether the requester has given up.
    ///
    /// Completing now would close the resource at once
    /// ([`Delivery::ClosedLate`]); a driver that can cancel a creation in
    /// progress (Aeron removes a pending add by registration id) may do that
    /// instead and drop this creator. Wait-free: one atomic load.
    pub fn is_cancelled(&self) -> bool {
        // SAFETY: not completed (complete consumes self), so live: the
        // requester frees only after seeing DONE, which only we set.
        // ORDERING: Relaxed: a hint; complete/drop decide with their own RMW.
        unsafe { self.shared.get() }.state.load(Relaxed) & GONE != 0
    }

    /// Completes the creation with its outcome.
    ///
    /// If the requester is still there it now owns the outcome
    /// ([`Delivery::Delivered`]). If it already gave up, this side comes
    /// second and closes the resource here ([`Delivery::ClosedLate`]),
    /// returning the close error if closing fails, or
    /// [`CloseError::Panicked`] if the resource's `close` panicked (the
    /// panic is caught; the handoff is finished either way).
    ///
    /// Lock-free: one atomic read-modify-write (two more, and an unpark, if
    /// the requester is parked). The write of the outcome happens-before the
    /// requester's read of it.
    pub fn complete(self, outcome: Result<T, E>) -> Result<Delivery, CloseError<T::Error>> {
        let this = ManuallyDrop::new(self);
        let shared = this.shared;
        // SAFETY: `DONE` is not set yet (only this consumed half sets it), so
        // the allocation is live and the cell belongs to the creator alone.
        unsafe { shared.get().value.with_mut(|cell| (*cell).write(outcome)) };
        // SAFETY: the allocation is live until this call sees `GONE`.
        let requester_gone = unsafe { finish(shared, DONE) };
        if !requester_gone.seen {
            // SAFETY: the requester frees; we do not use the pointer again.
            unsafe { shared.release(requester_gone.really) };
            return Ok(Delivery::Delivered);
        }
        // SAFETY: the requester set GONE before our RMW (acquired), so it
        // never touches the allocation again: the cell and memory are ours.
        let outcome = unsafe { shared.take_value() };
        // SAFETY: as above; the pointer is not used after this.
        unsafe { shared.release(requester_gone.really) };
        match outcome {
            Ok(resource) => close_contained(resource).map(|()| Delivery::ClosedLate),
            Err(_) => Ok(Delivery::Discarded),
        }
    }
}

impl<T: Close, E> Drop for Creator<T, E> {
    fn drop(&mut self) {
        // SAFETY: not completed (complete skips this Drop), so live.
        let requester_gone = unsafe { finish(self.shared, DONE | ABANDONED) };
        // SAFETY: the cell is empty; we do not use the pointer again.
        unsafe { self.shared.release(requester_gone.really) };
    }
}

/// Whether the requester had gone when the creator finished.
struct Gone {
    /// What the creator acts on (decides to close by).
    seen: bool,
    /// What its RMW returned; differs from `seen` only in the BOTH_CLOSE mutant.
    really: bool,
}

/// Sets the creator's bits, wakes a parked requester, and says whether the
/// requester had already gone (so the creator must close and free).
///
/// # Safety
/// The allocation must be live and `bits` not yet set.
unsafe fn finish<T, E>(shared: Shared<T, E>, bits: u8) -> Gone {
    // SAFETY: live, per the caller.
    let inner = unsafe { shared.get() };
    // A requester that has gone never touches the state again, so seeing
    // GONE with a plain load settles it without a read-modify-write.
    // ORDERING: Acquire pairs with the requester's Release RMW of GONE: its
    // last accesses happen-before our close and free.
    let now = inner.state.load(if mutant::RELAXED_GONE_LOAD {
        Relaxed
    } else {
        Acquire
    });
    let prev = if now & GONE != 0 {
        now
    } else {
        // ORDERING: Release publishes the cell write to the requester's
        // Acquire load; Acquire makes the requester's waiter write (WAITING)
        // or its last accesses (GONE) happen-before what we do next.
        let order = if mutant::RELAXED_PUBLISH {
            Relaxed
        } else {
            AcqRel
        };
        // Our bits are set once, so adding them is or-ing them; fetch_add
        // is a single instruction where fetch_or is a compare-exchange loop.
        inner.state.fetch_add(bits, order)
    };
    let seen = if mutant::BOTH_CLOSE {
        inner.state.load(Acquire)
    } else {
        prev
    };
    if prev & WAITING != 0 {
        // The requester is parked and, seeing DONE, waits for WAITING to
        // clear before it frees: the waiter slot is ours until then.
        // SAFETY: exclusive access to the slot while WAITING is set.
        let waiter = inner.waiter.with_mut(|slot| unsafe { (*slot).take() });
        // ORDERING: Release orders our slot access before the requester's
        // free, which follows its Acquire load of the cleared bit.
        // WAITING is set, so subtracting it clears it (one instruction).
        inner.state.fetch_sub(
            WAITING,
            if mutant::RELAXED_WAITING_CLEAR {
                Relaxed
            } else {
                Release
            },
        );
        // The waiter is our own copy: the allocation may already be freed
        // by the time we wake it. A waker is user code: its panic is caught
        // (the handoff is already consistent), so that it cannot unwind out
        // of the creator's drop.
        if let Some(waiter) = waiter {
            let _ = contained(|| waiter.wake());
        }
    }
    Gone {
        seen: seen & GONE != 0,
        really: prev & GONE != 0,
    }
}

impl<T: Close, E> fmt::Debug for Creator<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Creator").finish_non_exhaustive()
    }
}
