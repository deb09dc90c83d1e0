//! The soak on a real Aeron media driver (feature `aeron`): the driver is
//! held for a creation latency at the start of each attempt, so adds finish
//! around the deadline, as they do on a busy driver.

use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use leakless::aeron::testing::{
    Responder, SteppedDriver, driver_counts, eventually, ingress_endpoint,
};
use leakless::aeron::{AeronDriver, AeronError};
use leakless::connect::{AsyncConnect, Cleanup, ConnectConfig, Pending, Progress, Subscribed};
use rusteron_client::Handlers;

use crate::cli::Args;
use crate::rss;
use crate::workload::Outcome;

const INGRESS_STREAM: i32 = 101;
const EGRESS_STREAM: i32 = 102;
/// A stream nothing else uses: a subscription on it orders the driver's work
/// without linking to (and holding open) any publication that is counted.
const FENCE_STREAM: i32 = 999;

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
}

/// Starts the Java cluster a `JavaCluster` peer names, once for the whole
/// soak; keep the returned value alive for it. Nothing for the responder,
/// which each run starts on its own media driver.
pub fn start_cluster(peer: Peer) -> Result<Box<dyn std::any::Any>, AeronError> {
    match peer {
        Peer::Responder => Ok(Box::new(())),
        #[cfg(feature = "java-cluster")]
        Peer::JavaCluster(members) => Ok(Box::new(leakless::aeron::testing::JavaCluster::start(
            members,
        )?)),
        #[cfg(not(feature = "java-cluster"))]
        Peer::JavaCluster(_) => Err(AeronError::Client(String::from(
            "built without the java-cluster feature",
        ))),
    }
}

/// Starts the responder on `media` for a `Responder` peer; keep the
/// returned value alive for the run.
fn start_responder(peer: Peer, media: &SteppedDriver) -> Result<Option<Responder>, AeronError> {
    match peer {
        Peer::Responder => Ok(Some(Responder::start(media, "aeron:ipc", INGRESS_STREAM)?)),
        Peer::JavaCluster(_) => Ok(None),
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
    }
    .ingress_stream_id(INGRESS_STREAM)
    .timeout(deadline)
}

pub fn run<C: Cleanup>(
    args: &Args,
    progress: &ProgressBar,
    peer: Peer,
) -> Result<Outcome, AeronError> {
    progress.set_message(format!("{} ({peer:?})", C::NAME));
    let media = SteppedDriver::launch()?;
    let _responder = start_responder(peer, &media)?;
    let driver = AeronDriver::connect(media.dir())?;
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
        Peer::JavaCluster(_) => driver.ledger().live(),
    };
    let mut dice = Dice(args.seed | 1);
    let (min, max) = (args.latency_ms.start, args.latency_ms.end);
    let span = (max - min).as_nanos() as u64;
    let sample_every = (args.attempts / 1_000).max(1);
    let mut outcome = Outcome::new(C::NAME);
    let started = Instant::now();
    while outcome.attempts < args.attempts {
        outcome.attempts += 1;
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
    // Every add resolved (created, failed or cancelled), then a fence: the
    // driver has processed everything before it. What is live now stays.
    eventually(Duration::from_secs(10), || driver.in_flight() == 0);
    // Publications closed lately linger in the client (AeronOptions) for a
    // second: wait for them to close too.
    eventually(Duration::from_secs(10), || driver.lingering() == 0);
    let fence = observer
        .async_add_subscription(c"aeron:ipc", FENCE_STREAM, Handlers::NONE, Handlers::NONE)
        .and_then(|poller| poller.poll_blocking(Duration::from_secs(5)))?;
    std::thread::sleep(leakless::aeron::testing::TIMER_INTERVAL * 20);
    outcome.elapsed = started.elapsed();
    match peer {
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
