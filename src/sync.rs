//! The sync facade: the one place that chooses between `std` and loom.
//!
//! Everything in the crate that loom must see (atomics, the value cell,
//! thread park/unpark, allocation tracking) is imported from here. Built with
//! `--cfg loom`, these names are loom's model-checked versions; otherwise they
//! are `std`'s, or zero-cost wrappers with loom's API. No other module writes
//! `cfg(loom)` (nor names the test-only `shuttle` feature).

pub(crate) use imp::*;

/// Whether this build is a loom build.
pub(crate) const LOOM: bool = cfg!(loom);

#[cfg(loom)]
mod imp {
    pub(crate) use loom::alloc::Track;
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{AtomicU8, Ordering};
    pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
    pub(crate) use loom::thread::{Thread, current as current_thread, park};

    /// loom has no time, so a timed park is an untimed one: a model never
    /// times out by the clock, it models a timeout as an explicit event
    /// (a timer thread, or the requester cancelling at an arbitrary point).
    pub(crate) fn park_timeout(_timeout: std::time::Duration) {
        park();
    }

    /// Checks, in a model, that the caller's access to `state` does not
    /// race with any other thread's: an unsynchronised load, which loom
    /// reports as a causality violation unless every earlier access to the
    /// word happens-before it. Called just before a free.
    pub(crate) fn exclusive(state: &AtomicU8) {
        // SAFETY: in a model, an unsynchronised load only reads the
        // modelled value; loom itself checks the access (that is the point).
        let _ = unsafe { state.unsync_load() };
    }

    /// Spinning before parking only multiplies interleavings in a model
    /// without changing what can happen, so models park at once.
    pub(crate) const SPIN_BEFORE_PARK: std::time::Duration = std::time::Duration::ZERO;
}

#[cfg(not(loom))]
mod imp {
    #[cfg(not(feature = "shuttle"))]
    pub(crate) use std::hint::spin_loop;
    #[cfg(not(feature = "shuttle"))]
    pub(crate) use std::sync::atomic::{AtomicU8, Ordering};
    #[cfg(not(feature = "shuttle"))]
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
    #[cfg(not(feature = "shuttle"))]
    pub(crate) use std::thread::{Thread, current as current_thread, park, park_timeout};

    // The `shuttle` feature (tests only: `tests/shuttle.rs`): the same
    // primitives from shuttle, whose schedulers then choose every switch
    // between threads. Cells and frees stay std's: shuttle checks schedules,
    // not memory orderings (loom does that).
    #[cfg(feature = "shuttle")]
    pub(crate) use shuttle::hint::spin_loop;
    #[cfg(feature = "shuttle")]
    pub(crate) use shuttle::sync::atomic::{AtomicU8, Ordering};
    #[cfg(feature = "shuttle")]
    pub(crate) use shuttle::sync::{Condvar, Mutex, MutexGuard};
    #[cfg(feature = "shuttle")]
    pub(crate) use shuttle::thread::{Thread, current as current_thread, park, park_timeout};

    /// How long a blocking wait re-checks the state before it parks. A
    /// completion that lands that soon is seen without paying for a
    /// park/unpark pair (several microseconds). A time, not a count of
    /// `spin_loop`s: one `spin_loop` costs 9 ns on one x86-64 machine and
    /// 24 ns on another, so a count spins for a different time on each.
    /// (Under shuttle: none, so that schedules do not depend on the clock.)
    #[cfg(not(feature = "shuttle"))]
    pub(crate) const SPIN_BEFORE_PARK: std::time::Duration = std::time::Duration::from_micros(2);
    #[cfg(feature = "shuttle")]
    pub(crate) const SPIN_BEFORE_PARK: std::time::Duration = std::time::Duration::ZERO;

    /// Outside a model there is nothing to check: compiles to nothing.
    #[inline(always)]
    pub(crate) fn exclusive(_state: &AtomicU8) {}

    /// `std::cell::UnsafeCell` with loom's closure-based API, so the code that
    /// touches the cell is the same under loom (which checks every access).
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// loom's leak tracker, as a no-op: under loom a `Track` still alive when
    /// a model ends fails the model.
    #[derive(Debug)]
    pub(crate) struct Track<T>(T);

    impl<T> Track<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(value)
        }

        pub(crate) fn get_ref(&self) -> &T {
            &self.0
        }
    }
}

/// Runs `f` inside a loom model under `--cfg loom`, directly otherwise.
#[cfg(loom)]
pub(crate) fn model(f: impl Fn() + Send + Sync + 'static) {
    loom::model(f)
}

/// Runs `f` inside a loom model under `--cfg loom`, directly otherwise.
#[cfg(not(loom))]
pub(crate) fn model(f: impl Fn() + Send + Sync + 'static) {
    f()
}

/// Real OS threads, locks and time, for the simulation: it runs a conductor
/// thread and sleeps, which loom cannot model, so it is never run inside a
/// model (stress tests and the soak cover it) and keeps `std`'s primitives
/// under loom too.
pub(crate) mod os {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use std::thread;

    pub(crate) mod atomic_order {
        pub(crate) use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
    }
}
