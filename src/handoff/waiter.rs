//! Who the creator wakes when it finishes while the requester waits.

use std::task::Waker;

use crate::sync::{Thread, current_thread};

/// The registration in the waiter slot: a task's waker, or the handle of a
/// thread blocked in `wait`. A blocked thread is unparked through its own
/// handle (cloning it counts a reference), so parking allocates nothing; a
/// `Waker` for it would need an `Arc` of its own (`Thread` has no stable
/// raw form to build a `RawWaker` from).
pub(crate) enum Waiter {
    /// A task awaiting the requester.
    Task(Waker),
    /// A thread parked in a blocking wait.
    Thread(Thread),
}

impl Waiter {
    /// The calling thread, about to park.
    pub(crate) fn this_thread() -> Self {
        Waiter::Thread(current_thread())
    }

    /// Wakes the task or unparks the thread.
    pub(crate) fn wake(self) {
        match self {
            Waiter::Task(waker) => waker.wake(),
            Waiter::Thread(thread) => thread.unpark(),
        }
    }
}
