//! The embedded simulation: a media driver and a cluster in this process,
//! with fault injection. The default transport: nothing to install.
//!
//! - The **driver** runs its own conductor thread and creates
//!   subscriptions and publications in the order they were asked for, each
//!   after a creation latency, failing or panicking as the
//!   [`FaultProfile`] says. It can be paused to hold creations in flight.
//! - The **cluster** has N members and a leader: it answers a connect
//!   request with OK, REDIRECT from a follower, a challenge when
//!   credentials are configured, AUTHENTICATION_REJECTED for bad ones,
//!   ERROR when told to refuse, or silence (a lost reply); it echoes
//!   application messages and can change leader (NewLeaderEvent).
//! - The **ledger** counts live, created and closed resources, the peak,
//!   and double closes.
//!
//! ```
//! # leakless::doc_std(|| {
//! use leakless::connect::connect;
//! use leakless::sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
//! let mut client = connect(sim.driver(), sim.connect_config()).unwrap();
//! client.offer(b"hello").unwrap();
//! let mut echoed = Vec::new();
//! while echoed.is_empty() {
//!     client.poll_egress(|payload| echoed.extend_from_slice(payload));
//! }
//! assert_eq!(echoed, b"hello");
//! client.close().unwrap();
//! assert_eq!(sim.ledger().live(), 0);
//! # });
//! ```

mod cluster;
mod driver;
mod faults;

use std::time::{Duration, Instant};

pub use crate::audit::{Ledger, LedgerSnapshot};
pub use driver::{SimDriver, SimPublication, SimSubscription};
pub use faults::FaultProfile;

use crate::connect::ConnectConfig;
use crate::sync::os::{Arc, Mutex, thread};

/// How the simulated cluster and driver behave.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Cluster members (at least 1; [`SimConfig::validate`]).
    pub members: usize,
    /// The initial leader.
    pub leader: usize,
    /// Injected faults and latency.
    pub faults: FaultProfile,
    /// If set, the cluster authenticates: a connect request with wrong
    /// credentials is rejected; otherwise the client is challenged, and its
    /// answer must carry these credentials.
    pub credentials: Option<Vec<u8>>,
    /// If set, the leader answers every connect request with ERROR and this
    /// detail.
    pub refuse_with: Option<String>,
    /// A session the cluster has not heard from for this long is closed
    /// (Aeron's session timeout; default 10 s).
    pub session_timeout: Duration,
}

impl Default for SimConfig {
    /// Three members, member 0 leads, no faults, no authentication, a 10 s
    /// session timeout.
    fn default() -> Self {
        Self {
            members: 3,
            leader: 0,
            faults: FaultProfile::default(),
            credentials: None,
            refuse_with: None,
            session_timeout: Duration::from_secs(10),
        }
    }
}

/// The simulation's clock: the one the attempts' deadlines and the
/// cluster's session timeout are read from. Real time, unless a test froze
/// it ([`Sim::freeze_clock`]); then it moves only when told
/// ([`Sim::advance_clock`]), so a timeout happens exactly when the test
/// says, however loaded the machine. Creation latencies stay in real time.
#[derive(Debug, Default)]
pub(crate) struct Clock(Mutex<Option<Instant>>);

impl Clock {
    pub(crate) fn now(&self) -> Instant {
        let frozen = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        frozen.unwrap_or_else(Instant::now)
    }

    fn freeze(&self) {
        let mut frozen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        frozen.get_or_insert_with(Instant::now);
    }

    fn advance(&self, by: Duration) {
        let mut frozen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = frozen.unwrap_or_else(Instant::now);
        *frozen = Some(now.checked_add(by).unwrap_or(now));
    }
}

/// See [`Sim::expire_when_quiet`].
#[derive(Debug)]
pub struct ExpireWhenQuiet<'a> {
    sim: &'a Sim,
    quiet: u32,
}

impl crate::connect::Idle for ExpireWhenQuiet<'_> {
    fn idle(&mut self, progressed: bool) {
        // Quiet polls before the clock jumps: more than the steps a state
        // takes without the driver (send, read), so nothing is cut short.
        const QUIET_POLLS: u32 = 64;
        // In flight and running: the driver will move things on. Paused,
        // nothing moves until the test resumes it.
        let waiting = self.sim.in_flight() > 0 && !self.sim.driver.shared.is_paused();
        if progressed || waiting {
            self.quiet = 0;
        } else {
            self.quiet += 1;
            if self.quiet >= QUIET_POLLS {
                self.sim.advance_clock(Duration::from_secs(3600));
                self.quiet = 0;
            }
        }
        thread::yield_now();
    }
}

/// What the simulated driver can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// An injected creation failure.
    #[error("simulated creation failure on {channel}")]
    CreationFailed {
        /// The channel of the failed creation.
        channel: String,
    },
    /// The simulation was stopped.
    #[error("the simulated driver has stopped")]
    Stopped,
    /// A member the simulated cluster does not have: an election of it, or
    /// a publication to a channel that names none.
    #[error("the simulated cluster has no member {member}: its members are 0 to {} (channels sim:member-0 to sim:member-{})", .members - 1, .members - 1)]
    NoSuchMember {
        /// The member (or channel) asked for.
        member: String,
        /// How many members the cluster has.
        members: usize,
    },
    /// A simulation configuration that cannot work; nothing was started.
    #[error("invalid simulation configuration: {0}")]
    InvalidConfig(String),
}

impl SimConfig {
    /// Checks the configuration; [`Sim::start`] does this first. Nothing
    /// is adjusted: each error names the field and what to give instead.
    pub fn validate(&self) -> Result<(), SimError> {
        let invalid = |why: String| Err(SimError::InvalidConfig(why));
        if self.members == 0 {
            return invalid(String::from(
                "members is 0; a cluster has at least 1 member",
            ));
        }
        if self.leader >= self.members {
            return invalid(format!(
                "leader is {}, but the members are 0 to {}; give one of them",
                self.leader,
                self.members - 1
            ));
        }
        let f = &self.faults;
        for (name, rate) in [
            ("creation_failure_rate", f.creation_failure_rate),
            ("creator_panic_rate", f.creator_panic_rate),
            ("close_panic_rate", f.close_panic_rate),
            ("never_connect_rate", f.never_connect_rate),
            ("lost_reply_rate", f.lost_reply_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return invalid(format!(
                    "faults.{name} is {rate}; give a chance from 0 to 1"
                ));
            }
        }
        if f.creation_latency.start > f.creation_latency.end {
            return invalid(format!(
                "faults.creation_latency {:?} runs backwards; give MIN..MAX with MIN <= MAX",
                f.creation_latency
            ));
        }
        if self.session_timeout.is_zero() {
            return invalid(String::from(
                "session_timeout is zero; give a positive timeout (Aeron's default is 10 s)",
            ));
        }
        Ok(())
    }
}

/// The channel of member `id`'s ingress in the simulation.
pub fn member_channel(id: usize) -> String {
    format!("sim:member-{id}")
}

/// The member a simulation channel points to.
fn member_index(channel: &str) -> Option<usize> {
    channel.strip_prefix("sim:member-")?.parse().ok()
}

/// A running simulation: the driver's conductor thread and the cluster.
/// Dropping it stops the conductor; creations not yet processed are
/// abandoned (their requesters learn so).
pub struct Sim {
    driver: SimDriver,
    conductor: Option<thread::JoinHandle<()>>,
}

impl Sim {
    /// Checks `config` ([`SimConfig::validate`]) and starts the conductor
    /// thread.
    pub fn start(config: SimConfig) -> Result<Self, SimError> {
        config.validate()?;
        let shared = Arc::new(driver::Shared::new(&config));
        let conductor = {
            let shared = shared.clone();
            thread::Builder::new()
                .name(String::from("sim-conductor"))
                .spawn(move || shared.run_conductor())
                .ok()
        };
        let driver = SimDriver { shared };
        if conductor.is_none() {
            // No thread: nothing will ever be created; fail creations fast.
            driver.shared.shutdown();
        }
        Ok(Sim { driver, conductor })
    }

    /// Stops the simulation's clock (the one deadlines and session
    /// timeouts are read from) where it is; it then moves only by
    /// [`advance_clock`](Self::advance_clock). For tests that must not
    /// depend on how fast a loaded machine runs.
    pub fn freeze_clock(&self) {
        self.driver.shared.clock.freeze();
    }

    /// Moves the simulation's clock forward by `by` (freezing it first if
    /// it runs): deadlines and session timeouts that fall in between pass.
    pub fn advance_clock(&self, by: Duration) {
        self.driver.shared.clock.advance(by);
    }

    /// An [`Idle`](crate::connect::Idle) for connects in tests: it yields
    /// between polls, and once the simulation has been quiet (nothing in
    /// flight, no progress) for a while, it advances the (frozen) clock by
    /// an hour. A connect driven with it goes as far as the simulation lets
    /// it, then its deadline passes: the state a timeout catches does not
    /// depend on how loaded the machine is. Freezes the clock. (Quiet: no
    /// progress, and nothing in flight or the driver paused.)
    pub fn expire_when_quiet(&self) -> ExpireWhenQuiet<'_> {
        self.freeze_clock();
        ExpireWhenQuiet {
            sim: self,
            quiet: 0,
        }
    }

    /// A handle to the driver, for connects.
    pub fn driver(&self) -> SimDriver {
        self.driver.clone()
    }

    /// A connect configuration for this cluster: egress `sim:egress` stream
    /// 102, one ingress endpoint per member, a 10 s timeout (long: tests give
    /// a short one where they want a timeout, or freeze the clock).
    pub fn connect_config(&self) -> ConnectConfig {
        let members = self.lock_cluster().members();
        (0..members).fold(
            ConnectConfig::new("sim:egress", 102).timeout(Duration::from_secs(10)),
            |config, id| config.member(id as i32, member_channel(id)),
        )
    }

    /// The ledger's counts now.
    ///
    /// Creations still queued in the simulated driver are not counted yet
    /// (for example a subscription a close has just cancelled, which the
    /// driver creates and then closes late): for the final count, call
    /// [`settle`](Self::settle) first, or use
    /// [`settled_ledger`](Self::settled_ledger).
    pub fn ledger(&self) -> LedgerSnapshot {
        self.driver.shared.ledger.snapshot()
    }

    /// Holds every creation in flight until [`resume`](Self::resume).
    pub fn pause(&self) {
        self.driver.shared.pause(true);
    }

    /// Lets held creations proceed.
    pub fn resume(&self) {
        self.driver.shared.pause(false);
    }

    /// Blocks until every creation asked for so far has been processed
    /// (returns at once while paused).
    pub fn settle(&self) {
        self.driver.shared.settle();
    }

    /// Creations asked for and not yet processed.
    pub fn in_flight(&self) -> usize {
        self.driver.shared.queued()
    }

    /// Elects `member` leader: a new term, and a NewLeaderEvent to every
    /// open session.
    ///
    /// A member the cluster does not have is [`SimError::NoSuchMember`];
    /// nothing changes then.
    pub fn elect(&self, member: usize) -> Result<(), SimError> {
        let outgoing = {
            let mut cluster = self.lock_cluster();
            let members = cluster.members();
            if member >= members {
                return Err(SimError::NoSuchMember {
                    member: member.to_string(),
                    members,
                });
            }
            cluster.elect(member)
        };
        self.driver.shared.deliver(outgoing);
        Ok(())
    }

    /// The current leader.
    pub fn leader(&self) -> usize {
        self.lock_cluster().leader
    }

    /// Waits until nothing is queued in the driver, then reads the ledger:
    /// what is live then stays live.
    pub fn settled_ledger(&self) -> LedgerSnapshot {
        self.settle();
        self.ledger()
    }

    /// Sessions open in the cluster.
    pub fn open_sessions(&self) -> usize {
        self.lock_cluster().sessions.len()
    }

    /// Sessions the clients closed (SessionCloseRequest).
    pub fn closed_sessions(&self) -> u64 {
        self.lock_cluster().sessions_closed
    }

    fn lock_cluster(&self) -> std::sync::MutexGuard<'_, cluster::Cluster> {
        self.driver
            .shared
            .cluster
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.driver.shared.shutdown();
        if let Some(conductor) = self.conductor.take() {
            let _ = conductor.join();
        }
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("ledger", &self.ledger())
            .finish()
    }
}
