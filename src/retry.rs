//! Retries that cannot overlap: the next attempt starts only from the ended
//! previous one.
//!
//! Aeron's advice after #1574 was to let a retry start only after the
//! previous attempt has fully terminated. Here that is a type fact: a
//! [`Retry`] starts its next attempt only from a [`Failed`], and only the
//! connect makes a `Failed`, after releasing everything the attempt held or
//! had pending.
//!
//! ```
//! # leakless::doc_std(|| {
//! use std::time::Duration;
//! use leakless::connect::Backoff;
//! use leakless::retry::{self, RetryPolicy};
//! use leakless::sim::{FaultProfile, Sim, SimConfig};
//!
//! // A cluster that loses a third of the replies.
//! let sim = Sim::start(SimConfig {
//!     faults: FaultProfile { lost_reply_rate: 0.3, ..FaultProfile::default() },
//!     ..SimConfig::default()
//! }).expect("a valid simulation");
//! let config = sim.connect_config().timeout(Duration::from_millis(20));
//! let policy = RetryPolicy { max_attempts: 20, ..RetryPolicy::default() };
//! let client = retry::connect(policy, sim.driver(), config, &mut Backoff::default()).unwrap();
//! client.close().unwrap();
//! sim.settle();
//! assert_eq!(sim.ledger().live(), 0);
//! # });
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use crate::Driver;
use crate::connect::{
    AsyncConnect, Cleanup, Client, ConfigError, ConnectConfig, ConnectError, Failed, Idle,
    Leakless, Pending, Released, StateName, run_attempt,
};
use crate::observe::Observer;
use crate::sync::os::thread;

/// How to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1: [`validate`](Self::validate)).
    pub max_attempts: u32,
    /// The pause before the second attempt; it doubles after each failure.
    pub initial_backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
    /// No attempt starts once this long has passed since the first.
    pub budget: Duration,
    /// Seed of the jitter (each pause is drawn from half to all of its
    /// exponential value).
    pub seed: u64,
}

impl RetryPolicy {
    /// Checks the policy: at least one attempt, and a longest pause no
    /// shorter than the first. Nothing is adjusted.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return Err(ConfigError::InvalidSetting(String::from(
                "the retry policy's max_attempts is 0; give at least 1 (the first attempt counts)",
            )));
        }
        if self.max_backoff < self.initial_backoff {
            return Err(ConfigError::InvalidSetting(format!(
                "the retry policy's max_backoff ({:?}) is shorter than its initial_backoff ({:?}); give max_backoff >= initial_backoff",
                self.max_backoff, self.initial_backoff
            )));
        }
        Ok(())
    }
}

impl Default for RetryPolicy {
    /// 5 attempts, 10 ms doubling up to 1 s, a 30 s budget.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
            budget: Duration::from_secs(30),
            seed: 0x5EED,
        }
    }
}

/// One attempt, as the history of a [`RetryError`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// 1 for the first attempt.
    pub number: u32,
    /// The error, as text.
    pub error: String,
    /// The state the deadline caught the attempt in, if it timed out.
    pub timed_out_in: Option<StateName>,
    /// What the attempt released.
    pub released: Released,
    /// How long after the first attempt started this one ended.
    pub ended_after: Duration,
}

/// Why the retries stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// The error is not one a retry can fix (rejected credentials, bad
    /// configuration).
    NotTransient,
    /// `max_attempts` were made.
    AttemptsExhausted,
    /// The next attempt would start after the budget.
    BudgetExhausted,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GaveUp::NotTransient => "the error is not transient",
            GaveUp::AttemptsExhausted => "no attempts left",
            GaveUp::BudgetExhausted => "the time budget is spent",
        })
    }
}

/// The retries stopped: the last error, and the history of every attempt.
#[derive(Debug, thiserror::Error)]
#[error("gave up connecting after {} attempt(s) ({reason}): {last}", .attempts.len())]
pub struct RetryError {
    /// Why the retries stopped.
    pub reason: GaveUp,
    /// The last attempt's error.
    #[source]
    pub last: ConnectError,
    /// Every attempt, in order.
    pub attempts: Vec<AttemptRecord>,
}

/// A sequence of connect attempts under a [`RetryPolicy`].
pub struct Retry<D: Driver, C: Cleanup = Leakless> {
    policy: RetryPolicy,
    driver: D,
    config: ConnectConfig,
    history: Vec<AttemptRecord>,
    first_started: Instant,
    jitter: u64,
    observer: Box<dyn Observer>,
    _policy: std::marker::PhantomData<fn() -> C>,
}

impl<D: Driver, C: Cleanup> Retry<D, C> {
    /// Starts the first attempt.
    pub fn start(
        policy: RetryPolicy,
        driver: D,
        config: ConnectConfig,
    ) -> Result<(Self, AsyncConnect<Pending, D, C>), RetryError> {
        Self::start_observed(policy, driver, config, Box::new(()))
    }

    /// Starts the first attempt, telling `observer` about each.
    pub fn start_observed(
        policy: RetryPolicy,
        driver: D,
        config: ConnectConfig,
        observer: Box<dyn Observer>,
    ) -> Result<(Self, AsyncConnect<Pending, D, C>), RetryError> {
        if let Err(error) = policy.validate() {
            return Err(RetryError {
                reason: GaveUp::NotTransient,
                last: ConnectError::Config(error),
                attempts: Vec::new(),
            });
        }
        let mut retry = Retry {
            jitter: policy.seed | 1,
            policy,
            driver,
            config,
            history: Vec::new(),
            first_started: Instant::now(),
            observer,
            _policy: std::marker::PhantomData,
        };
        let attempt = retry.attempt()?;
        Ok((retry, attempt))
    }

    fn attempt(&mut self) -> Result<AsyncConnect<Pending, D, C>, RetryError> {
        self.observer.connect_started();
        AsyncConnect::start(self.driver.clone(), self.config.clone()).map_err(|error| {
            let failed = Failed::ended(error, Released::default());
            self.record(failed, GaveUp::NotTransient)
        })
    }

    /// Adds an ended attempt to the history; returns its error.
    fn remember(&mut self, failed: Failed) -> ConnectError {
        self.history.push(AttemptRecord {
            number: self.history.len() as u32 + 1,
            error: failed.error.to_string(),
            timed_out_in: failed.error.timed_out_in(),
            released: failed.released,
            ended_after: self.first_started.elapsed(),
        });
        failed.error
    }

    /// Records an ended attempt and builds the error that stops the retries.
    fn record(&mut self, failed: Failed, reason: GaveUp) -> RetryError {
        let last = self.remember(failed);
        RetryError {
            reason,
            last,
            attempts: std::mem::take(&mut self.history),
        }
    }

    /// The pause before attempt `next` (2 or more): exponential, capped,
    /// with jitter.
    fn backoff(&mut self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(30);
        let full = self
            .policy
            .initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.policy.max_backoff);
        // xorshift64 for the jitter: half to all of the pause.
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let half = full / 2;
        let extra = half.as_nanos() as u64;
        half + Duration::from_nanos(if extra == 0 {
            0
        } else {
            self.jitter % (extra + 1)
        })
    }

    /// Starts the next attempt from the previous one's failure, after its
    /// back-off pause — or says why there will be none. Taking the `Failed`
    /// by value is what makes overlapping attempts impossible.
    pub fn next(&mut self, previous: Failed) -> Result<AsyncConnect<Pending, D, C>, RetryError> {
        crate::observe::report_failure(&*self.observer, &previous);
        let number = self.history.len() as u32 + 2;
        if !previous.error.is_transient() {
            return Err(self.record(previous, GaveUp::NotTransient));
        }
        if number > self.policy.max_attempts {
            return Err(self.record(previous, GaveUp::AttemptsExhausted));
        }
        let pause = self.backoff(number);
        if self.first_started.elapsed() + pause >= self.policy.budget {
            return Err(self.record(previous, GaveUp::BudgetExhausted));
        }
        self.remember(previous);
        thread::sleep(pause);
        self.attempt()
    }

    /// Attempts made so far that ended.
    pub fn history(&self) -> &[AttemptRecord] {
        &self.history
    }

    /// Tells the observer an attempt connected.
    fn connected(&self, started: Instant) {
        self.observer.connected(started.elapsed());
    }

    /// Connects, retrying under `policy`: the blocking convenience.
    pub fn connect(
        policy: RetryPolicy,
        driver: D,
        config: ConnectConfig,
        idle: &mut impl Idle,
    ) -> Result<Client<D, C>, RetryError> {
        Self::connect_observed(policy, driver, config, idle, Box::new(()))
    }

    /// [`Retry::connect`], telling `observer` about each attempt.
    pub fn connect_observed(
        policy: RetryPolicy,
        driver: D,
        config: ConnectConfig,
        idle: &mut impl Idle,
        observer: Box<dyn Observer>,
    ) -> Result<Client<D, C>, RetryError> {
        let (mut retry, mut attempt) = Self::start_observed(policy, driver, config, observer)?;
        loop {
            let started = Instant::now();
            match run_attempt(attempt, idle) {
                Ok(client) => {
                    retry.connected(started);
                    return Ok(client);
                }
                Err(failed) => attempt = retry.next(failed)?,
            }
        }
    }
}

/// Connects with the leakless policy, retrying under `policy`.
pub fn connect<D: Driver>(
    policy: RetryPolicy,
    driver: D,
    config: ConnectConfig,
    idle: &mut impl Idle,
) -> Result<Client<D>, RetryError> {
    Retry::<D, Leakless>::connect(policy, driver, config, idle)
}

impl<D: Driver, C: Cleanup> fmt::Debug for Retry<D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", &self.policy)
            .field("attempts_ended", &self.history.len())
            .finish_non_exhaustive()
    }
}
