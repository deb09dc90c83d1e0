//! # leakless
//!
//! Asynchronous resource creation that cannot leak.
//!
//! A cluster client connects asynchronously: it asks its media driver for a
//! subscription, and the subscription appears later. If the client gives up
//! in between (a deadline, a cancel, a drop) and forgets the pending
//! creation, the subscription appears with no owner, and every retry adds
//! one more. That is Aeron issue #1574. leakless removes the whole class of
//! bug:
//!
//! - [`handoff()`] hands an asynchronously created resource over through a
//!   single-use cell: whichever of "creation finished" and "requester gave
//!   up" comes second closes it, exactly once.
//! - [`Owned`] closes a resource you hold when it is dropped.
//! - [`Close`] is the trait a resource implements to be released.
//!
//! ```
//! # leakless::doc_model(|| {
//! use leakless::{Cancelled, Close, Delivery, handoff};
//!
//! struct Subscription;
//! impl Close for Subscription {
//!     type Error = std::convert::Infallible;
//!     fn close(self) -> Result<(), Self::Error> { Ok(()) }
//! }
//!
//! // The requester gives up before the driver finishes...
//! let (creator, requester) = handoff::<Subscription, String>();
//! assert_eq!(requester.cancel(), Ok(Cancelled::WhilePending));
//!
//! // ...so the late completion is closed by the creator, not leaked.
//! assert_eq!(creator.complete(Ok(Subscription)), Ok(Delivery::ClosedLate));
//! # });
//! ```
//!
//! The guarantee is model checked: `RUSTFLAGS="--cfg loom" cargo test` runs
//! the loom models in `loom-tests/`, which explore every interleaving of
//! complete, take, cancel, drop and timeout.
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

mod close;
pub mod connect;
mod driver;
pub mod handoff;
mod mutant;
mod owned;
pub mod protocol;
pub mod sim;
mod sync;

pub use close::Close;
pub use driver::{Driver, OfferError};
pub use handoff::{Cancelled, CreateError, Creator, Delivery, Requester, handoff};
pub use owned::Owned;

/// Runs `f` the way this crate was built to run it: inside a loom model when
/// built with `--cfg loom`, directly otherwise.
///
/// Doctests use it, so that `RUSTFLAGS="--cfg loom" cargo test` (which also
/// runs doctests against the loom build) passes as written. Not part of the
/// API.
#[doc(hidden)]
pub fn doc_model(f: impl Fn() + Send + Sync + 'static) {
    sync::model(f)
}

/// Runs `f` in the normal build only: the simulation uses real threads and
/// time, which loom cannot model, so its examples are skipped under
/// `--cfg loom` (stress tests and the soak cover it instead). Not part of
/// the API.
#[doc(hidden)]
pub fn doc_std(f: impl FnOnce()) {
    if !sync::LOOM {
        f()
    }
}

mod assertions {
    use super::*;
    use static_assertions::{assert_eq_size, assert_impl_all, assert_not_impl_any};

    #[allow(dead_code)] // only its size matters
    struct Res(u64);
    impl Close for Res {
        type Error = ();
        fn close(self) -> Result<(), ()> {
            Ok(())
        }
    }

    assert_impl_all!(Creator<Res, String>: Send);
    assert_impl_all!(Requester<Res, String>: Send);
    assert_impl_all!(Owned<Res>: Send);
    assert_not_impl_any!(Creator<Res, String>: Clone, Copy);
    assert_not_impl_any!(Requester<Res, String>: Clone, Copy);
    assert_not_impl_any!(Owned<Res>: Clone, Copy);
    use connect::{AsyncConnect, Connected, Pending, Subscribed};
    use sim::SimDriver;
    assert_impl_all!(AsyncConnect<Pending, SimDriver>: Send);
    assert_impl_all!(AsyncConnect<Subscribed, SimDriver>: Send);
    assert_impl_all!(AsyncConnect<Connected, SimDriver>: Send);
    assert_not_impl_any!(AsyncConnect<Pending, SimDriver>: Clone, Copy);
    assert_not_impl_any!(AsyncConnect<Subscribed, SimDriver>: Clone, Copy);
    assert_not_impl_any!(AsyncConnect<Connected, SimDriver>: Clone, Copy);
    // The states are markers: they cost nothing.
    assert_eq_size!(Pending, ());
    assert_eq_size!(Subscribed, ());
    assert_eq_size!(Connected, ());

    // One pointer each: no refcount, no extra fields.
    assert_eq_size!(Creator<Res, String>, usize);
    assert_eq_size!(Requester<Res, String>, usize);
    // The guard costs nothing beyond the resource.
    assert_eq_size!(Owned<Res>, Res);
}
