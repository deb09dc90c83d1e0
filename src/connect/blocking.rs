//! The blocking convenience: poll an attempt to the end with an idle
//! strategy.

use std::time::{Duration, Instant};

use super::cleanup::{Cleanup, Leakless};
use super::config::ConnectConfig;
use super::error::Failed;
use super::{AsyncConnect, Client, Pending, Progress, Subscribed};
use crate::Driver;
use crate::observe::Observer;
use crate::sync::os::thread;

/// What to do between polls that found nothing to do.
pub trait Idle {
    /// Called after each poll; `progressed` says whether it changed state.
    fn idle(&mut self, progressed: bool);
}

/// Spin, then yield, then sleep with doubling pauses up to a maximum;
/// reset whenever a poll makes progress.
#[derive(Debug, Clone)]
pub struct Backoff {
    spins: u32,
    yields: u32,
    max_sleep: Duration,
    round: u32,
}

impl Default for Backoff {
    /// 10 spins, 5 yields, then sleeps from 1 µs up to 1 ms.
    fn default() -> Self {
        Self {
            spins: 10,
            yields: 5,
            max_sleep: Duration::from_millis(1),
            round: 0,
        }
    }
}

impl Backoff {
    /// `spins` busy polls, then `yields` polls that yield the core, then
    /// sleeps doubling from 1 µs up to `max_sleep`. Keep `max_sleep` well
    /// under the connect deadline: a poll happens only between sleeps.
    ///
    /// ```
    /// use std::time::Duration;
    /// use leakless::connect::Backoff;
    ///
    /// // For 2 ms deadlines: never sleep longer than a tenth of one.
    /// let idle = Backoff::new(100, 10, Duration::from_micros(200));
    /// # let _ = idle;
    /// ```
    pub fn new(spins: u32, yields: u32, max_sleep: Duration) -> Self {
        Self {
            spins,
            yields,
            max_sleep,
            round: 0,
        }
    }
}

impl Idle for Backoff {
    fn idle(&mut self, progressed: bool) {
        if progressed {
            self.round = 0;
            return;
        }
        self.round = self.round.saturating_add(1);
        if self.round <= self.spins {
            std::hint::spin_loop();
        } else if self.round <= self.spins + self.yields {
            thread::yield_now();
        } else {
            let doublings = (self.round - self.spins - self.yields).min(20);
            let pause = Duration::from_micros(1u64 << doublings).min(self.max_sleep);
            thread::sleep(pause);
        }
    }
}

/// Connects with the leakless policy, polling with [`Backoff`].
///
/// Returns the connected client, or a [`Failed`]: the error
/// ([`Failed::error`]) and the report of what the attempt released on the
/// way out, close errors included ([`Failed::released`]) — the same error
/// type as [`connect_with`] and [`connect_async`](super::connect_async).
pub fn connect<D: Driver>(driver: D, config: ConnectConfig) -> Result<Client<D>, Failed> {
    connect_with::<D, Leakless>(driver, config, &mut Backoff::default())
}

/// Connects with policy `C` and idle strategy `idle`; a failure carries the
/// report of what was released.
pub fn connect_with<D: Driver, C: Cleanup>(
    driver: D,
    config: ConnectConfig,
    idle: &mut impl Idle,
) -> Result<Client<D, C>, Failed> {
    connect_observed(driver, config, idle, &())
}

/// [`connect_with`], telling `observer` how the attempt went.
pub fn connect_observed<D: Driver, C: Cleanup>(
    driver: D,
    config: ConnectConfig,
    idle: &mut impl Idle,
    observer: &dyn Observer,
) -> Result<Client<D, C>, Failed> {
    observer.connect_started();
    let started = Instant::now();
    let result = AsyncConnect::<Pending, D, C>::start(driver, config)
        .map_err(|error| Failed::ended(error, Default::default()))
        .and_then(|attempt| run_attempt(attempt, idle));
    match &result {
        Ok(_) => observer.connected(started.elapsed()),
        Err(failed) => crate::observe::report_failure(observer, failed),
    }
    result
}

/// Polls an attempt to its end: connected, or failed with all released.
pub(crate) fn run_attempt<D: Driver, C: Cleanup>(
    attempt: AsyncConnect<Pending, D, C>,
    idle: &mut impl Idle,
) -> Result<Client<D, C>, Failed> {
    let subscribed = drive(attempt, AsyncConnect::<Pending, D, C>::poll, idle)?;
    drive(subscribed, AsyncConnect::<Subscribed, D, C>::poll, idle)
}

/// Polls one state until it moves on or fails.
fn drive<Here, Next>(
    mut here: Here,
    poll: fn(Here) -> Progress<Here, Next>,
    idle: &mut impl Idle,
) -> Result<Next, Failed> {
    loop {
        match poll(here) {
            Progress::Pending(same) => {
                here = same;
                idle.idle(false);
            }
            Progress::Ready(next) => {
                idle.idle(true);
                return Ok(next);
            }
            Progress::Failed(failed) => return Err(failed),
        }
    }
}
