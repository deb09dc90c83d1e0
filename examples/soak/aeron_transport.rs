//! The soak on a real Aeron media driver (feature `aeron`): the driver is
//! held for a creation latency at the start of each attempt, so adds finish
//! around the deadline, as they do on a busy driver.

use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use leakless::aeron::testing::{Responder, SteppedDriver, driver_counts, eventually};
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

pub fn run<C: Cleanup>(args: &Args, progress: &ProgressBar) -> Result<Outcome, AeronError> {
    progress.set_message(format!("{} (aeron)", C::NAME));
    let media = SteppedDriver::launch()?;
    let _responder = Responder::start(&media, "aeron:ipc", INGRESS_STREAM)?;
    let driver = AeronDriver::connect(media.dir())?;
    let observer = media.client()?;
    // One publication on the egress stream links every live subscription
    // on it, so each has a subscriber-position counter to count.
    let _probe = observer
        .async_add_publication(c"aeron:ipc", EGRESS_STREAM)
        .and_then(|poller| poller.poll_blocking(Duration::from_secs(5)))?;
    let live = || {
        driver_counts(&observer, EGRESS_STREAM).subscriptions
            + driver_counts(&observer, INGRESS_STREAM).publications
    };
    let mut dice = Dice(args.seed | 1);
    let (min, max) = (args.latency_ms.start, args.latency_ms.end);
    let span = (max - min).as_nanos() as u64;
    let sample_every = (args.attempts / 1_000).max(1);
    let mut outcome = Outcome::new(C::NAME);
    let started = Instant::now();
    while outcome.attempts < args.attempts {
        outcome.attempts += 1;
        // All attempts publish to the same ingress channel, so the driver
        // shares one IPC publication between them: leaked publications show
        // as at most one publisher-limit counter (the tests count them one
        // by one); leaked subscriptions are counted exactly.
        let config = ConnectConfig::new("aeron:ipc", EGRESS_STREAM)
            .member(0, "aeron:ipc")
            .ingress_stream_id(INGRESS_STREAM)
            .timeout(args.deadline_ms);
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
    let fence = observer
        .async_add_subscription(c"aeron:ipc", FENCE_STREAM, Handlers::NONE, Handlers::NONE)
        .and_then(|poller| poller.poll_blocking(Duration::from_secs(5)))?;
    std::thread::sleep(leakless::aeron::testing::TIMER_INTERVAL * 20);
    outcome.elapsed = started.elapsed();
    let egress = driver_counts(&observer, EGRESS_STREAM);
    let ingress = driver_counts(&observer, INGRESS_STREAM);
    outcome.ledger.live_subscriptions = egress.subscriptions;
    outcome.ledger.live_publications = ingress.publications;
    outcome.ledger.late_closes = driver.add_counts().closed_late;
    outcome.ledger.peak_live = outcome.ledger.peak_live.max(outcome.ledger.live());
    outcome
        .samples
        .push((outcome.attempts, outcome.ledger.live()));
    outcome.rss_after_kib = rss::kib();
    drop(fence);
    Ok(outcome)
}
