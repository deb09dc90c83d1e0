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
//! # A guided tour
//!
//! ## 1. The handoff
//!
//! The driver side completes; the requesting side takes, waits, or gives
//! up. Whoever comes second closes, so every created resource is closed
//! exactly once (see [`handoff`](mod@handoff) for the full contract):
//!
//! ```
//! # leakless::doc_model(|| {
//! use leakless::{Cancelled, Close, CreateError, Delivery, handoff};
//!
//! #[derive(Debug)]
//! struct Publication(u32);
//! impl Close for Publication {
//!     type Error = std::convert::Infallible;
//!     fn close(self) -> Result<(), Self::Error> { Ok(()) }
//! }
//!
//! // Taken: the requester's guard owns it and closes it when dropped.
//! let (creator, mut requester) = handoff::<Publication, &str>();
//! assert_eq!(creator.complete(Ok(Publication(1))), Ok(Delivery::Delivered));
//! let publication = requester.try_take().unwrap().unwrap();
//! assert_eq!(publication.0, 1);
//! drop(publication); // closed here
//!
//! // Finished but never taken: giving up closes it (a late close).
//! let (creator, requester) = handoff::<Publication, &str>();
//! let _ = creator.complete(Ok(Publication(2)));
//! assert_eq!(requester.cancel(), Ok(Cancelled::ClosedLate));
//!
//! // Failed, or abandoned by a creator that was dropped (or panicked).
//! let (creator, mut requester) = handoff::<Publication, &str>();
//! drop(creator);
//! assert_eq!(requester.try_take().unwrap().unwrap_err(), CreateError::Abandoned);
//! # });
//! ```
//!
//! ## 2. The connect
//!
//! [`connect::AsyncConnect`] is Aeron Cluster's asynchronous connect as a
//! typestate: `Pending → Subscribed → Connected`, each state owning exactly
//! what exists at that point, and closing or dropping in any state releasing
//! everything held *and pending*. Drive it yourself with `poll`, or use the
//! blocking [`connect::connect`]:
//!
//! ```
//! # leakless::doc_std(|| {
//! use std::time::Duration;
//! use leakless::connect::{AsyncConnect, Pending, Progress, StateName};
//! use leakless::sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
//! sim.pause(); // hold every creation in flight
//!
//! let config = sim.connect_config().timeout(Duration::from_millis(10));
//! let mut attempt = AsyncConnect::<Pending, _>::start(sim.driver(), config).unwrap();
//! let failed = loop {
//!     match attempt.poll() {
//!         Progress::Pending(same) => attempt = same,
//!         Progress::Ready(_) => unreachable!("the driver is paused"),
//!         Progress::Failed(failed) => break failed,
//!     }
//! };
//! assert_eq!(failed.error.timed_out_in(), Some(StateName::Pending));
//! assert_eq!(failed.released.cancelled, 1); // the pending subscription
//!
//! sim.resume();
//! sim.settle(); // the subscription is created now... and closed at once
//! assert_eq!(sim.ledger().live(), 0);
//! assert_eq!(sim.ledger().late_closes, 1);
//! # });
//! ```
//!
//! ## 3. The simulation
//!
//! [`sim`] is an embedded media driver and cluster with fault injection,
//! the default transport: the soak (`cargo run --release --example soak`)
//! and the tests run on it with no setup. Its ledger counts every resource,
//! so a leak or a double close cannot hide:
//!
//! ```
//! # leakless::doc_std(|| {
//! use leakless::connect::connect;
//! use leakless::sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig { leader: 2, ..SimConfig::default() }).expect("a valid simulation");
//! let client = connect(sim.driver(), sim.connect_config()).unwrap();
//! assert_eq!(client.leader_member_id(), 2);
//! client.close().unwrap();
//! let ledger = sim.ledger();
//! assert_eq!((ledger.live(), ledger.double_closes), (0, 0));
//! # });
//! ```
//!
//! ## 4. Model checked
//!
//! `RUSTFLAGS="--cfg loom" cargo test` runs the loom models in
//! `loom-tests/`, which explore every interleaving of complete, take,
//! cancel, drop and timeout, for the handoff and for the connect; every
//! model asserts exactly-once close. `loom-tests/mutants.sh` puts known bugs
//! back (the Aeron bug among them) and shows the models catch each one.
//! `docs/DESIGN.md` has the state table and the memory-ordering argument.
//!
//! ## 5. Using leakless in your own loom models
//!
//! leakless follows the loom convention (tokio's too): built with
//! `--cfg loom`, its handoff runs on loom's atomics, cells and parking, so
//! *your* models see every interleaving inside it, and a handoff allocation
//! that is never freed fails your model. Since `RUSTFLAGS="--cfg loom"`
//! applies to every crate of the build, three things follow for a crate
//! that depends on leakless:
//!
//! - Depend on loom for loom builds only:
//!   `[target.'cfg(loom)'.dev-dependencies] loom = "0.7"`, and declare the
//!   cfg: `[lints.rust] unexpected_cfgs = { level = "warn", check-cfg =
//!   ['cfg(loom)'] }`.
//! - Run code that touches a handoff inside `loom::model(|| …)`, with
//!   `loom::thread::spawn` for the other side.
//! - Keep your **ordinary** tests out of loom builds: outside a model,
//!   loom's primitives panic with "cannot access Loom execution state from
//!   outside a Loom model". Put `#![cfg(not(loom))]` at the top of those
//!   test files (and `#[cfg(not(loom))]` on unit-test modules), as leakless
//!   does. Doctests run in loom builds too and cannot be switched off by a
//!   cfg rustdoc does not see; write them to work either way.
//!
//! `examples/downstream/` in leakless's repository is such a crate, built by
//! CI both ways:
//!
//! ```text
//! cargo test --manifest-path examples/downstream/Cargo.toml
//! RUSTFLAGS="--cfg loom" cargo test --manifest-path examples/downstream/Cargo.toml
//! ```
//!
//! Its model, in short:
//!
//! ```text
//! #![cfg(loom)]
//! loom::model(|| {
//!     let (creator, requester) = leakless::handoff::<Counted, String>();
//!     let creating = loom::thread::spawn(move || { let _ = creator.complete(Ok(resource)); });
//!     take_or_give_up(requester); // takes it, or cancels: either way closed once
//!     creating.join().unwrap();
//!     assert_eq!(closes.load(SeqCst), 1);
//! });
//! ```
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]
// docs.rs (package.metadata.docs.rs) marks the feature-gated items.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "aeron")]
#[cfg_attr(docsrs, doc(cfg(feature = "aeron")))]
pub mod aeron;
pub mod audit;
mod close;
pub mod connect;
mod driver;
pub mod handoff;
mod mutant;
pub mod observe;
mod owned;
pub mod pool;
pub mod protocol;
pub mod retry;
pub mod sim;
mod sync;

pub use close::{Close, CloseError};
pub use driver::{Driver, OfferError};
pub use handoff::{Cancelled, CreateError, Creator, Delivery, Outcome, Requester, handoff};
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
