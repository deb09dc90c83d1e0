//! A bounded pool of connected cluster clients.
//!
//! "Consider a pool for cluster client instances" was the last advice after
//! Aeron #1574. A [`Pool`] keeps up to `size` clients connected, connecting
//! in the background (with [`Retry`] and the leakless
//! policy, so a give-up never leaks); [`Pool::check_out`] lends one
//! ([`PooledClient`], back on drop), after a health check that closes and
//! replaces a client whose session closed or whose leader changed; and
//! [`Pool::close`] releases everything and returns a [`PoolAudit`].
//!
//! ```
//! # leakless::doc_std(|| {
//! use std::time::Duration;
//! use leakless::pool::{Pool, PoolConfig};
//! use leakless::sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
//! let pool: Pool<_> = Pool::start(sim.driver(), PoolConfig::new(2, sim.connect_config())).expect("a valid pool");
//! {
//!     let mut client = pool.check_out(Duration::from_secs(5)).unwrap();
//!     client.offer(b"hello").unwrap();
//! } // back in the pool
//! let audit = pool.close();
//! assert_eq!(audit.still_checked_out, 0);
//! sim.settle();
//! assert_eq!(sim.ledger().live(), 0);
//! # });
//! ```

mod shelf;

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

// Public for the loom model of check-in against close, not for users.
#[doc(hidden)]
pub use shelf::Shelf;

use crate::Driver;
use crate::connect::{
    AsyncConnect, Backoff, Cleanup, Client, ConfigError, ConnectConfig, Failed, Leakless, Pending,
    Progress, Released, Subscribed,
};
use crate::observe::Observer;
use crate::retry::{Retry, RetryPolicy};
use crate::sync::os::atomic_order::{Acquire, Relaxed, Release};
use crate::sync::os::{Arc, AtomicBool, AtomicU64, Mutex, thread};

/// How a pool behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    /// Clients to keep connected (at least 1: [`PoolConfig::validate`]).
    pub size: usize,
    /// How each client connects.
    pub connect: ConnectConfig,
    /// How the background connector retries.
    pub retry: RetryPolicy,
}

impl PoolConfig {
    /// `size` clients, connecting with `connect` and the default retry policy.
    pub fn new(size: usize, connect: ConnectConfig) -> Self {
        Self {
            size,
            connect,
            retry: RetryPolicy::default(),
        }
    }
}

/// Why a check-out gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// No healthy client became free in time.
    #[error(
        "no pooled client became available within {0:?}; the pool may be too small or the cluster unreachable"
    )]
    Timeout(Duration),
    /// The pool was closed.
    #[error("the pool is closed")]
    Closed,
    /// The pool's configuration cannot work; nothing was started.
    #[error("invalid pool configuration: {0}")]
    Config(#[from] ConfigError),
}

impl PoolConfig {
    /// Checks the size (at least 1), the connect configuration and the
    /// retry policy. Nothing is adjusted.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.size == 0 {
            return Err(ConfigError::InvalidSetting(String::from(
                "the pool size is 0; give at least 1 client to keep connected",
            )));
        }
        self.connect.validate()?;
        self.retry.validate()
    }
}

/// What a pool released when it closed (and while it ran).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PoolAudit {
    /// Clients connected over the pool's life.
    pub connected: u64,
    /// Clients closed: unhealthy ones replaced, and all at close.
    pub clients_closed: u64,
    /// Clients closed because their session closed or their leader changed.
    pub unhealthy: u64,
    /// Connect attempts that failed (and were retried or given up).
    pub failed_attempts: u64,
    /// Everything the pool's clients and attempts released.
    pub released: Released,
    /// Clients still checked out when the pool closed: each closes when its
    /// holder drops it.
    pub still_checked_out: usize,
}

/// A pooled client and the leader it connected to.
struct Pooled<D: Driver, C: Cleanup> {
    client: Client<D, C>,
    leader: i32,
}

struct Inner<D: Driver, C: Cleanup> {
    shelf: Shelf<Pooled<D, C>>,
    driver: D,
    config: PoolConfig,
    stop: AtomicBool,
    /// Clients alive: idle, checked out, or being handed over.
    alive: AtomicU64,
    audit: Mutex<PoolAudit>,
    observer: Arc<dyn Observer>,
}

impl<D: Driver, C: Cleanup> Inner<D, C> {
    fn audit(&self) -> std::sync::MutexGuard<'_, PoolAudit> {
        self.audit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes a client the pool no longer wants, and accounts for it.
    fn close_client(&self, pooled: Pooled<D, C>) {
        let released = match pooled.client.close() {
            Ok(released) => released,
            Err(error) => error.released,
        };
        self.observer.released(&released);
        // ORDERING: Relaxed: a count for the connector's "how many more",
        // not a synchronisation point.
        self.alive.fetch_sub(1, Relaxed);
        let mut audit = self.audit();
        audit.clients_closed += 1;
        audit.released.absorb(released);
    }

    fn healthy(pooled: &mut Pooled<D, C>) -> bool {
        // Follow events first (a NewLeaderEvent, a CLOSED session).
        pooled.client.poll_egress(|_| {});
        pooled.client.is_open() && pooled.client.leader_member_id() == pooled.leader
    }

    /// The background connector: keeps `size` clients alive.
    fn run_connector(&self) {
        while !self.stop.load(Acquire) {
            if self.alive.load(Relaxed) as usize >= self.config.size {
                thread::sleep(Duration::from_millis(1));
                continue;
            }
            if let Some(client) = self.connect_one() {
                let leader = client.leader_member_id();
                self.alive.fetch_add(1, Relaxed);
                self.audit().connected += 1;
                if let Err(pooled) = self.shelf.add(Pooled { client, leader }) {
                    self.close_client(pooled);
                }
            }
        }
    }

    /// One client, retrying; gives up (releasing everything) when the pool
    /// stops. Polls by hand so that a stop is seen between polls.
    fn connect_one(&self) -> Option<Client<D, C>> {
        // The retry reports each start and failure to the pool's observer.
        let (mut retry, mut attempt) = match Retry::<D, C>::start_observed(
            self.config.retry.clone(),
            self.driver.clone(),
            self.config.connect.clone(),
            Box::new(self.observer.clone()),
        ) {
            Ok(started) => started,
            Err(_) => {
                // A configuration error: nothing was created; try later.
                self.audit().failed_attempts += 1;
                thread::sleep(self.config.retry.max_backoff);
                return None;
            }
        };
        let mut idle = Backoff::default();
        loop {
            let started = Instant::now();
            match self.drive(attempt, &mut idle) {
                Some(Ok(client)) => {
                    self.observer.connected(started.elapsed());
                    return Some(client);
                }
                Some(Err(failed)) => {
                    self.audit().failed_attempts += 1;
                    self.audit().released.absorb(failed.released.clone());
                    attempt = match retry.next(failed) {
                        Ok(next) => next,
                        Err(_) => return None,
                    };
                }
                None => return None,
            }
        }
    }

    /// Polls an attempt to its end; `None` if the pool stopped first (the
    /// attempt is dropped, which releases it).
    fn drive(
        &self,
        mut attempt: AsyncConnect<Pending, D, C>,
        idle: &mut Backoff,
    ) -> Option<Result<Client<D, C>, Failed>> {
        use crate::connect::Idle;
        let mut subscribed: AsyncConnect<Subscribed, D, C> = loop {
            if self.stop.load(Acquire) {
                return None;
            }
            match attempt.poll() {
                Progress::Pending(same) => attempt = same,
                Progress::Ready(next) => break next,
                Progress::Failed(failed) => return Some(Err(failed)),
            }
            idle.idle(false);
        };
        loop {
            if self.stop.load(Acquire) {
                return None;
            }
            match subscribed.poll() {
                Progress::Pending(same) => subscribed = same,
                Progress::Ready(client) => return Some(Ok(client)),
                Progress::Failed(failed) => return Some(Err(failed)),
            }
            idle.idle(false);
        }
    }
}

/// A bounded pool of connected cluster clients. See the [module](self).
pub struct Pool<D: Driver, C: Cleanup = Leakless> {
    inner: Arc<Inner<D, C>>,
    connector: Mutex<Option<thread::JoinHandle<()>>>,
}

impl<D, C> Pool<D, C>
where
    D: Driver + Send + Sync + 'static,
    D::Subscription: Send,
    D::Publication: Send,
    C: Cleanup,
{
    /// Checks `config` ([`PoolConfig::validate`]) and starts the pool: a
    /// background thread connects `config.size` clients.
    pub fn start(driver: D, config: PoolConfig) -> Result<Self, PoolError> {
        Self::start_observed(driver, config, Arc::new(()))
    }

    /// [`Pool::start`], telling `observer` about every connect and release.
    pub fn start_observed(
        driver: D,
        config: PoolConfig,
        observer: Arc<dyn Observer>,
    ) -> Result<Self, PoolError> {
        config.validate().map_err(PoolError::Config)?;
        let inner = Arc::new(Inner {
            shelf: Shelf::new(),
            driver,
            config,
            stop: AtomicBool::new(false),
            alive: AtomicU64::new(0),
            audit: Mutex::new(PoolAudit::default()),
            observer,
        });
        let connector = {
            let inner = inner.clone();
            thread::Builder::new()
                .name(String::from("leakless-pool"))
                .spawn(move || inner.run_connector())
                .ok()
        };
        Ok(Pool {
            inner,
            connector: Mutex::new(connector),
        })
    }

    /// Lends a healthy client, waiting up to `timeout` for one. A client
    /// whose session closed or whose leader changed is closed (the pool
    /// connects a replacement) and the next one is tried.
    pub fn check_out(&self, timeout: Duration) -> Result<PooledClient<D, C>, PoolError> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.inner.shelf.is_open() {
                return Err(PoolError::Closed);
            }
            if let Some(mut pooled) = self.inner.shelf.take() {
                if Inner::healthy(&mut pooled) {
                    return Ok(PooledClient {
                        pooled: Some(pooled),
                        inner: self.inner.clone(),
                    });
                }
                self.inner.shelf.discard();
                self.inner.audit().unhealthy += 1;
                self.inner.close_client(pooled);
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(PoolError::Timeout(timeout));
            }
            self.inner.shelf.wait(deadline - now);
        }
    }

    /// Idle clients and clients checked out.
    pub fn counts(&self) -> (usize, usize) {
        self.inner.shelf.counts()
    }

    /// Closes the pool: stops connecting (an attempt in progress is
    /// released), closes every idle client, and returns the audit. Clients
    /// still checked out close when dropped; the audit counts them.
    pub fn close(&self) -> PoolAudit {
        let still_out = self.shut_down();
        let mut audit = self.inner.audit().clone();
        audit.still_checked_out = still_out;
        audit
    }
}

impl<D: Driver, C: Cleanup> Pool<D, C> {
    /// Stops the connector, closes the shelf and every idle client; returns
    /// how many clients are still checked out. Idempotent.
    fn shut_down(&self) -> usize {
        self.inner.stop.store(true, Release);
        let (idle, still_out) = self.inner.shelf.close();
        for pooled in idle {
            self.inner.close_client(pooled);
        }
        // The connector closes a client it finishes after the shelf closed.
        let connector = self
            .connector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(connector) = connector {
            let _ = connector.join();
        }
        still_out
    }
}

impl<D: Driver, C: Cleanup> Drop for Pool<D, C> {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl<D: Driver, C: Cleanup> std::fmt::Debug for Pool<D, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (idle, out) = self.inner.shelf.counts();
        f.debug_struct("Pool")
            .field("policy", &C::NAME)
            .field("size", &self.inner.config.size)
            .field("idle", &idle)
            .field("checked_out", &out)
            .field("open", &self.inner.shelf.is_open())
            .finish_non_exhaustive()
    }
}

/// A client lent by a [`Pool`]; it goes back on drop (or is closed, if the
/// pool closed meanwhile or its session did).
pub struct PooledClient<D: Driver, C: Cleanup = Leakless> {
    pooled: Option<Pooled<D, C>>,
    inner: Arc<Inner<D, C>>,
}

impl<D: Driver, C: Cleanup> std::fmt::Debug for PooledClient<D, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("PooledClient");
        if let Some(pooled) = &self.pooled {
            debug
                .field("session_id", &pooled.client.session_id())
                .field("leader_member_id", &pooled.client.leader_member_id());
        }
        debug.finish_non_exhaustive()
    }
}

impl<D: Driver, C: Cleanup> Deref for PooledClient<D, C> {
    type Target = Client<D, C>;
    fn deref(&self) -> &Client<D, C> {
        match &self.pooled {
            Some(pooled) => &pooled.client,
            None => unreachable!("a pooled client is only emptied by its drop"),
        }
    }
}

impl<D: Driver, C: Cleanup> DerefMut for PooledClient<D, C> {
    fn deref_mut(&mut self) -> &mut Client<D, C> {
        match &mut self.pooled {
            Some(pooled) => &mut pooled.client,
            None => unreachable!("a pooled client is only emptied by its drop"),
        }
    }
}

impl<D: Driver, C: Cleanup> Drop for PooledClient<D, C> {
    fn drop(&mut self) {
        let Some(pooled) = self.pooled.take() else {
            return;
        };
        if !pooled.client.is_open() {
            self.inner.shelf.discard();
            self.inner.audit().unhealthy += 1;
            self.inner.close_client(pooled);
            return;
        }
        if let Err(pooled) = self.inner.shelf.put_back(pooled) {
            // The pool closed first: the check-in closes the client.
            self.inner.close_client(pooled);
        }
    }
}
