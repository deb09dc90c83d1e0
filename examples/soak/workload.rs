//! The workload: clients connecting to the simulated cluster under faults.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use leakless::Driver;
use leakless::connect::{
    Backoff, Cleanup, Client, ConnectError, Failed, Released, StateName, connect_with,
};
use leakless::pool::{Pool, PoolConfig};
use leakless::sim::{FaultProfile, LedgerSnapshot, Sim, SimConfig};

use crate::cli::Args;
use crate::histogram::Histogram;
use crate::rss;

/// At most this many points per plotted series.
const SAMPLES: u64 = 1_000;

/// What one implementation did and left behind.
pub struct Outcome {
    pub name: &'static str,
    pub attempts: u64,
    pub connected: u64,
    pub timed_out: u64,
    /// Of those, timed out in Pending and in Subscribed.
    pub timed_out_in: [u64; 2],
    pub failed: u64,
    /// Network faults injected (`--faults network`).
    pub faults: u64,
    /// Each heal (a link healed or a node restarted): the fault, and how
    /// the probes after it went.
    pub recoveries: Vec<Recovery>,
    /// Released by the attempts themselves (late closes, forgotten creations).
    pub released: Released,
    /// The driver's ledger once every creation has finished.
    pub ledger: LedgerSnapshot,
    pub latency: Histogram,
    /// (attempts so far, live resources) along the run.
    pub samples: Vec<(u64, usize)>,
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    pub elapsed: Duration,
}

/// One heal of `--faults network` and the probes after it.
pub struct Recovery {
    /// The fault's kind: "client-member cut", "member-member cut" or "kill
    /// and restart".
    pub kind: &'static str,
    /// The fault healed, e.g. "cut client | member 1", "killed member 2".
    pub fault: String,
    /// When (after the heal) a probe connected; `None`: none within the bound.
    pub connected_after: Option<Duration>,
    /// Probes made, and the last failed one's error.
    pub probes: u32,
    pub last_error: Option<String>,
}

impl Outcome {
    /// Heals after which a probe connected.
    pub fn heals_then_connected(&self) -> usize {
        self.recoveries
            .iter()
            .filter(|recovery| recovery.connected_after.is_some())
            .count()
    }

    /// The longest a heal took to be followed by a connect.
    pub fn slowest_recovery(&self) -> Duration {
        self.recoveries
            .iter()
            .filter_map(|recovery| recovery.connected_after)
            .max()
            .unwrap_or_default()
    }

    /// An empty outcome for implementation `name`, with the memory reading
    /// taken now.
    pub fn new(name: &'static str) -> Self {
        Outcome {
            name,
            attempts: 0,
            connected: 0,
            timed_out: 0,
            timed_out_in: [0; 2],
            failed: 0,
            faults: 0,
            recoveries: Vec::new(),
            released: Released::default(),
            ledger: LedgerSnapshot::default(),
            latency: Histogram::new(),
            samples: {
                let mut samples = Vec::with_capacity(SAMPLES as usize + 2);
                samples.push((0, 0));
                samples
            },
            rss_before_kib: rss::kib(),
            rss_after_kib: None,
            elapsed: Duration::ZERO,
        }
    }

    /// Counts one attempt's result; a connected client sends one message
    /// and is closed. Returns whether retrying could not change it
    /// (connected, or an error that is not transient).
    pub fn record<D: Driver, C: Cleanup>(
        &mut self,
        result: Result<Client<D, C>, Failed>,
        started: Instant,
    ) -> bool {
        match result {
            Ok(mut client) => {
                self.latency.record(started.elapsed());
                self.connected += 1;
                let _ = client.offer(b"hello");
                match client.close() {
                    Ok(released) => self.released.absorb(released),
                    Err(error) => self.released.absorb(error.released),
                }
                true
            }
            Err(failed) => {
                match failed.error {
                    ConnectError::TimedOut { state, .. } => {
                        self.timed_out += 1;
                        match state {
                            StateName::Pending => self.timed_out_in[0] += 1,
                            _ => self.timed_out_in[1] += 1,
                        }
                    }
                    _ => self.failed += 1,
                }
                let transient = failed.error.is_transient();
                self.released.absorb(failed.released);
                !transient
            }
        }
    }

    /// Ends a run on the simulation: lets every creation still in flight
    /// finish (what is live then stays), and takes the final readings.
    fn finish(&mut self, sim: &Sim, started: Instant) {
        sim.settle();
        self.elapsed = started.elapsed();
        self.ledger = sim.ledger();
        self.samples.push((self.attempts, self.ledger.live()));
        self.rss_after_kib = rss::kib();
    }

    /// Adds the next round's outcome of the same implementation: counts
    /// add up, live resources left by each round add up (each round ran
    /// on its own driver), the next round's samples continue this one's
    /// series, and the memory growth is this policy's summed over rounds.
    pub fn absorb(&mut self, next: Outcome) {
        let (attempts, live) = (self.attempts, self.ledger.live());
        self.samples.extend(
            next.samples
                .iter()
                .skip(1)
                .map(|&(at, now)| (attempts + at, live + now)),
        );
        self.attempts += next.attempts;
        self.connected += next.connected;
        self.timed_out += next.timed_out;
        self.timed_out_in[0] += next.timed_out_in[0];
        self.timed_out_in[1] += next.timed_out_in[1];
        self.failed += next.failed;
        self.faults += next.faults;
        self.recoveries.extend(next.recoveries);
        self.released.absorb(next.released);
        let (mine, theirs) = (&mut self.ledger, next.ledger);
        mine.live_subscriptions += theirs.live_subscriptions;
        mine.live_publications += theirs.live_publications;
        mine.created_subscriptions += theirs.created_subscriptions;
        mine.created_publications += theirs.created_publications;
        mine.closed_subscriptions += theirs.closed_subscriptions;
        mine.closed_publications += theirs.closed_publications;
        mine.peak_live = mine.peak_live.max(live + theirs.peak_live);
        mine.double_closes += theirs.double_closes;
        mine.late_closes += theirs.late_closes;
        self.latency.absorb(&next.latency);
        // The process's memory is shared by both policies' runs: add up
        // this policy's own growth in each round.
        self.rss_after_kib = match (self.rss_after_kib, next.rss_before_kib, next.rss_after_kib) {
            (Some(after), Some(next_before), Some(next_after)) => {
                Some((after + next_after).saturating_sub(next_before))
            }
            _ => None,
        };
        self.elapsed += next.elapsed;
    }

    /// Closes that panicked (caught, and reported as close errors).
    pub fn close_panics(&self) -> usize {
        self.released
            .close_errors
            .iter()
            .filter(|error| error.starts_with("close panicked"))
            .count()
    }

    /// Late completions closed: by the driver side (the attempt had given
    /// up first) and by the attempts (creation had finished first).
    pub fn late_closes(&self) -> u64 {
        self.ledger.late_closes + self.released.closed_late as u64
    }
}

pub fn progress_bar(attempts: u64) -> ProgressBar {
    let bar = ProgressBar::new(attempts * 2);
    let style =
        ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} attempts ({eta} left)")
            .map(|style| style.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

/// How an attempt waits between polls: spin a little, yield a little,
/// then sleep, never longer than a fortieth of the deadline. (Yielding on
/// every poll, as the soak did, spent most of a million-attempt run in the
/// kernel: sched_yield on every poll of every attempt.)
pub fn idle(deadline: Duration) -> Backoff {
    Backoff::new(100, 10, deadline / 40)
}

/// xorshift64*, for the workload's own draws (leader changes).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, rate: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < rate
    }
}

pub fn faults(args: &Args) -> FaultProfile {
    FaultProfile {
        creation_latency: args.latency_ms.clone(),
        creation_failure_rate: args.fault_rate,
        creator_panic_rate: args.fault_rate / 2.0,
        close_panic_rate: args.fault_rate / 2.0,
        never_connect_rate: args.fault_rate / 2.0,
        lost_reply_rate: args.fault_rate,
        seed: args.seed,
    }
}

/// The simulation a run uses, the dice of its leader changes, and how often
/// it samples the live count.
fn simulation(args: &Args) -> (Sim, Dice, u64) {
    let sim = Sim::start(SimConfig {
        members: usize::from(args.members),
        faults: faults(args),
        ..SimConfig::default()
    })
    .expect("a valid simulation");
    let dice = Dice(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (sim, dice, (args.attempts / SAMPLES).max(1))
}

/// Runs the workload with cleanup policy `C`.
pub fn run<C: Cleanup>(args: &Args, progress: &ProgressBar) -> Outcome {
    if args.pool {
        return run_pool::<C>(args, progress);
    }
    progress.set_message(C::NAME);
    let members = usize::from(args.members);
    let (sim, mut dice, sample_every) = simulation(args);
    let base = sim.connect_config().timeout(args.deadline_ms);
    let mut outcome = Outcome::new(C::NAME);
    let started = Instant::now();

    'clients: while outcome.attempts < args.attempts {
        // One client: a single attempt, or with --retry, attempts until it
        // connects or meets an error that retrying cannot fix.
        loop {
            outcome.attempts += 1;
            if dice.chance(args.fault_rate / 10.0) {
                sim.elect((dice.next() % members as u64) as usize)
                    .expect("a member of the cluster");
            }
            // One egress channel per attempt, as Aeron's default
            // `endpoint=localhost:0` gives each subscription its own port.
            let mut config = base.clone();
            config.egress_channel = format!("sim:egress-{}", outcome.attempts);
            let attempt_started = Instant::now();
            let result = connect_with::<_, C>(sim.driver(), config, &mut idle(args.deadline_ms));
            let settled = outcome.record(result, attempt_started);
            progress.inc(1);
            if outcome.attempts % sample_every == 0 {
                outcome
                    .samples
                    .push((outcome.attempts, sim.ledger().live()));
            }
            if settled || !args.retry || outcome.attempts >= args.attempts {
                continue 'clients;
            }
        }
    }
    outcome.finish(&sim, started);
    outcome
}

/// `--pool`: attempts are check-outs from a pool of 4 that connects in the
/// background under the same faults; the pool's connects use policy `C`.
fn run_pool<C: Cleanup>(args: &Args, progress: &ProgressBar) -> Outcome {
    progress.set_message(format!("{} (pool)", C::NAME));
    let members = usize::from(args.members);
    let (sim, mut dice, sample_every) = simulation(args);
    let config = sim.connect_config().timeout(args.deadline_ms);
    let mut outcome = Outcome::new(C::NAME);
    let started = Instant::now();
    let pool: Pool<_, C> = Pool::start(sim.driver(), PoolConfig::new(4, config))
        .expect("the soak's pool configuration is valid");
    // A check-out waits up to 20 connect deadlines: the pool may be
    // reconnecting after a leader change.
    let wait = args.deadline_ms * 20;
    while outcome.attempts < args.attempts {
        outcome.attempts += 1;
        if dice.chance(args.fault_rate / 10.0) {
            sim.elect((dice.next() % members as u64) as usize)
                .expect("a member of the cluster");
        }
        let asked = Instant::now();
        match pool.check_out(wait) {
            Ok(mut client) => {
                outcome.latency.record(asked.elapsed());
                outcome.connected += 1;
                let _ = client.offer(b"hello");
            }
            Err(_) => outcome.timed_out += 1,
        }
        progress.inc(1);
        if outcome.attempts % sample_every == 0 {
            outcome
                .samples
                .push((outcome.attempts, sim.ledger().live()));
        }
    }
    let audit = pool.close();
    outcome.released = audit.released;
    outcome.failed = audit.failed_attempts;
    outcome.finish(&sim, started);
    outcome
}
