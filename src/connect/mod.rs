//! The typestate cluster connect: **Pending → Subscribed → Connected**.
//!
//! Aeron Cluster's client connects asynchronously (`AsyncConnect`): it
//! creates its egress subscription, then ingress publications, sends a
//! connect request and polls for the answer, all against one deadline. Here
//! each step is a state of [`AsyncConnect`], and each state owns exactly
//! what exists at that point:
//!
//! | state | owns | moves on when |
//! |---|---|---|
//! | [`Pending`] | the egress subscription being created | the subscription is ready |
//! | [`Subscribed`] | the subscription; ingress publications (created or being created) | the cluster answers OK |
//! | [`Connected`] | the subscription, the winning publication, the session | — |
//!
//! Transitions consume `self`. [`close`](AsyncConnect::close) in any state
//! (and `Drop`, silently) releases everything held **and pending**: pending
//! creations are cancelled through their [handoff](crate::handoff()), so a
//! creation that finishes later is closed, never leaked. The deadline is
//! checked on every poll; when it passes, the attempt fails with
//! [`ConnectError::TimedOut`] naming its state, everything already released.
//!
//! Misuse does not compile. Only a connected client can send:
//!
//! ```compile_fail
//! use leakless::connect::{AsyncConnect, ConnectConfig, Pending};
//! use leakless::sim::{Sim, SimConfig};
//! let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
//! let attempt: AsyncConnect<Pending, _> =
//!     AsyncConnect::start(sim.driver(), sim.connect_config()).unwrap();
//! attempt.offer(b"hello"); // no `offer` before Connected
//! ```
//!
//! A closed attempt is gone:
//!
//! ```compile_fail
//! use leakless::connect::{AsyncConnect, ConnectConfig, Pending};
//! use leakless::sim::{Sim, SimConfig};
//! let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
//! let attempt: AsyncConnect<Pending, _> =
//!     AsyncConnect::start(sim.driver(), sim.connect_config()).unwrap();
//! let _ = attempt.close();
//! let _ = attempt.poll(); // use after close: `attempt` was moved
//! ```

mod asynchronous;
mod blocking;
mod channel;
mod cleanup;
mod config;
mod connected;
mod error;
mod pending;
mod subscribed;

use std::fmt;
use std::marker::PhantomData;
use std::time::Instant;

#[cfg(feature = "tokio")]
pub use asynchronous::TokioSleep;
pub use asynchronous::{Sleep, YieldNow, YieldOnce, connect_async, connect_async_with};
pub(crate) use blocking::run_attempt;
pub use blocking::{Backoff, Idle, connect, connect_observed, connect_with};
pub use cleanup::{Cleanup, Leakless, Naive, Released};
pub use config::{ConfigError, ConnectConfig, InvalidChannel};
pub use error::{ConnectError, Failed, ReleaseError, ResourceKind, StateName};

use crate::Driver;

/// The connected client: the only state that can send to and receive from
/// the cluster.
pub type Client<D, C = Leakless> = AsyncConnect<Connected, D, C>;

/// State: the egress subscription is being created (Aeron step -1).
#[derive(Debug, Clone, Copy)]
pub struct Pending;
/// State: the subscription is held; ingress publications, the connect
/// request, REDIRECT and challenge are in progress (Aeron steps 0–3).
#[derive(Debug, Clone, Copy)]
pub struct Subscribed;
/// State: the session is open (Aeron steps 4–5).
#[derive(Debug, Clone, Copy)]
pub struct Connected;

/// A state of [`AsyncConnect`]. Sealed.
pub trait Stage: sealed::Sealed {
    /// What an attempt owns in this state.
    #[doc(hidden)]
    type Held<D: Driver>: sealed::Holdings<D>;
    /// The state's name.
    const NAME: StateName;
}

impl Stage for Pending {
    type Held<D: Driver> = pending::Held<D>;
    const NAME: StateName = StateName::Pending;
}
impl Stage for Subscribed {
    type Held<D: Driver> = subscribed::Held<D>;
    const NAME: StateName = StateName::Subscribed;
}
impl Stage for Connected {
    type Held<D: Driver> = connected::Held<D>;
    const NAME: StateName = StateName::Connected;
}

/// What a poll did.
#[must_use = "a poll consumes the attempt: keep what it returns"]
pub enum Progress<Here, Next> {
    /// Still in the same state; poll again.
    Pending(Here),
    /// Moved on to the next state.
    Ready(Next),
    /// Failed; everything held or pending has been released.
    Failed(Failed),
}

impl<Here, Next> fmt::Debug for Progress<Here, Next> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Pending(_) => f.write_str("Pending(..)"),
            Progress::Ready(_) => f.write_str("Ready(..)"),
            Progress::Failed(failed) => f.debug_tuple("Failed").field(failed).finish(),
        }
    }
}

/// One connect attempt to a cluster, in state `S`, over driver `D`, with
/// cleanup policy `C` ([`Leakless`]; [`Naive`] only as a baseline).
#[must_use = "an attempt does nothing unless polled, and dropping it releases everything"]
pub struct AsyncConnect<S: Stage, D: Driver, C: Cleanup = Leakless> {
    /// `None` only once consumed by a transition or by close.
    attempt: Option<Attempt<S, D>>,
    _policy: PhantomData<fn() -> C>,
}

/// What every state has: the context, and the state's own holdings.
struct Attempt<S: Stage, D: Driver> {
    /// Boxed: the context (config, driver, report) is most of an attempt's
    /// size, and every poll and transition moves the attempt by value;
    /// boxed, a move copies a pointer (one allocation per attempt instead
    /// of a memcpy of the whole context per poll).
    ctx: Box<Context<D>>,
    held: S::Held<D>,
}

/// What an attempt knows from start to end.
#[doc(hidden)]
pub struct Context<D> {
    driver: D,
    config: ConnectConfig,
    deadline: Instant,
    /// The correlation id of the last request sent.
    correlation_id: i64,
    /// What the attempt released on the way (losing members, a redirected
    /// publication); the final report includes it.
    released: Released,
}

impl<D: Driver> Context<D> {
    fn expired(&self) -> bool {
        self.driver.now() >= self.deadline
    }

    /// Reads up to `limit` egress messages. Bytes that do not decode (other
    /// traffic, a newer message type) are skipped, except a message in the
    /// other layout than the configured one: that is returned as the error,
    /// since nothing the cluster says will ever decode.
    fn read_egress(
        &self,
        subscription: &D::Subscription,
        limit: usize,
    ) -> (
        Vec<crate::protocol::Message>,
        Option<crate::protocol::DecodeError>,
    ) {
        let mut inbox = Vec::new();
        let mut wrong_layout = None;
        self.driver.poll(
            subscription,
            &mut |bytes| match crate::protocol::decode_with(self.config.layout, bytes) {
                Ok(message) => inbox.push(message),
                Err(error @ crate::protocol::DecodeError::WrongLayout { .. }) => {
                    wrong_layout = Some(error);
                }
                Err(_) => {}
            },
            limit,
        );
        (inbox, wrong_layout)
    }
}

impl<S: Stage, D: Driver, C: Cleanup> AsyncConnect<S, D, C> {
    fn from_parts(ctx: Box<Context<D>>, held: S::Held<D>) -> Self {
        Self {
            attempt: Some(Attempt { ctx, held }),
            _policy: PhantomData,
        }
    }

    fn into_parts(mut self) -> (Box<Context<D>>, S::Held<D>) {
        match self.attempt.take() {
            Some(Attempt { ctx, held }) => (ctx, held),
            // Every method that takes the attempt out consumes `self`.
            None => unreachable!("an attempt is only emptied by consuming it"),
        }
    }

    fn ctx(&self) -> &Context<D> {
        match &self.attempt {
            Some(attempt) => &attempt.ctx,
            None => unreachable!("an attempt is only emptied by consuming it"),
        }
    }

    /// The state this attempt is in.
    pub fn state(&self) -> StateName {
        S::NAME
    }

    /// When this attempt times out.
    pub fn deadline(&self) -> Instant {
        self.ctx().deadline
    }

    /// Releases everything held and pending, and says what that was.
    ///
    /// Returns an error (with the same report) if any close failed; the
    /// resources are released either way.
    pub fn close(self) -> Result<Released, ReleaseError> {
        let (mut ctx, held) = self.into_parts();
        let released = release::<S, D, C>(&mut ctx, held);
        if released.close_errors.is_empty() {
            Ok(released)
        } else {
            Err(ReleaseError { released })
        }
    }
}

/// Releases a state's holdings with policy `C`; the report includes what
/// the attempt released before.
fn release<S: Stage, D: Driver, C: Cleanup>(ctx: &mut Context<D>, held: S::Held<D>) -> Released {
    let mut released = std::mem::take(&mut ctx.released);
    sealed::Holdings::release::<C>(held, ctx, &mut released);
    released
}

/// Fails an attempt: releases its holdings, then reports the error.
fn fail<S: Stage, D: Driver, C: Cleanup, Here, Next>(
    mut ctx: Box<Context<D>>,
    held: S::Held<D>,
    error: ConnectError,
) -> Progress<Here, Next> {
    let released = release::<S, D, C>(&mut ctx, held);
    Progress::Failed(Failed::ended(error, released))
}

fn timed_out<D: Driver>(ctx: &Context<D>, state: StateName) -> ConnectError {
    ConnectError::TimedOut {
        state,
        timeout: ctx.config.timeout,
        unanswered: None,
    }
}

impl<S: Stage, D: Driver, C: Cleanup> Drop for AsyncConnect<S, D, C> {
    fn drop(&mut self) {
        if let Some(Attempt { mut ctx, held }) = self.attempt.take() {
            // Drop has nowhere to report; `close` returns the same report.
            let _ = release::<S, D, C>(&mut ctx, held);
        }
    }
}

impl<S: Stage, D: Driver, C: Cleanup> fmt::Debug for AsyncConnect<S, D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncConnect")
            .field("state", &S::NAME)
            .field("policy", &C::NAME)
            .finish_non_exhaustive()
    }
}

mod sealed {
    use super::{Cleanup, Context, Released};
    use crate::Driver;

    pub trait Sealed {}
    impl Sealed for super::Pending {}
    impl Sealed for super::Subscribed {}
    impl Sealed for super::Connected {}

    /// A state's holdings: released with a cleanup policy.
    pub trait Holdings<D: Driver> {
        fn release<C: Cleanup>(self, ctx: &Context<D>, released: &mut Released);
    }
}
