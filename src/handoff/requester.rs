//! The requesting side of a handoff.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use super::state::{ABANDONED, DONE, GONE, WAITING};
use super::waiter::Waiter;
use super::{Cancelled, CreateError, Inner, Shared};
use crate::close::{CloseError, close_contained};
use crate::mutant;
use crate::sync::Ordering::{AcqRel, Acquire, Relaxed, Release};
use crate::sync::{SPIN_BEFORE_PARK, park, park_timeout, spin_loop};
use crate::{Close, Owned};

/// What a requester receives: the resource in its guard, or why there is none.
pub type Outcome<T, E> = Result<Owned<T>, CreateError<E>>;

/// The side that asked for a resource: takes it when it is ready, or gives up.
///
/// Giving up is [`cancel`](Requester::cancel) or dropping the requester. If
/// creation already finished, the resource is closed then; if not, the
/// creator closes it when it finishes. Either way it is closed exactly once.
#[must_use = "dropping a Requester gives up on the resource"]
pub struct Requester<T: Close, E> {
    /// `None` once the outcome was taken and the allocation freed.
    shared: Option<Shared<T, E>>,
    _owns: PhantomData<Inner<T, E>>,
}

// SAFETY: a Requester receives a `T` or an `E` that may have been created on
// another thread, and touches the shared allocation only through the state
// word's protocol, so sending it is sound when `T` and `E` may be sent.
unsafe impl<T: Close + Send, E: Send> Send for Requester<T, E> {}

impl<T: Close, E> Requester<T, E> {
    pub(super) fn new(shared: Shared<T, E>) -> Self {
        Self {
            shared: Some(shared),
            _owns: PhantomData,
        }
    }

    /// Takes the outcome if creation has finished; `None` while it has not.
    ///
    /// Once an outcome has been returned, later calls return
    /// [`CreateError::Spent`]. A waker registered by an earlier poll stays
    /// registered when this returns `None`. Lock-free: one atomic load; if
    /// the creator has just finished and is handing back the slot of a
    /// registered waker, a bounded wait for its next two instructions.
    pub fn try_take(&mut self) -> Option<Outcome<T, E>> {
        let Some(shared) = self.shared else {
            return Some(Err(CreateError::Spent));
        };
        // SAFETY: `shared` is only `Some` while the allocation is live.
        let inner = unsafe { shared.get() };
        // ORDERING: Acquire pairs with the creator's Release of DONE, so
        // its write of the cell happens-before our read of it, and with its
        // Release of the WAITING clear, so its slot access precedes ours.
        let mut state = inner.state.load(Acquire);
        // DONE with WAITING: the creator has finished and is taking the
        // registered waker; it clears WAITING next. Waiting for that keeps
        // `is_finished() == true` meaning "try_take returns Some".
        while !mutant::REFUSING_TAKE && state & DONE != 0 && state & WAITING != 0 {
            spin_loop();
            state = inner.state.load(Acquire);
        }
        self.take_if_done(state)
    }

    /// Whether creation has finished: the next [`try_take`](Self::try_take)
    /// returns `Some` (and so does every blocking wait, at once).
    pub fn is_finished(&self) -> bool {
        match self.shared {
            // SAFETY: live while `Some`.
            Some(shared) => unsafe { shared.get() }.state.load(Relaxed) & DONE != 0,
            None => true,
        }
    }

    /// Whether the outcome was already taken: the requester holds nothing.
    pub fn is_spent(&self) -> bool {
        self.shared.is_none()
    }

    /// Blocks until creation finishes and takes the outcome.
    ///
    /// Spins briefly, then parks the thread until the creator completes or
    /// is dropped.
    pub fn wait(&mut self) -> Outcome<T, E> {
        loop {
            if let Some(outcome) = self.block(None) {
                return outcome;
            }
        }
    }

    /// Blocks until creation finishes or `deadline` passes.
    ///
    /// `None` means the deadline passed first: the requester is still
    /// pending, and you choose whether to wait more or
    /// [`cancel`](Self::cancel).
    pub fn wait_until(&mut self, deadline: Instant) -> Option<Outcome<T, E>> {
        self.block(Some(deadline))
    }

    /// Blocks for at most `timeout`; see [`wait_until`](Self::wait_until).
    ///
    /// A timeout too long for the clock (`Duration::MAX`, say) is no
    /// timeout: this then waits as [`wait`](Self::wait) does.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<Outcome<T, E>> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.block(Some(deadline)),
            // A timeout past the end of time is no timeout.
            None => Some(self.wait()),
        }
    }

    /// Gives up on the resource.
    ///
    /// If creation already finished and the resource was not taken, it is
    /// closed here ([`Cancelled::ClosedLate`]) and a close error is returned
    /// to you ([`CloseError::Panicked`] if its `close` panicked: caught). If creation is still in progress, the creator closes the
    /// resource when it finishes ([`Cancelled::WhilePending`]).
    ///
    /// Lock-free: one atomic read-modify-write.
    pub fn cancel(mut self) -> Result<Cancelled, CloseError<T::Error>> {
        self.give_up()
    }

    fn give_up(&mut self) -> Result<Cancelled, CloseError<T::Error>> {
        let Some(shared) = self.shared.take() else {
            return Ok(Cancelled::NothingToClose);
        };
        // SAFETY: live until one side sees the other's bit.
        let inner = unsafe { shared.get() };
        // A task that awaited this requester and was dropped left its waker
        // registered: take it back first, so WAITING is clear below.
        let now = withdraw(inner);
        if mutant::AERON_1574 && now & DONE == 0 {
            // Give up without telling anyone: the completion will find a
            // requester that looks interested and is not there.
            return Ok(Cancelled::WhilePending);
        }
        let prev = if now & DONE != 0 {
            // The creator is finished and never touches the state again:
            // no read-modify-write needed to know we are second.
            now
        } else {
            // ORDERING: Release orders all our accesses before the creator's
            // free; Acquire makes the creator's cell write visible if DONE
            // was set meanwhile and we are the one to close. GONE is set
            // once, so adding it is or-ing it, in one instruction.
            inner.state.fetch_add(
                GONE,
                if mutant::RELEASE_ONLY_GONE {
                    Release
                } else {
                    AcqRel
                },
            )
        };
        let seen = if mutant::BOTH_CLOSE {
            inner.state.load(Acquire)
        } else {
            prev
        };
        if seen & DONE == 0 {
            // SAFETY: the creator frees; we do not use `shared` again.
            unsafe { shared.release(prev & DONE != 0) };
            return Ok(Cancelled::WhilePending);
        }
        let outcome = if seen & ABANDONED == 0 {
            // SAFETY: DONE without ABANDONED: the cell holds the outcome and,
            // the creator being finished, it is ours.
            Some(unsafe { shared.take_value() })
        } else {
            None
        };
        // SAFETY: the creator is finished (DONE acquired; WAITING was
        // withdrawn above) and we do not use `shared` again.
        unsafe { shared.release(prev & DONE != 0) };
        match outcome {
            Some(Ok(resource)) => close_contained(resource).map(|()| Cancelled::ClosedLate),
            _ => Ok(Cancelled::NothingToClose),
        }
    }

    /// Takes the outcome if `state` (loaded with Acquire) says it is ready.
    #[inline]
    fn take_if_done(&mut self, state: u8) -> Option<Outcome<T, E>> {
        if state & DONE == 0 || state & WAITING != 0 {
            return None;
        }
        let shared = self.shared.take()?;
        let outcome = if state & ABANDONED != 0 {
            Err(CreateError::Abandoned)
        } else {
            // SAFETY: DONE (acquired) without ABANDONED: the cell is
            // initialised, and the creator, finished, never touches it again.
            match unsafe { shared.take_value() } {
                Ok(resource) => Ok(Owned::new(resource)),
                Err(error) => Err(CreateError::Failed(error)),
            }
        };
        // SAFETY: DONE without WAITING: the creator is finished with the
        // allocation; `self.shared` is now `None`, so nobody uses it again.
        unsafe { shared.release(true) };
        Some(outcome)
    }

    /// The blocking waits: spin, then publish our thread and park.
    fn block(&mut self, deadline: Option<Instant>) -> Option<Outcome<T, E>> {
        let shared = match self.shared {
            Some(shared) => shared,
            None => return Some(Err(CreateError::Spent)),
        };
        if let Some(outcome) = self.spin(deadline) {
            return Some(outcome);
        }
        // SAFETY: live: we hold `shared` and have not given up.
        let inner = unsafe { shared.get() };
        // A task that awaited this requester may have left its waker.
        let state = withdraw(inner);
        if state & DONE != 0 {
            return self.take_if_done(state);
        }
        // SAFETY: WAITING is clear (withdrawn above; only we set it), so the
        // creator does not touch the slot.
        inner
            .waiter
            .with_mut(|slot| unsafe { *slot = Some(Waiter::this_thread()) });
        // ORDERING: Release publishes the slot to the creator's Acquire RMW;
        // on failure, Acquire pairs with the creator's Release of DONE.
        if let Err(state) = inner.state.compare_exchange(0, WAITING, Release, Acquire) {
            // SAFETY: WAITING was never set: the slot is still ours.
            inner.waiter.with_mut(|slot| unsafe { *slot = None });
            return self.take_if_done(state);
        }
        loop {
            // ORDERING: Acquire pairs with the creator's Release of DONE and
            // of the WAITING clear: the cell and the slot hand-back are seen.
            let state = inner.state.load(Acquire);
            if state & DONE != 0 {
                if state & WAITING == 0 {
                    return self.take_if_done(state);
                }
                // The creator is handing the slot back; its unpark follows.
                park();
                continue;
            }
            let Some(deadline) = deadline else {
                park();
                continue;
            };
            let now = Instant::now();
            if now < deadline {
                park_timeout(deadline - now);
                continue;
            }
            if mutant::BLIND_WITHDRAW {
                // The bug: withdraw with a plain store, erasing a DONE that
                // arrived as the deadline passed.
                inner.state.store(0, Relaxed);
                inner.waiter.with_mut(|slot| unsafe { *slot = None });
                return None;
            }
            // ORDERING: Relaxed: success means the creator has not set DONE,
            // so it never touched the slot; we only reclaim our own write.
            if inner
                .state
                .compare_exchange(WAITING, 0, Relaxed, Relaxed)
                .is_ok()
            {
                // SAFETY: WAITING is clear again and DONE is not set.
                inner.waiter.with_mut(|slot| unsafe { *slot = None });
                return None;
            }
            // DONE arrived as the deadline passed: take it on the next turn.
        }
    }
}

impl<T: Close, E> Requester<T, E> {
    /// The spin phase of a blocking wait: re-checks for the outcome for
    /// `SPIN_BEFORE_PARK` (or until `deadline`, if sooner), reading the
    /// clock once every few checks (a read costs about as much as a few
    /// `spin_loop`s).
    fn spin(&mut self, deadline: Option<Instant>) -> Option<Outcome<T, E>> {
        const CHECKS_PER_CLOCK_READ: u32 = 8;
        if SPIN_BEFORE_PARK.is_zero() {
            return None;
        }
        // The clock is first read after the first checks: an outcome that
        // is already there costs no clock read.
        let mut until = None;
        loop {
            for _ in 0..CHECKS_PER_CLOCK_READ {
                if let Some(outcome) = self.try_take() {
                    return Some(outcome);
                }
                spin_loop();
            }
            let now = Instant::now();
            let until = *until.get_or_insert_with(|| match deadline {
                Some(deadline) => deadline.min(now + SPIN_BEFORE_PARK),
                None => now + SPIN_BEFORE_PARK,
            });
            if now >= until {
                return None;
            }
        }
    }
}

/// Takes back a registration left by an earlier wait or poll, so that
/// `WAITING` is clear; returns the state then (which may have `DONE`).
fn withdraw<T, E>(inner: &Inner<T, E>) -> u8 {
    // ORDERING: Acquire pairs with the creator's Release of DONE and of the
    // WAITING clear.
    let mut state = inner.state.load(Acquire);
    if state & WAITING == 0 {
        return state;
    }
    if state & DONE == 0 {
        // ORDERING: Acquire on failure, as above; on success the creator has
        // not touched the slot, which is ours again.
        match inner.state.compare_exchange(WAITING, 0, Acquire, Acquire) {
            Ok(_) => {
                // SAFETY: WAITING is clear and DONE is not set: the slot is
                // ours; dropping the stale waker here is fine.
                inner.waiter.with_mut(|slot| unsafe { *slot = None });
                return 0;
            }
            Err(now) => state = now,
        }
    }
    // DONE with WAITING: the creator is taking the waiter and will clear the
    // bit next; a bounded wait on two of its instructions.
    while state & WAITING != 0 {
        spin_loop();
        state = inner.state.load(Acquire);
    }
    state
}

// A requester holds only a pointer to the shared allocation; it is never
// pinned in place, so moving it after a poll is fine.
impl<T: Close, E> Unpin for Requester<T, E> {}

/// Awaiting a requester takes the outcome when creation finishes; dropping
/// the future gives up, exactly like dropping the requester. The waker is
/// registered in the same slot a blocking wait uses, behind the same state
/// bit: no lock, no runtime.
impl<T: Close, E> std::future::Future for Requester<T, E> {
    type Output = Outcome<T, E>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let this = self.get_mut();
        let Some(shared) = this.shared else {
            return Poll::Ready(Err(CreateError::Spent));
        };
        // SAFETY: live while `Some`.
        let inner = unsafe { shared.get() };
        // A registration from an earlier poll is taken back first: its
        // waker may not be this poll's, and a creator already finishing
        // would wake that one. If the creator is finishing, this waits for
        // it to hand the slot back (two of its instructions).
        let state = withdraw(inner);
        if state & DONE != 0 {
            return match this.take_if_done(state) {
                Some(outcome) => Poll::Ready(outcome),
                None => Poll::Pending,
            };
        }
        // WAITING is clear and DONE is not set: the slot is ours.
        // SAFETY: as just said; the creator only touches it after it sees
        // WAITING in its own RMW.
        inner
            .waiter
            .with_mut(|slot| unsafe { *slot = Some(Waiter::Task(cx.waker().clone())) });
        if mutant::LOST_WAKE {
            // The bug: publish without checking for a completion that landed
            // since the load above.
            inner.state.fetch_or(WAITING, Release);
            return Poll::Pending;
        }
        // ORDERING: Release publishes the slot to the creator's Acquire RMW;
        // on failure, Acquire pairs with the creator's Release of DONE.
        match inner.state.compare_exchange(0, WAITING, Release, Acquire) {
            Ok(_) => Poll::Pending,
            Err(now) => {
                // DONE arrived: the slot is still ours; clear it and take.
                // SAFETY: WAITING was never set by this poll.
                inner.waiter.with_mut(|slot| unsafe { *slot = None });
                match this.take_if_done(now) {
                    Some(outcome) => Poll::Ready(outcome),
                    None => Poll::Pending,
                }
            }
        }
    }
}

impl<T: Close, E> Drop for Requester<T, E> {
    #[inline]
    fn drop(&mut self) {
        // A requester that took its outcome has nothing left: the common
        // case costs one check, not a call.
        if self.shared.is_none() {
            return;
        }
        // Drop cannot report a close error; `cancel` is how to see it. A
        // panicking close was caught in `give_up`, so nothing unwinds here.
        let _ = self.give_up();
    }
}

impl<T: Close, E> fmt::Debug for Requester<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requester")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
