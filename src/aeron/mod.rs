//! Real Aeron (feature `aeron`): a [`Driver`](crate::Driver) over Aeron's C
//! client, through the rusteron crates.
//!
//! - [`AeronDriver`] maps the asynchronous adds to Aeron's: a worker thread
//!   polls each pending add and completes its [`Creator`](crate::Creator);
//!   when the requester has given up, it **cancels the pending add** (the C
//!   client's `aeron_async_add_*_cancel`, which removes it by registration
//!   id) instead of completing it. Resources close through Aeron's close.
//! - Ingress publications are exclusive publications, as Aeron Cluster's
//!   client uses by default.
//! - [`testing`] has what the tests need: a media driver whose duty cycle can
//!   be held, a one-node cluster responder, and the driver's own counters.

mod driver;
#[cfg(feature = "java-cluster")]
mod java_node;
#[cfg(feature = "java-cluster")]
mod netlab;
pub mod testing;

pub use driver::{AddCounts, AeronDriver, AeronError, AeronOptions, Publication, Subscription};
