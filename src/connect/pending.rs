//! State Pending: the egress subscription is being created.

use std::time::Duration;

use super::cleanup::{Cleanup, Released};
use super::config::{ConfigError, ConnectConfig};
use super::error::{ConnectError, ResourceKind, StateName};
use super::{
    AsyncConnect, Context, Pending, Progress, Subscribed, fail, sealed, subscribed, timed_out,
};
use crate::{CreateError, Driver, Requester};

/// What a Pending attempt owns: the subscription being created.
#[doc(hidden)]
pub struct Held<D: Driver> {
    subscription: Requester<D::Subscription, D::Error>,
}

impl<D: Driver> sealed::Holdings<D> for Held<D> {
    fn release<C: Cleanup>(self, _ctx: &Context<D>, released: &mut Released) {
        C::give_up(self.subscription, released);
    }
}

/// Maps a failed creation to the connect's error.
pub(super) fn creation_error<E>(what: ResourceKind, error: CreateError<E>) -> ConnectError
where
    E: std::error::Error + Send + Sync + 'static,
{
    match error {
        CreateError::Failed(source) => ConnectError::CreationFailed {
            what,
            source: Box::new(source),
        },
        CreateError::Abandoned | CreateError::Spent => ConnectError::CreationAbandoned { what },
    }
}

impl<D: Driver, C: Cleanup> AsyncConnect<Pending, D, C> {
    /// Starts an attempt: checks the configuration, then starts creating
    /// the egress subscription. The deadline is `config.timeout` from now
    /// (by the driver's clock).
    pub fn start(driver: D, config: ConnectConfig) -> Result<Self, ConnectError> {
        config.validate()?;
        let now = driver.now();
        // A timeout too large for the clock is as good as none: cap it at
        // about a century.
        let deadline = now
            .checked_add(config.timeout)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        // No "already passed" check here: the caller gave a timeout, not a
        // deadline. A timeout that runs out before the first poll (a tiny
        // one, or a thread descheduled on a loaded machine) is a timeout in
        // Pending, reported as one, with the creation cancelled.
        Ok(Self::begin(driver, config, deadline))
    }

    /// Starts an attempt that must finish by `deadline`.
    pub fn start_with_deadline(
        driver: D,
        config: ConnectConfig,
        deadline: std::time::Instant,
    ) -> Result<Self, ConnectError> {
        config.validate()?;
        if deadline <= driver.now() {
            return Err(ConfigError::DeadlineExpired.into());
        }
        Ok(Self::begin(driver, config, deadline))
    }

    /// Asks for the egress subscription; the attempt runs until `deadline`.
    fn begin(driver: D, config: ConnectConfig, deadline: std::time::Instant) -> Self {
        let subscription = driver.add_subscription(&config.egress_channel, config.egress_stream_id);
        let ctx = Box::new(Context {
            driver,
            config,
            deadline,
            correlation_id: 0,
            released: Released::default(),
        });
        Self::from_parts(ctx, Held { subscription })
    }

    /// Checks the deadline, then whether the subscription is ready; when it
    /// is, starts creating the ingress publications and moves on.
    pub fn poll(self) -> Progress<Self, AsyncConnect<Subscribed, D, C>> {
        let (ctx, mut held) = self.into_parts();
        if ctx.expired() {
            let error = timed_out(&ctx, StateName::Pending);
            return fail::<Pending, D, C, _, _>(ctx, held, error);
        }
        match held.subscription.try_take() {
            None => Progress::Pending(Self::from_parts(ctx, held)),
            Some(Ok(subscription)) => {
                let next = subscribed::Held::start(&ctx, subscription);
                Progress::Ready(AsyncConnect::from_parts(ctx, next))
            }
            Some(Err(error)) => {
                let error = creation_error(ResourceKind::EgressSubscription, error);
                fail::<Pending, D, C, _, _>(ctx, held, error)
            }
        }
    }
}
