//! The soak on a real Aeron media driver (feature `aeron`): the driver is
//! held for a creation latency at the start of each attempt, so adds finish
//! around the deadline, as they do on a busy driver.

use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use leakless::aeron::testing::{
    Responder, SteppedDriver, driver_counts, eventually, ingress_endpoint, receive_channels,
};
use leakless::aeron::{AeronDriver, AeronError, AeronOptions};
use leakless::connect::{
    AsyncConnect, Backoff, Cleanup, ConnectConfig, Pending, Progress, Subscribed, connect_with,
};
use rusteron_client::Handlers;

use crate::cli::Args;
use crate::rss;
use crate::workload::Outcome;

const INGRESS_STREAM: i32 = 101;
const EGRESS_STREAM: i32 = 102;
/// A stream nothing else uses: a subscription on it orders the driver's work
/// without linking to (and holding open) any publication that is counted.
const FENCE_STREAM: i32 = 999;
/// The deadline of the connects that probe for recovery after a heal.
const PROBE_DEADLINE: Duration = Duration::from_secs(5);
/// How long after a heal the probes may take to connect.
#[cfg(feature = "java-cluster")]
const RECOVERY_BOUND: Duration = Duration::from_secs(60);

/// xorshift64*, for the latency draws.
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

/// Polls one state until it moves on or fails, letting the held driver run
/// once `release_at` has passed.
fn drive<Here, Next>(
    mut here: Here,
    poll: fn(Here) -> Progress<Here, Next>,
    media: &SteppedDriver,
    release_at: Instant,
) -> Result<Next, leakless::connect::Failed> {
    loop {
        if Instant::now() >= release_at {
            media.release();
        }
        match poll(here) {
            Progress::Pending(same) => here = same,
            Progress::Ready(next) => return Ok(next),
            Progress::Failed(failed) => return Err(failed),
        }
        std::thread::yield_now();
    }
}

/// The layout of the Java nodes prepared (the current one without the
/// java-cluster feature, where there are none).
fn java_layout() -> leakless::protocol::Layout {
    #[cfg(feature = "java-cluster")]
    return leakless::aeron::testing::java_layout();
    #[cfg(not(feature = "java-cluster"))]
    leakless::protocol::Layout::Current
}

/// Who answers the connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// leakless's one-node responder, over IPC.
    Responder,
    /// A real Java Aeron Cluster of this many nodes on localhost, over UDP
    /// (feature `java-cluster`; the version interop/java-cluster/prepare.sh
    /// built).
    JavaCluster(usize),
    /// Three Java nodes each on a host of the network lab, the client on
    /// its own, with links cut and healed and nodes killed and restarted
    /// during each run (`--faults network`; interop/java-cluster/netlab.sh).
    NetworkLab,
}

/// The cluster a soak runs against, kept for the whole soak (both
/// policies, every round, the same nodes), and the lab it runs in.
#[derive(Default)]
pub struct Cluster {
    #[cfg(feature = "java-cluster")]
    java: Option<leakless::aeron::testing::JavaCluster>,
    #[cfg(feature = "java-cluster")]
    lab: Option<leakless::aeron::testing::NetLab>,
}

/// Starts the Java cluster a `JavaCluster` or `NetworkLab` peer names, once
/// for the whole soak. Nothing for the responder, which each run starts on
/// its own media driver.
pub fn start_cluster(peer: Peer) -> Result<Cluster, AeronError> {
    match peer {
        Peer::Responder => Ok(Cluster::default()),
        #[cfg(feature = "java-cluster")]
        Peer::JavaCluster(members) => Ok(Cluster {
            java: Some(leakless::aeron::testing::JavaCluster::start(members)?),
            lab: None,
        }),
        #[cfg(feature = "java-cluster")]
        Peer::NetworkLab => {
            use leakless::aeron::testing::{JavaCluster, LAB_MEMBERS, NetLab};
            let lab = NetLab::open()?;
            let java = JavaCluster::start_placed(LAB_MEMBERS, lab.placement())?;
            Ok(Cluster {
                java: Some(java),
                lab: Some(lab),
            })
        }
        #[cfg(not(feature = "java-cluster"))]
        Peer::JavaCluster(_) | Peer::NetworkLab => Err(AeronError::Client(String::from(
            "built without the java-cluster feature",
        ))),
    }
}

/// Starts the responder on `media` for a `Responder` peer; keep the
/// returned value alive for the run.
fn start_responder(peer: Peer, media: &SteppedDriver) -> Result<Option<Responder>, AeronError> {
    match peer {
        Peer::Responder => Ok(Some(Responder::start(media, "aeron:ipc", INGRESS_STREAM)?)),
        Peer::JavaCluster(_) | Peer::NetworkLab => Ok(None),
    }
}

/// The connect configuration for an attempt against `peer`.
fn peer_config(peer: Peer, deadline: Duration) -> ConnectConfig {
    match peer {
        // All attempts publish to the same ingress channel, so the driver
        // shares one IPC publication between them: leaked publications show
        // as at most one publisher-limit counter (the tests count them one
        // by one); leaked subscriptions are counted exactly.
        Peer::Responder => ConnectConfig::new("aeron:ipc", EGRESS_STREAM).member(0, "aeron:ipc"),
        // Each attempt's egress on an ephemeral port (`:0`), as Aeron's
        // own client does: a UDP endpoint whose last subscription just
        // closed stays CLOSING for a moment (an add on it fails with
        // "resource temporarily unavailable", Aeron #2068, #2124), and the
        // cluster's egress publication to a port just closed may still be
        // connected to the old endpoint.
        // Every member's ingress endpoint.
        Peer::JavaCluster(members) => (0..members).fold(
            ConnectConfig::new("aeron:udp?endpoint=localhost:0", EGRESS_STREAM)
                .layout(java_layout()),
            |config, member| {
                config.member(
                    member as i32,
                    ConnectConfig::endpoint_channel(&ingress_endpoint(member)),
                )
            },
        ),
        // The lab: the egress on the client host's address, each member
        // on its own host.
        #[cfg(feature = "java-cluster")]
        Peer::NetworkLab => {
            leakless::aeron::testing::NetLab::connect_config(EGRESS_STREAM).layout(java_layout())
        }
        // Never used: without the feature `start_cluster` refuses the lab.
        #[cfg(not(feature = "java-cluster"))]
        Peer::NetworkLab => ConnectConfig::new("aeron:ipc", EGRESS_STREAM),
    }
    .ingress_stream_id(INGRESS_STREAM)
    .timeout(deadline)
}

pub fn run<C: Cleanup>(
    args: &Args,
    progress: &ProgressBar,
    peer: Peer,
    cluster: &mut Cluster,
) -> Result<Outcome, AeronError> {
    progress.set_message(format!("{} ({peer:?})", C::NAME));
    let media = SteppedDriver::launch()?;
    let _responder = start_responder(peer, &media)?;
    let driver = AeronDriver::connect_with(
        media.dir(),
        AeronOptions {
            publication_linger: args.publication_linger_ms,
        },
    )?;
    let observer = media.client()?;
    // One publication on the egress stream links every live subscription
    // on it, so each has a subscriber-position counter to count.
    let _probe = observer
        .async_add_publication(c"aeron:ipc", EGRESS_STREAM)
        .and_then(|poller| poller.poll_blocking(Duration::from_secs(5)))?;
    // Against the responder, the media driver's own counters; against the
    // Java node (UDP, shared endpoints), the client's audit.
    let live = || match peer {
        Peer::Responder => {
            driver_counts(&observer, EGRESS_STREAM).subscriptions
                + driver_counts(&observer, INGRESS_STREAM).publications
        }
        // In the lab the client's driver holds only this client's
        // resources: a receive channel per egress subscription (each on an
        // ephemeral endpoint of its own), a publisher limit per ingress
        // channel (publications to the same member share one: a lower
        // bound).
        Peer::NetworkLab => {
            receive_channels(&observer) + driver_counts(&observer, INGRESS_STREAM).publications
        }
        Peer::JavaCluster(_) => driver.ledger().live(),
    };
    let mut dice = Dice(args.seed | 1);
    let (min, max) = (args.latency_ms.start, args.latency_ms.end);
    let span = (max - min).as_nanos() as u64;
    let sample_every = (args.attempts / 1_000).max(1);
    let mut outcome = Outcome::new(C::NAME);
    let mut faults = faults::Injector::new(args, peer);
    let started = Instant::now();
    while outcome.attempts < args.attempts {
        outcome.attempts += 1;
        // After a heal, the injector probes with connects of a generous
        // deadline until one connects: the network healed, the client
        // connects again (probes are not counted as the soak's attempts).
        let mut probe = || {
            connect_with::<_, C>(
                driver.clone(),
                peer_config(peer, PROBE_DEADLINE),
                &mut Backoff::default(),
            )
            .map(|client| {
                let _ = client.close();
            })
            .map_err(|failed| failed.to_string())
        };
        faults.step(
            outcome.attempts,
            &mut dice,
            cluster,
            &mut outcome,
            &mut probe,
        )?;
        let config = peer_config(peer, args.deadline_ms);
        let release_at = Instant::now() + min + Duration::from_nanos(dice.below(span));
        media.hold();
        let attempt_started = Instant::now();
        let Ok(attempt) = AsyncConnect::<Pending, _, C>::start(driver.clone(), config) else {
            // The soak's configuration is fixed and valid: starting cannot fail.
            unreachable!("the soak's aeron configuration is valid");
        };
        let result = drive(
            attempt,
            AsyncConnect::<Pending, _, C>::poll,
            &media,
            release_at,
        )
        .and_then(|subscribed| {
            drive(
                subscribed,
                AsyncConnect::<Subscribed, _, C>::poll,
                &media,
                release_at,
            )
        });
        media.release();
        outcome.record(result, attempt_started);
        progress.inc(1);
        if outcome.attempts % sample_every == 0 {
            let now = live();
            outcome.ledger.peak_live = outcome.ledger.peak_live.max(now);
            outcome.samples.push((outcome.attempts, now));
        }
    }
    faults.end(cluster)?;
    // Every add resolved (created, failed or cancelled), then a fence: the
    // driver has processed everything before it. What is live now stays.
    eventually(Duration::from_secs(10), || driver.in_flight() == 0);
    // Publications closed lately linger in the client
    // (`--publication-linger-ms`): wait for them to close too.
    eventually(args.publication_linger_ms + Duration::from_secs(10), || {
        driver.lingering() == 0
    });
    let fence = observer
        .async_add_subscription(c"aeron:ipc", FENCE_STREAM, Handlers::NONE, Handlers::NONE)
        .and_then(|poller| poller.poll_blocking(Duration::from_secs(5)))?;
    std::thread::sleep(leakless::aeron::testing::TIMER_INTERVAL * 20);
    outcome.elapsed = started.elapsed();
    match peer {
        Peer::NetworkLab => {
            // A receive channel whose subscription just closed lingers a
            // moment in the driver (CLOSING): give the count the time to
            // come down to what the audit says is live, then read it.
            eventually(Duration::from_secs(10), || {
                receive_channels(&observer) <= driver.ledger().live_subscriptions
            });
            outcome.ledger.live_subscriptions = receive_channels(&observer);
            outcome.ledger.live_publications =
                driver_counts(&observer, INGRESS_STREAM).publications;
        }
        Peer::Responder => {
            outcome.ledger.live_subscriptions =
                driver_counts(&observer, EGRESS_STREAM).subscriptions;
            outcome.ledger.live_publications =
                driver_counts(&observer, INGRESS_STREAM).publications;
        }
        Peer::JavaCluster(_) => {
            let audit = driver.ledger();
            outcome.ledger.live_subscriptions = audit.live_subscriptions;
            outcome.ledger.live_publications = audit.live_publications;
        }
    }
    outcome.ledger.late_closes = driver.add_counts().closed_late;
    outcome.ledger.peak_live = outcome.ledger.peak_live.max(outcome.ledger.live());
    outcome
        .samples
        .push((outcome.attempts, outcome.ledger.live()));
    outcome.rss_after_kib = rss::kib();
    drop(fence);
    Ok(outcome)
}

/// The network faults of `--faults network`: every so many attempts one
/// fault (a link cut, or a node killed), healed (or restarted) half that
/// many attempts later.
#[cfg(feature = "java-cluster")]
mod faults {
    use leakless::aeron::AeronError;
    use leakless::aeron::testing::{Host, LAB_MEMBERS};

    use std::time::Instant;

    use super::{Cluster, Dice, Peer, RECOVERY_BOUND};
    use crate::cli::Args;
    use crate::workload::{Outcome, Recovery};

    enum Fault {
        Cut(Host, Host),
        Killed(usize),
    }

    impl Fault {
        /// Which of the kinds that take turns this is.
        fn kind(&self) -> &'static str {
            match self {
                Fault::Cut(Host::Client, _) | Fault::Cut(_, Host::Client) => "client-member cut",
                Fault::Cut(..) => "member-member cut",
                Fault::Killed(_) => "kill and restart",
            }
        }
    }

    impl std::fmt::Display for Fault {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Fault::Cut(a, b) => write!(f, "cut {a} | {b}"),
                Fault::Killed(member) => write!(f, "killed member {member}"),
            }
        }
    }

    pub struct Injector {
        on: bool,
        every: u64,
        left: u64,
        /// Faults injected so far: the kinds take turns (a client–member
        /// cut, a member–member cut, a kill), starting where the seed says,
        /// so that every run of three or more faults has each kind.
        injected: u64,
        first_kind: u64,
        active: Option<(Fault, u64)>,
    }

    /// Says on standard error which heal was not followed by a connect,
    /// and what each node last wrote to its own.
    fn unrecovered(recovery: &Recovery, cluster: &Cluster) {
        eprintln!(
            "no connect within {RECOVERY_BOUND:?} after the heal of {} ({} probes; the last: {})",
            recovery.fault,
            recovery.probes,
            recovery.last_error.as_deref().unwrap_or("-")
        );
        for node in cluster.java.iter().flat_map(|java| java.running()) {
            let errors = node.errors();
            eprintln!(
                "  member {}: {}",
                node.member(),
                errors
                    .lines()
                    .rfind(|line| !line.trim_start().starts_with("at "))
                    .unwrap_or("(nothing on stderr)")
            );
        }
    }

    impl Injector {
        pub fn new(args: &Args, peer: Peer) -> Self {
            let rounds = args.rounds.min(args.attempts).max(1);
            let per_run = args.attempts / rounds;
            Injector {
                on: peer == Peer::NetworkLab,
                every: (per_run / (args.network_faults + 1)).max(2),
                left: args.network_faults,
                injected: 0,
                first_kind: args.seed % 3,
                active: None,
            }
        }

        /// Before attempt `attempt`: heal a fault that has lasted long
        /// enough, or inject the next one.
        pub fn step(
            &mut self,
            attempt: u64,
            dice: &mut Dice,
            cluster: &mut Cluster,
            outcome: &mut Outcome,
            probe: &mut dyn FnMut() -> Result<(), String>,
        ) -> Result<(), AeronError> {
            if !self.on {
                return Ok(());
            }
            if let Some((fault, heal_at)) = &self.active {
                if attempt >= *heal_at {
                    let mut recovery = Recovery {
                        kind: fault.kind(),
                        fault: fault.to_string(),
                        connected_after: None,
                        probes: 0,
                        last_error: None,
                    };
                    self.heal(cluster)?;
                    // Recovered: a probe connects within the bound.
                    let healed = Instant::now();
                    while healed.elapsed() < RECOVERY_BOUND {
                        recovery.probes += 1;
                        match probe() {
                            Ok(()) => {
                                recovery.connected_after = Some(healed.elapsed());
                                break;
                            }
                            Err(error) => recovery.last_error = Some(error),
                        }
                    }
                    if recovery.connected_after.is_none() {
                        unrecovered(&recovery, cluster);
                    }
                    outcome.recoveries.push(recovery);
                }
                return Ok(());
            }
            if self.left == 0 || attempt % self.every != 0 {
                return Ok(());
            }
            let (Some(java), Some(lab)) = (cluster.java.as_mut(), cluster.lab.as_ref()) else {
                return Ok(());
            };
            let member = dice.below(LAB_MEMBERS as u64) as usize;
            let kind = (self.first_kind + self.injected) % 3;
            self.injected += 1;
            let fault = match kind {
                0 => {
                    lab.cut(Host::Client, Host::Member(member))?;
                    Fault::Cut(Host::Client, Host::Member(member))
                }
                1 => {
                    let other = (member + 1 + dice.below(2) as usize) % LAB_MEMBERS;
                    lab.cut(Host::Member(member), Host::Member(other))?;
                    Fault::Cut(Host::Member(member), Host::Member(other))
                }
                _ => {
                    java.kill_keeping_directory(member);
                    Fault::Killed(member)
                }
            };
            self.left -= 1;
            outcome.faults += 1;
            self.active = Some((fault, attempt + (self.every / 2).max(1)));
            Ok(())
        }

        /// The run's end: a fault still active is healed (not counted: no
        /// attempt follows it).
        pub fn end(&mut self, cluster: &mut Cluster) -> Result<(), AeronError> {
            if self.active.is_some() {
                self.heal(cluster)?;
            }
            Ok(())
        }

        fn heal(&mut self, cluster: &mut Cluster) -> Result<(), AeronError> {
            match self.active.take() {
                Some((Fault::Cut(a, b), _)) => {
                    if let Some(lab) = cluster.lab.as_ref() {
                        lab.heal(a, b)?;
                    }
                }
                Some((Fault::Killed(member), _)) => {
                    if let Some(java) = cluster.java.as_mut() {
                        // Waits for the killed run's mark files to go stale.
                        java.restart(member)?;
                    }
                }
                None => {}
            }
            Ok(())
        }
    }
}

/// Without the java-cluster feature there is no lab: no faults.
#[cfg(not(feature = "java-cluster"))]
mod faults {
    use leakless::aeron::AeronError;

    use super::{Cluster, Dice, Peer};
    use crate::cli::Args;
    use crate::workload::Outcome;

    pub struct Injector;

    impl Injector {
        pub fn new(_: &Args, _: Peer) -> Self {
            Injector
        }
        pub fn step(
            &mut self,
            _: u64,
            _: &mut Dice,
            _: &mut Cluster,
            _: &mut Outcome,
            _: &mut dyn FnMut() -> Result<(), String>,
        ) -> Result<(), AeronError> {
            Ok(())
        }
        pub fn end(&mut self, _: &mut Cluster) -> Result<(), AeronError> {
            Ok(())
        }
    }
}
